"""The control channel between shims, the `pve-sim` CLI, the pytest fixture and the owner.

One JSON object per connection each way, newline-terminated, over loopback TCP; a shim's
command (``"frame": 1``) is answered with a frame instead (:func:`frame`), which the shim reads
without a JSON decoder. A random token in DIR/state.json keeps stray local clients from driving
the node by accident. Standard library only, because the pytest fixture and the CLI import
this module.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


class NodeDown(RuntimeError):
    """The owner process of a node directory is not reachable."""


def frame(answer: dict[str, Any]) -> bytes:
    """A command's result as the shims read it: ``<rc> <len stdout> <len stderr>\\n``, then
    the output bytes (text the tools print, undecodable bytes kept by ``surrogateescape``)."""
    out = str(answer["stdout"]).encode(errors="surrogateescape")
    err = str(answer["stderr"]).encode(errors="surrogateescape")
    return b"%d %d %d\n" % (int(answer["rc"]), len(out), len(err)) + out + err


def read_state(sim_dir: Path) -> dict[str, Any]:
    """The owner's state file (port, token, pid, API url); NodeDown if there is none."""
    try:
        return json.loads((Path(sim_dir) / STATE_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise NodeDown(f"no simulated node in {sim_dir}") from exc


def request(sim_dir: Path, message: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    """Send one control message to the node in sim_dir and return its answer."""
    state = read_state(sim_dir)
    payload = dict(message, token=state["token"])
    try:
        with socket.create_connection(("127.0.0.1", state["port"]), timeout=timeout) as sock:
            sock.sendall(json.dumps(payload).encode() + b"\n")
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise NodeDown(f"simulated node in {sim_dir} is not answering: {exc}") from exc
    answer = json.loads(b"".join(chunks) or b"{}")
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer
