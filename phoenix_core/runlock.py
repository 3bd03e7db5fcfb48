"""The per-node run lock: two phoenix runs that change one node never interleave (DESIGN §4).

A run that may change a node holds ``flock(1)`` on a file of that node for its whole length:
``flock -w WAIT PATH cat`` runs on the node with its stdin tied to phoenix (a line sent
comes back once ``cat`` runs, that is once the lock is held). When
phoenix ends, however it ends (normally, killed, or its SSH connection dropped), ``cat`` reads
end of file and exits and the kernel releases the lock, so no lock outlives its run and none
needs breaking by hand. Who holds it is written beside it, for the message another run gives.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator, Sequence

from phoenix_core.errors import CommandFailed, PhoenixError
from phoenix_core.hosts.base import Holding, Host, node_path

#: Where the lock lives on the node: a directory of its own, created 0700 by the first run (a
#: tmpfs every Debian has, so a reboot clears it). Not ``/run/lock``, which any user may write
#: to: there another user could create the lock file first and hold every run off, or plant a
#: symlink. ``PHOENIX_LOCK_DIR`` moves it (the testing kit gives each test its own).
DEFAULT_DIR = "/run/phoenix"
LOCK_FILE = "phoenix-run.lock"
OWNER_FILE = "phoenix-run.owner"
#: flock's exit code when the lock stayed busy (EX_TEMPFAIL).
BUSY = 75


class NodeBusy(PhoenixError):
    """Another phoenix run holds the node's run lock; nothing was executed (exit 2)."""

    exit_code = 2


class UnsafeLockDir(PhoenixError):
    """The lock directory exists but is not private to the user phoenix runs as (exit 2)."""

    exit_code = 2


def lock_dir() -> str:
    return os.environ.get("PHOENIX_LOCK_DIR", DEFAULT_DIR).rstrip("/") or "/"


def _inspect(host: Host, directory: str) -> tuple[str, tuple[str, str, str] | None]:
    """The uid commands run as (the owner of ``/proc/self``: the ``stat`` process itself) and
    (owner uid, octal mode, file type) of ``directory``, None when it is missing: one command."""
    path = node_path(host, directory)
    result = host.query(["stat", "-c", "%n|%u|%a|%F", "--", "/proc/self", path])
    found = {}
    for line in result.stdout.splitlines():
        name, owner, mode, kind = line.rsplit("|", 3)
        found[name] = (owner, mode, kind)
    if "/proc/self" not in found or (path not in found and "No such file" not in result.stderr):
        result.check()
        raise PhoenixError(f"`{result.command}` on {host.name} printed {result.stdout!r}")
    return found["/proc/self"][0], found.get(path)


def ensure_private(host: Host, directory: str) -> None:
    """Make sure ``directory`` is a directory owned by the user phoenix's commands run as and
    writable by no one else; create it 0700 when missing. Anything else is refused (exit 2):
    a directory someone else made first could hold a planted lock file or symlink."""
    me, found = _inspect(host, directory)
    if found is None:
        host.change(["mkdir", "-p", "-m", "0700", "--", node_path(host, directory)]).check()
        me, found = _inspect(host, directory)
        if found is None:
            raise PhoenixError(f"cannot create {directory} on {host.name}")
    owner, mode, kind = found
    problem = None
    if kind != "directory":
        problem = f"it is a {kind}, not a directory"
    elif owner != me:
        problem = f"it is owned by uid {owner}, not by uid {me} phoenix runs as"
    elif int(mode, 8) & 0o022:
        problem = f"its mode {int(mode, 8):04o} lets others write to it"
    if problem:
        raise UnsafeLockDir(
            f"refusing the run lock directory {directory} on node {host.name}: {problem}; "
            f"remove it (phoenix creates it 0700) or set PHOENIX_LOCK_DIR"
        )


def owner_record(verb: str, run_id: str) -> dict[str, object]:
    """What the holder writes beside the lock: enough for another user to find the run."""
    return {
        "verb": verb,
        "run_id": run_id,
        "pid": os.getpid(),
        "user": getpass.getuser(),
        "workstation": socket.gethostname(),
        "since": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def _holder(host: Host, directory: str) -> str:
    try:
        owner = json.loads(host.read_file(f"{directory}/{OWNER_FILE}"))
        return (
            f"phoenix {owner['verb']} (run {owner['run_id']}, pid {owner['pid']} on "
            f"{owner['workstation']} as {owner['user']}, since {owner['since']})"
        )
    except (OSError, PhoenixError, ValueError, KeyError, TypeError):
        return "another phoenix run"


@contextlib.contextmanager
def holding(hosts: Sequence[Host], *, verb: str, run_id: str, wait: float) -> Iterator[None]:
    """Hold the run lock of every node in ``hosts`` (in the order given) while the block runs.

    Waits up to ``wait`` seconds for a busy node, then raises :class:`NodeBusy` naming the
    run that holds it. A host that cannot hold a command (a test double) is not locked.
    """
    directory = lock_dir()
    with contextlib.ExitStack() as stack:
        for host in hosts:
            if not isinstance(host, Holding):
                continue
            ensure_private(host, directory)
            argv = ["flock", "--conflict-exit-code", str(BUSY)]
            argv += ["-w", f"{wait:g}"] if wait > 0 else ["-n"]
            argv += ["--", node_path(host, f"{directory}/{LOCK_FILE}"), "cat"]
            try:
                held = host.hold(argv, probe=f"phoenix {run_id}")
            except CommandFailed as exc:
                result = exc.result
                if result.returncode != BUSY:
                    said = (result.stderr.strip() or f"exited {result.returncode}").splitlines()
                    raise PhoenixError(
                        f"cannot take the run lock of node {host.name} "
                        f"({directory}/{LOCK_FILE}): {said[-1]} (PHOENIX_LOCK_DIR moves it)"
                    ) from None
                waited = f" after waiting {wait:g} s" if wait > 0 else ""
                raise NodeBusy(
                    f"node {host.name} is busy{waited}: {_holder(host, directory)} holds its "
                    f"run lock ({directory}/{LOCK_FILE}); wait for it with --wait-lock SECONDS"
                ) from None
            stack.callback(held.release)
            record = json.dumps(owner_record(verb, run_id)).encode()
            host.write_file(f"{directory}/{OWNER_FILE}", record, mode=0o600)
        yield
