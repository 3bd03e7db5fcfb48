"""The control channel between shims, the `pve-sim` CLI, the pytest fixture and the owner.

One JSON object per connection each way, newline-terminated, over loopback TCP. A shim (a
bash script, which has no JSON encoder and cannot half-close its socket) sends its command
line as :data:`SHIM_REQUEST` instead, which says its own length, and is answered with a frame
(:func:`frame`). A random token in DIR/state.json keeps stray local clients from driving the
node by accident. Standard library only, because the pytest fixture and the CLI import this
module.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


#: A shim's request: ``pve-sim-run <token> <argc> <stdin bytes, -1: none>\n``, then the working
#: directory and each argument (the tool's name first), each ending in a NUL byte, then stdin.
SHIM_REQUEST = "pve-sim-run"


class NodeDown(RuntimeError):
    """The owner process of a node directory is not reachable."""


def frame(answer: dict[str, Any]) -> bytes:
    """A command's result as the shims read it: ``<rc> <len stdout> <len stderr>\\n``, then
    the output bytes (text the tools print, undecodable bytes kept by ``surrogateescape``)."""
    out = str(answer["stdout"]).encode(errors="surrogateescape")
    err = str(answer["stderr"]).encode(errors="surrogateescape")
    return b"%d %d %d\n" % (int(answer["rc"]), len(out), len(err)) + out + err


async def read_shim_request(header: bytes, reader: asyncio.StreamReader) -> dict[str, Any]:
    """The rest of a shim's request whose first line is ``header``, as the message a JSON
    client sends for a command (``op`` ``run``, framed answer)."""
    _, token, argc, size = header.decode().split()
    fields = [await reader.readuntil(b"\0") for _ in range(int(argc) + 1)]
    cwd, *argv = (field[:-1].decode(errors="surrogateescape") for field in fields)
    message: dict[str, Any] = {"op": "run", "frame": 1, "token": token, "cwd": cwd, "argv": argv}
    if int(size) >= 0:
        stdin = await reader.readexactly(int(size))
        message["stdin"] = stdin.decode(errors="surrogateescape")
    return message


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
