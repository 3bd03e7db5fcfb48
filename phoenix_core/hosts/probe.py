"""Confirming that a host is the kind of machine a manager changes, before anything runs on it.

A manager that only makes sense on a particular kind of machine (a Proxmox VE node) declares a
:class:`NodeProbe` in its :class:`~phoenix_core.manager.ManagerSpec`: the file systems that must
be mounted and one command that must answer. The core knows no tool of its own: it reads the
kernel's mount table and runs the declared command, once per host and run, before the first
command or file write of any target of that manager on that host (``plan`` and ``--dry-run``
included). A host that fails the probe is refused with :class:`NotANode` (exit 2), naming the
host and what is missing, and nothing has been run or written on it.

This machine (and a simulated node in a directory of it) is probed with a file read and, when
the mounts are there, the command. A host reached over the network is probed in one round
trip: :data:`SCRIPT`, a fixed shell program given the mounts and the command as its arguments
(never in its text), prints the mount table and runs the command only when the mounts are
there, so a machine that is not a node still runs nothing but ``cat``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from phoenix_core.errors import HostError, PhoenixError

if TYPE_CHECKING:  # plugins import this module at start-up (`phoenix --help`): no hosts yet
    from phoenix_core.hosts.base import CommandResult, Host

#: The kernel's table of mounted file systems, as ``mount(8)`` and ``findmnt`` read it.
MOUNTS = "/proc/mounts"
#: A probe's command gets this long: it must answer promptly on a healthy node.
PROBE_TIMEOUT = 60.0
#: The line :data:`SCRIPT` prints between the mount table and the command's output (no line
#: of /proc/mounts is a single word).
END_OF_MOUNTS = "phoenix-end-of-mounts"
#: ``sh -c SCRIPT sh MARK POINT FSTYPE ... -- COMMAND...``: the mount table, MARK, then the
#: command's own output and exit code, run only when each POINT is mounted last with FSTYPE
#: or a FUSE FSTYPE.SUBTYPE (else exit 0, nothing run). POINT is as /proc/mounts spells it
#: (octal escapes); ``exec`` exits 127 for a command that is not installed (POSIX sh).
SCRIPT = """cat /proc/mounts
printf '%s\\n' "$1"
shift
while [ "$1" != -- ]; do
  found=
  while read -r _ point type _; do
    if [ "$point" = "$1" ]; then found=$type; fi
  done < /proc/mounts
  case $found in "$2" | "$2".*) ;; *) exit 0 ;; esac
  shift 2
done
shift
exec "$@"
"""
#: ``exec``'s exit code for a command not found.
NOT_FOUND = 127


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


def escaped(path: str) -> str:
    """``path`` as /proc/mounts spells it: the kernel's ``mangle`` escapes space, tab,
    newline and backslash as octal."""
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" else c for c in path)


def _mount_problems(table: str, mounts: Sequence[Mount]) -> list[str]:
    points = mounted(table)
    problems = []
    for mount in mounts:
        fstype = points.get(mount.path)
        if fstype is None:
            problems.append(f"{mount.what} is not mounted at {mount.path}")
        elif fstype != mount.fstype and not fstype.startswith(f"{mount.fstype}."):
            problems.append(f"{mount.path} is a {fstype} mount, not {mount.what}")
    return problems


def _command_problem(argv: Sequence[str], result: CommandResult) -> str | None:
    shown = " ".join(argv)
    if result.ok:
        return None
    said = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
    return f"`{shown}` exited {result.returncode}: {said}"


def _local_problems(host: Host, probe: NodeProbe) -> list[str]:
    """The mount table read as a file (no process), then the command when the mounts are
    there, so a workstation is refused without running anything."""
    try:
        table = host.read_file(MOUNTS).decode(errors="replace")
    except FileNotFoundError:
        table = ""
    problems = _mount_problems(table, probe.mounts)
    if problems or not probe.command:
        return problems
    try:
        result = host.query(probe.command, timeout=PROBE_TIMEOUT)
    except HostError as exc:
        if "command not found" in str(exc):
            return [f"`{' '.join(probe.command)}` is not installed"]
        raise
    problem = _command_problem(probe.command, result)
    return [problem] if problem else []


def _remote_problems(host: Host, probe: NodeProbe) -> list[str]:
    """Both in one command (:data:`SCRIPT`): one round trip to a node over the network."""
    argv = ["sh", "-c", SCRIPT, "sh", END_OF_MOUNTS]
    for mount in probe.mounts:
        argv += [escaped(mount.path), mount.fstype]
    argv += ["--", *(probe.command or ["true"])]
    result = host.query(argv, timeout=PROBE_TIMEOUT)
    table, marked, out = result.stdout.partition(f"\n{END_OF_MOUNTS}\n")
    problems = _mount_problems(table if marked else "", probe.mounts)
    if problems or not probe.command:
        return problems
    if result.returncode == NOT_FOUND:
        return [f"`{' '.join(probe.command)}` is not installed"]
    ran = attrs.evolve(result, argv=probe.command, stdout=out)
    problem = _command_problem(probe.command, ran)
    return [problem] if problem else []


def confirm(host: Host, probe: NodeProbe) -> None:
    """Raise :class:`NotANode` unless ``host`` passes ``probe``."""
    from phoenix_core.hosts.local import LocalHost

    local = isinstance(host, LocalHost)
    problems = (_local_problems if local else _remote_problems)(host, probe)
    if problems:
        raise NotANode(
            f"{host.name} is not {probe.what}: {'; '.join(problems)}. Nothing was run or "
            "written; point --host at a node (or at a simulated one: --host sim:DIR)"
        )
