"""Files on the node: where its ``/`` is, phoenix-owned files, and marked blocks in others'.

The node's root is the parent of the ``/etc`` that holds ``pve_etc`` (``/`` on a real node,
where ``pve_etc`` is ``/etc/pve``), so every host path goes through the Host and the same
configuration key that already points phoenix at the node's ``/etc/pve``.

A file phoenix owns (``/etc/exports.d/phoenix.exports``) is written whole. A file it does not
own (``/etc/samba/smb.conf``) is edited only between the two marker lines, everything outside
kept byte for byte.
"""

from __future__ import annotations

import posixpath

from phoenix_core.errors import HostError
from phoenix_core.hosts.base import Host

HEADER = "# Managed by phoenix setup: changes here are overwritten.\n"
BEGIN = "# BEGIN phoenix (managed block: edits inside are overwritten)"
END = "# END phoenix"


def node_root(pve_etc: str) -> str:
    """``/`` for ``/etc/pve``; the simulator's directory for ``<dir>/etc/pve``."""
    return posixpath.dirname(posixpath.dirname(pve_etc.rstrip("/"))) or "/"


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

    def __init__(self, host: Host, root: str) -> None:
        self.host = host
        self.root = root

    def path(self, absolute: str) -> str:
        return posixpath.join(self.root, absolute.lstrip("/"))

    def read(self, absolute: str) -> str | None:
        return read_text(self.host, self.path(absolute))

    def write(self, absolute: str, text: str, *, mode: int = 0o644) -> None:
        self.host.write_file(self.path(absolute), text.encode(), mode=mode)
