"""The owner process of a simulated node (`python -m pve_sim.owner --dir DIR ...`).

It holds the `FakePve` object, serves fakepve's HTTPS API on a free 127.0.0.1 port and a
control channel on another, which takes the shims' command lines and the fault, lock and exec
scripting requests that fakepve's API cannot express. It runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import signal
from pathlib import Path
from typing import Any

from fakepve import FakePve
from fakepve.certs import make_cert

from . import clusterfiles, dispatch, protocol, seed, shim, storagefiles, transient, usercfg
from .api import Api
from .faults import MutationFault
from .guestfs import Script
from .hoststate import HostState
from .node import Node
from .profile import DEFAULT, PROFILES

log = logging.getLogger("pve_sim")
LXC_TASKS = (
    "create",
    "clone",
    "destroy",
    "snapshot",
    "delsnapshot",
    "rollback",
    "template",
    "resize",
    "migrate",
)


class Owner:
    """Answers control messages for one node."""

    def __init__(self, node: Node, token: str):
        self.node = node
        self.token = token
        self.base_time_scale = node.pve.time_scale
        #: Commands being answered; a command whose caller is gone (its SSH session killed)
        #: still runs to its end, as the node's task would.
        self.running = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.readline()
            if first.startswith(protocol.SHIM_REQUEST.encode()):
                message = await protocol.read_shim_request(first, reader)
            else:
                message = json.loads(first + await reader.read())
            if message.get("token") != self.token:
                answer: dict[str, Any] = {"error": "bad token"}
            else:
                answer = await self.answer(message)
            framed = bool(message.get("frame")) and "rc" in answer
        except Exception as exc:
            log.exception("control message failed")
            answer = {"error": repr(exc)}
            framed = False
        writer.write(protocol.frame(answer) if framed else json.dumps(answer).encode())
        try:
            await writer.drain()
        finally:
            writer.close()

    async def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message["op"]
        node = self.node
        if op == "run":
            self.running += 1
            self.idle.clear()
            try:
                result = await dispatch.run(
                    node, message["argv"], message.get("cwd", "/"), message.get("stdin")
                )
            finally:
                self.running -= 1
                if not self.running:
                    self.idle.set()
            return {"rc": result.rc, "stdout": result.stdout, "stderr": result.stderr}
        if op == "wait_idle":
            await self.idle.wait()
            return {"ok": True}
        if op == "reboot":
            node.host.reboot()
            return {"ok": True}
        if op == "ping":
            return {"ok": True, "node": node.name, "guests": len(node.pve.vms)}
        if op == "script":
            vmid = message.get("vmid")
            node.guestfs.add_script(
                Script(
                    None if vmid in (None, "*") else int(vmid),
                    message["pattern"],
                    int(message.get("rc", 0)),
                    message.get("stdout", ""),
                    message.get("stderr", ""),
                    message.get("times"),
                )
            )
            return {"ok": True}
        if op == "clear_scripts":
            node.guestfs.scripts.clear()
            return {"ok": True}
        if op == "fail_nth_mutation":
            node.faults.mutations.append(MutationFault(int(message["n"]), message.get("message")))
            return {"ok": True}
        if op == "latency":
            self.set_latency(float(message["seconds"]))
            return {"ok": True}
        if op == "tool_cost":
            node.faults.tool_cost = float(message["seconds"])
            return {"ok": True}
        if op == "hold_lock":
            vmid = int(message["vmid"])
            node.pve.snapshot_lock(vmid, message.get("lock", "backup"))
            node.sync(vmid)
            return {"ok": True}
        if op == "release_lock":
            vmid = int(message["vmid"])
            node.pve.unlock(vmid)
            node.sync(vmid)
            return {"ok": True}
        if op == "hold_flock":
            guest = node.pve.guest(int(message["vmid"]))
            guest.lock_holder = "pve-sim"
            return {"ok": True}
        if op == "release_flock":
            node.pve.release(node.pve.guest(int(message["vmid"])), "pve-sim")
            return {"ok": True}
        if op == "agent_delay":
            node.agent_delay = float(message["seconds"])
            return {"ok": True}
        if op == "remote_file":
            node.remote_files[message["url"]] = bytes.fromhex(message["content"])
            return {"ok": True}
        if op == "elapse_timers":
            return {"elapsed": await transient.elapse_all(node)}
        if op == "clear_faults":
            node.faults.clear()
            self.set_latency(0.0)
            node.pve.failures.clear()
            return {"ok": True}
        raise ValueError(f"unknown op {op!r}")

    def set_latency(self, seconds: float) -> None:
        """Make every task take `seconds`: LXC tasks hold their locks meanwhile (fakepve's
        ct_secs, which needs a non-zero time scale), other tasks are delayed by the shim side."""
        pve = self.node.pve
        if seconds and not pve.time_scale:
            pve.time_scale = 1.0
        elif not seconds:
            pve.time_scale = self.base_time_scale
        scale = pve.time_scale or 1.0
        for name in LXC_TASKS:
            pve.ct_secs[name] = seconds / scale
        self.node.api.latency = seconds


async def serve(
    sim_dir: Path, node_name: str, seed_path: Path | None, time_scale: float, pve: int
) -> None:
    """Start fakepve and the control channel, publish DIR/state.json, run until SIGTERM."""
    release = PROFILES[pve]
    fake = FakePve(host="127.0.0.1", port=0)
    if node_name != "pve1":
        fake.nodes = {node_name: {"online": True}}
    fake.time_scale = time_scale
    fake.version, fake.release_version = release.manager, release.manager.rsplit(".", 1)[0]
    seeded = seed.for_release(seed.load(seed_path), release)
    catalogue = seed.apply(fake, seeded, node_name)
    certfile, keyfile, _ = make_cert(str(sim_dir), hosts=("127.0.0.1",))
    await fake.start(certfile, keyfile)
    api = Api(fake.url, certfile, fake.user, fake.password)
    await api.open()
    node = Node(fake, api, node_name, sim_dir, catalogue=catalogue, profile=release)
    node.host = HostState.from_seed(sim_dir, seeded.get("host", {}), release)
    usercfg.write(node)
    node.sync_all()
    clusterfiles.write_all(node)
    storagefiles.sync(node)
    token = secrets.token_hex(16)
    owner = Owner(node, token)
    # A shim's arguments are read whole (a long `--description`): more than asyncio's 64 KiB.
    server = await asyncio.start_server(owner.handle, "127.0.0.1", 0, limit=2**24)
    port = server.sockets[0].getsockname()[1]
    shim.write_shims(sim_dir, port, token)
    state = {
        "pid": os.getpid(),
        "port": port,
        "token": token,
        "node": node_name,
        "api_url": fake.url,
        "user": fake.user,
        "password": fake.password,
        "cafile": certfile,
        "pve_etc": str(node.pve_etc),
    }
    tmp = sim_dir / (protocol.STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, sim_dir / protocol.STATE_FILE)
    log.info("node %s ready: api %s, control port %d", node_name, fake.url, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await api.close()
    await fake.stop()
    (sim_dir / protocol.STATE_FILE).unlink(missing_ok=True)
    log.info("node %s stopped", node_name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pve_sim.owner")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--node", default="pve1")
    parser.add_argument("--seed", type=Path)
    parser.add_argument("--time-scale", type=float, default=0.0)
    parser.add_argument("--pve", type=int, choices=sorted(PROFILES), default=DEFAULT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    asyncio.run(serve(args.dir.resolve(), args.node, args.seed, args.time_scale, args.pve))


if __name__ == "__main__":
    main()
