"""`systemd-run --unit=NAME --on-active=SECONDS -- COMMAND...` and its transient timer, as far
as phoenix's firewall guard uses them (it arms a revert, then disarms it with `systemctl stop
NAME.timer`).

systemd is not Proxmox: what follows rests on systemd-run(1) (field report: the manual page,
not the source, which is too large to read here). With a timer option, systemd-run creates a
transient NAME.timer and NAME.service and starts only the timer; when it elapses, the service
runs COMMAND "in a clean and detached execution environment, with the service manager as its
parent process"; systemd-run returns at once. A timer given ``--on-active`` elapses once,
SECONDS after it started (systemd.timer(5) ``OnActiveSec=``; a plain number is seconds,
systemd.time(7)). Stopping the timer unloads the transient pair, so the command never runs.

The command runs as a real process of this machine with each absolute path in its arguments
taken as a node path (``HostState.path``: a path already in the node directory stays), the
way the node's own file utilities would see it. When it changed the datacenter firewall file,
the API state is read back from that file, as pve-firewall reads ``cluster.fw`` on a node.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass

from . import fwfile
from .hoststate import Unit
from .node import Node
from .result import CliError, Result

#: Where the transient service finds its program (systemd's fixed search path).
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SECONDS = re.compile(r"^(\d+)s?$")


@dataclass
class Armed:
    """A transient timer that has not elapsed: the command it runs and its pending call."""

    argv: list[str]
    handle: asyncio.TimerHandle


def _timers(node: Node) -> dict[str, Armed]:
    return node.transient_timers


def run(node: Node, words: list[str]) -> Result:
    """`systemd-run --unit=NAME --on-active=SECONDS [--] COMMAND...`: only that shape."""
    options, command = {}, words
    while command and command[0].startswith("--"):
        word, command = command[0], command[1:]
        if word == "--":
            break
        key, eq, value = word.partition("=")
        if key not in ("--unit", "--on-active") or not eq:
            raise CliError(f"pve-sim: systemd-run {word} is not simulated", rc=1)
        options[key] = value
    seconds = SECONDS.match(options.get("--on-active", ""))
    if "--unit" not in options or seconds is None or not command:
        raise CliError(
            "pve-sim: only `systemd-run --unit=NAME --on-active=SECONDS -- COMMAND...`", rc=1
        )
    name = options["--unit"].removesuffix(".service")
    if f"{name}.timer" in node.host.units:
        raise CliError(
            f"Failed to start transient timer unit: Unit {name}.timer already exists.", rc=1
        )
    loop = asyncio.get_running_loop()
    handle = loop.call_later(int(seconds[1]), lambda: loop.create_task(elapse(node, name)))
    _timers(node)[name] = Armed(command, handle)
    node.host.units[f"{name}.timer"] = Unit(enabled=False, active=True)
    node.host.units[f"{name}.service"] = Unit(enabled=False, active=False)
    return Result(
        0, "", f"Running timer as unit: {name}.timer\nWill run service as unit: {name}.service\n"
    )


def stop(node: Node, unit: str) -> bool:
    """`systemctl stop NAME.timer` of an armed transient timer: disarmed and unloaded."""
    name = unit.removesuffix(".timer")
    armed = _timers(node).pop(name, None) if unit.endswith(".timer") else None
    if armed is None:
        return False
    armed.handle.cancel()
    _unload(node, name)
    return True


def _unload(node: Node, name: str) -> None:
    for suffix in (".timer", ".service"):
        node.host.units.pop(name + suffix, None)


async def elapse(node: Node, name: str) -> None:
    """The timer elapsed: its service runs the command, then the transient pair is gone."""
    armed = _timers(node).pop(name, None)
    if armed is None:
        return
    armed.handle.cancel()
    program = shutil.which(armed.argv[0], path=SEARCH_PATH)
    if program is not None:
        args = [str(node.host.path(a)) if a.startswith("/") else a for a in armed.argv[1:]]
        process = await asyncio.create_subprocess_exec(program, *args)
        await process.wait()
    _unload(node, name)
    cluster = node.pve_etc / "firewall" / "cluster.fw"
    fwfile.read_cluster(cluster, node.pve.firewall_config("cluster"))


async def elapse_all(node: Node) -> list[str]:
    """Time passes: every armed timer elapses now (``SimNode.elapse_timers``)."""
    names = sorted(_timers(node))
    for name in names:
        await elapse(node, name)
    return names
