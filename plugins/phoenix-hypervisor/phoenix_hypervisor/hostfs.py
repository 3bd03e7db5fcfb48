"""Files on the node: paths by their place on the node, phoenix-owned files, and marked
blocks in others'.

Paths are the node's (``/etc/exports.d/phoenix.exports``): the Host decides where they land
(``/`` on a real node, the node directory for ``--host sim:DIR``), and a command argument
naming one goes through :meth:`NodeFiles.path` (``node_path``), never through a configuration
key (``pve_etc`` no longer moves the node's root).

A file phoenix owns (``/etc/exports.d/phoenix.exports``) is written whole. A file it does not
own (``/etc/samba/smb.conf``) is edited only between the two marker lines, everything outside
kept byte for byte.
"""

from __future__ import annotations

from phoenix_core.errors import HostError
from phoenix_core.hosts.base import Host, node_path

HEADER = "# Managed by phoenix setup: changes here are overwritten.\n"
BEGIN = "# BEGIN phoenix (managed block: edits inside are overwritten)"
END = "# END phoenix"


def read_text(host: Host, path: str) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        return host.read_file(path).decode()
    except FileNotFoundError:
        return None
    except HostError as exc:
        if "No such file" in str(exc):
            return None
        raise


def with_block(text: str | None, block: str) -> str:
    """``text`` with phoenix's marked block set to ``block`` (appended when absent)."""
    body = f"{BEGIN}\n{block.rstrip(chr(10))}\n{END}\n" if block else ""
    text = text or ""
    start, end = text.find(BEGIN), text.find(END)
    if start >= 0 and end > start:
        tail = text[end + len(END) :]
        return text[:start] + body + tail.removeprefix("\n")
    if not body:
        return text
    joiner = "" if not text or text.endswith("\n") else "\n"
    return text + joiner + body


class NodeFiles:
    """The node's files, addressed by their path on the node."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def path(self, absolute: str) -> str:
        """``absolute`` as a command on the node names it."""
        return node_path(self.host, absolute)

    def read(self, absolute: str) -> str | None:
        return read_text(self.host, absolute)

    def write(self, absolute: str, text: str, *, mode: int = 0o644) -> None:
        self.host.write_file(absolute, text.encode(), mode=mode)
