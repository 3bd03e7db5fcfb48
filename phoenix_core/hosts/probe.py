"""Confirming that a host is the kind of machine a manager changes, before anything runs on it.

A manager that only makes sense on a particular kind of machine (a Proxmox VE node) declares a
:class:`NodeProbe` in its :class:`~phoenix_core.manager.ManagerSpec`: the file systems that must
be mounted and one command that must answer. The core knows no tool of its own: it reads the
kernel's mount table and runs the declared command, once per host and run, before the first
command or file write of any target of that manager on that host (``plan`` and ``--dry-run``
included). A host that fails the probe is refused with :class:`NotANode` (exit 2), naming the
host and what is missing, and nothing has been run or written on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from phoenix_core.errors import HostError, PhoenixError
from phoenix_core.hosts.base import Host

#: The kernel's table of mounted file systems, as ``mount(8)`` and ``findmnt`` read it.
MOUNTS = "/proc/mounts"
#: A probe's command gets this long: it must answer promptly on a healthy node.
PROBE_TIMEOUT = 60.0


class NotANode(PhoenixError):
    """The host is not the kind of machine the run's managers change: nothing was run."""

    exit_code = 2


@attrs.frozen
class Mount:
    """A file system that must be mounted at ``path`` with type ``fstype`` (or a FUSE
    ``fstype.SUBTYPE``); ``what`` names it in the message (``pmxcfs``)."""

    path: str
    fstype: str
    what: str


@attrs.frozen
class NodeProbe:
    """What a host must show to be changed by a manager: ``what`` it then is (``a Proxmox VE
    node``), the ``mounts`` it has, and a ``command`` (argv) that must exit 0."""

    what: str
    mounts: tuple[Mount, ...] = ()
    command: tuple[str, ...] = ()


def mounted(table: str) -> dict[str, str]:
    """Mount point -> file system type, from ``/proc/mounts`` (the last mount on a point wins,
    as it hides the ones under it; ``\\040`` and the other octal escapes are decoded)."""
    found = {}
    for line in table.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            point = fields[1].encode().decode("unicode_escape")
            found[point] = fields[2]
    return found


def _mount_problems(host: Host, mounts: Sequence[Mount]) -> list[str]:
    try:
        table = host.read_file(MOUNTS).decode(errors="replace")
    except FileNotFoundError:
        table = ""
    points = mounted(table)
    problems = []
    for mount in mounts:
        fstype = points.get(mount.path)
        if fstype is None:
            problems.append(f"{mount.what} is not mounted at {mount.path}")
        elif fstype != mount.fstype and not fstype.startswith(f"{mount.fstype}."):
            problems.append(f"{mount.path} is a {fstype} mount, not {mount.what}")
    return problems


def _command_problem(host: Host, argv: Sequence[str]) -> str | None:
    shown = " ".join(argv)
    try:
        result = host.query(argv, timeout=PROBE_TIMEOUT)
    except HostError as exc:
        if "command not found" in str(exc):
            return f"`{shown}` is not installed"
        raise
    if result.ok:
        return None
    said = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
    return f"`{shown}` exited {result.returncode}: {said}"


def confirm(host: Host, probe: NodeProbe) -> None:
    """Raise :class:`NotANode` unless ``host`` passes ``probe``.

    The mount table is read first (a file read, no process on the node); the command runs only
    when the mounts are there, so a workstation is refused without running anything.
    """
    problems = _mount_problems(host, probe.mounts)
    if not problems and probe.command:
        problem = _command_problem(host, probe.command)
        problems += [problem] if problem else []
    if problems:
        raise NotANode(
            f"{host.name} is not {probe.what}: {'; '.join(problems)}. Nothing was run or "
            "written; point --host at a node (or at a simulated one: --host sim:DIR)"
        )
