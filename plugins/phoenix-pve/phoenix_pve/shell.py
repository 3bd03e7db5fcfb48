"""Running commands inside a guest, whatever the way in: the :class:`Shell` interface.

A container is entered with ``pct exec``/``pct push``, a VM through its guest agent with
``qm guest exec``, and the node itself directly through its :class:`Host`. The script runner
and the health checks only see a :class:`Shell`, so the container and VM managers share them.

Every shell reports the same way: a :class:`ShellResult` with the command's own exit code, its
output, and whether the time limit cut it short. A ``push`` raises on failure. Output lines go
to ``on_line`` as soon as they are known, which is when the command ends: a :class:`Host`
returns output whole.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import shlex
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

import attrs

from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import CommandResult, Host
from phoenix_pve import errors

#: Receives each output line of a command (stdout lines first, then stderr lines).
LineSink = Callable[[str], None]
#: Exit code of coreutils ``timeout`` when it had to stop the command.
TIMEOUT_EXIT = 124
#: Extra seconds the host call waits past a guest-side limit, so the guest reports first.
GRACE = 30.0


@attrs.frozen
class ShellResult:
    """What a command run through a shell did."""

    #: The command as it ran on the node, for messages.
    command: str
    #: The command's own exit code (None when it was cut short and its code is unknown).
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    #: The time limit was reached.
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def detail(self) -> str:
        """The most telling line: a timeout, else the last line of output."""
        if self.timed_out:
            return "timed out"
        lines = [ln.strip() for ln in (self.stderr or self.stdout).splitlines() if ln.strip()]
        return lines[-1] if lines else "no output"

    def tail(self, count: int = 10) -> str:
        """The last ``count`` lines of output (stdout, then stderr), for a failure's summary."""
        lines = [ln.rstrip() for ln in (self.stdout + self.stderr).splitlines() if ln.strip()]
        return "\n".join(lines[-count:])


class Shell(Protocol):
    """A place commands run in: inside a container, inside a VM, or on the node.

    The shells here subclass it and implement :meth:`execute` and :meth:`push`; :meth:`run`
    adds the environment and reports output lines the same way for all of them.
    """

    #: How messages name the place: ``CT 101``, ``VM 9000``, ``host pve1``.
    where: str

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        on_line: LineSink | None = None,
        readonly: bool = False,
        stdin: str | None = None,
    ) -> ShellResult:
        """Run argv (no shell) with ``env`` added. ``timeout`` stops it in the guest after that
        many seconds (None: the transport's default limit). ``readonly`` commands only read, so
        a dry run executes them too. ``stdin`` is the command's standard input."""
        inner = ["env", *(f"{k}={v}" for k, v in env.items()), *argv] if env else list(argv)
        result = self.execute(inner, timeout, readonly, stdin)
        if on_line is not None:
            for line in (result.stdout + result.stderr).splitlines():
                on_line(line)
        return result

    def execute(
        self, argv: list[str], timeout: float | None, readonly: bool, stdin: str | None = None
    ) -> ShellResult:
        """Run argv as it is (the transport's part of :meth:`run`)."""
        ...

    def push(self, data: bytes, path: str, *, mode: int) -> None:
        """Write ``data`` to ``path`` with permissions ``mode``; raise when that fails."""
        ...


@contextlib.contextmanager
def private_file(host: Host, data: bytes, prefix: str) -> Iterator[str]:
    """A 0600 file holding ``data`` on the node, in a fresh directory removed afterwards.

    ``mktemp -d`` makes a fresh 0700 directory: a predictable name in a shared ``/tmp`` could
    be a symlink planted by another user, redirecting the write. For tools that take a file
    (``pct push``, ``qm set --sshkeys``) and for data that must not show on a command line."""
    made = host.change(["mktemp", "-d", "-t", f"{prefix}.XXXXXXXXXX"]).check()
    private = made.stdout.strip()
    if not private.startswith("/"):
        raise PhoenixError(f"mktemp -d on {host.name} printed {private!r}, not a path")
    try:
        host.write_file(f"{private}/data", data, mode=0o600)
        yield f"{private}/data"
    finally:
        host.change(["rm", "-rf", "--", private])


def _limited(argv: list[str], timeout: float | None) -> list[str]:
    """Under coreutils ``timeout``, so the limit kills the command where it runs, not only the
    client on the node (killing ``pct exec`` leaves the process in the container running)."""
    return ["timeout", f"{timeout:g}", *argv] if timeout is not None else argv


def _host_timeout(timeout: float | None) -> float | None:
    return None if timeout is None else timeout + GRACE


def _from_host(result: CommandResult, limited: bool) -> ShellResult:
    timed_out = limited and result.returncode == TIMEOUT_EXIT
    return ShellResult(
        result.command,
        None if timed_out else result.returncode,
        result.stdout,
        result.stderr,
        timed_out,
    )


def _call(
    host: Host,
    argv: Sequence[str],
    readonly: bool,
    *,
    timeout: float | None,
    input: str | None = None,
) -> CommandResult:
    return (host.query if readonly else host.change)(argv, timeout=timeout, input=input)


class _PrefixShell(Shell):
    """Commands run on the node as ``prefix + argv``, so exit code and output are the
    command's own; a limit is coreutils ``timeout`` where the command runs."""

    def __init__(self, host: Host, prefix: Sequence[str], where: str) -> None:
        self.host = host
        self.prefix = list(prefix)
        self.where = where

    def execute(
        self, argv: list[str], timeout: float | None, readonly: bool, stdin: str | None = None
    ) -> ShellResult:
        result = _call(
            self.host,
            [*self.prefix, *_limited(argv, timeout)],
            readonly,
            timeout=_host_timeout(timeout),
            input=stdin,
        )
        return _from_host(result, timeout is not None)


class ContainerShell(_PrefixShell):
    """Inside a container: ``pct exec <id> -- ...``."""

    def __init__(self, host: Host, vmid: int, *, lock_timeout: float | None = None) -> None:
        super().__init__(host, ["pct", "exec", str(vmid), "--"], f"CT {vmid}")
        self.vmid = vmid
        self.lock_timeout = lock_timeout

    def push(self, data: bytes, path: str, *, mode: int) -> None:
        """Through a private file on the node (``pct push`` copies host files only)."""
        with private_file(self.host, data, "phoenix-push") as staged:
            errors.change_retrying(
                self.host,
                ["pct", "push", str(self.vmid), staged, path, "--perms", f"{mode:04o}"],
                lock_timeout=self.lock_timeout,
            )


class AgentShell(Shell):
    """Inside a VM through the QEMU guest agent: ``qm guest exec <id> --timeout N -- ...``.

    The CLI exits 0 whatever the command did and prints JSON: the exit code is read from
    ``exitcode``; a ``pid`` without one means the time limit was reached (qemu-server
    src/PVE/CLI/qm.pm ``exec``: "timeout reached, returning pid"). ``--timeout`` is an integer
    number of seconds and ``0`` waits without limit, so a limit is rounded up, never to 0.

    With ``detached``, a command that changes the guest (not ``readonly``, no stdin) is started
    with ``--synchronous 0``, which answers its pid at once (and takes no ``--timeout``), and
    polled with ``qm guest exec-status`` until it exits: a feature script may run for an hour,
    longer than one client call should stay open. Its limit is coreutils ``timeout`` inside
    the guest, so the command stops there too, and the poll gives up :data:`GRACE` seconds
    later, phoenix's own deadline.
    """

    #: qm's own default limit, written out so every call states it.
    DEFAULT_TIMEOUT = 30.0
    #: File bytes per ``--pass-stdin`` call: base64 of this stays under the agent's 1 MiB.
    CHUNK = 512 * 1024
    #: Seconds between two ``exec-status`` polls: doubling from the first to the last.
    POLL = (0.5, 5.0)

    def __init__(
        self,
        host: Host,
        vmid: int,
        *,
        detached: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self.vmid = vmid
        self.where = f"VM {vmid}"
        self.detached = detached
        self.sleep = sleep

    def execute(
        self, argv: list[str], timeout: float | None, readonly: bool, stdin: str | None = None
    ) -> ShellResult:
        if self.detached and not readonly and stdin is None:
            return self._detached(argv, timeout)
        limit = self.DEFAULT_TIMEOUT if timeout is None else timeout
        outer = ["qm", "guest", "exec", str(self.vmid), "--timeout", str(_seconds(limit))]
        if stdin is not None:
            outer += ["--pass-stdin", "1"]
        result = _call(
            self.host, [*outer, "--", *argv], readonly, timeout=limit + GRACE, input=stdin
        )
        return self._parse(result)

    def _detached(self, argv: list[str], timeout: float | None) -> ShellResult:
        timeout = self.DEFAULT_TIMEOUT if timeout is None else timeout
        outer = ["qm", "guest", "exec", str(self.vmid), "--synchronous", "0", "--"]
        started = self.host.change([*outer, *_limited(argv, timeout)])
        shown = shlex.join([*outer, *argv])
        if not started.ok:
            return ShellResult(shown, started.returncode, started.stdout, started.stderr)
        pid = _json_object(started.stdout).get("pid")
        if pid is None:
            return self._parse(started)
        deadline = time.monotonic() + timeout + GRACE
        delay = self.POLL[0]
        while True:
            status = self.host.query(["qm", "guest", "exec-status", str(self.vmid), str(pid)])
            answer = _json_object(status.stdout) if status.ok else {}
            if not status.ok or answer.get("exited"):
                parsed = self._parse(status)
                timed_out = parsed.exit_code == TIMEOUT_EXIT
                code = None if timed_out else parsed.exit_code
                return ShellResult(shown, code, parsed.stdout, parsed.stderr, timed_out)
            if time.monotonic() >= deadline:
                note = f"still running as pid {pid} (qm guest exec-status)"
                return ShellResult(shown, None, "", note, timed_out=True)
            self.sleep(delay)
            delay = min(delay * 2, self.POLL[1])

    @staticmethod
    def _parse(result: CommandResult) -> ShellResult:
        if not result.ok:  # the agent never ran it: VM stopped, no agent, bad parameter
            return ShellResult(result.command, result.returncode, result.stdout, result.stderr)
        start = result.stdout.find("{")
        try:
            answer = json.loads(result.stdout[start:]) if start >= 0 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            return ShellResult(result.command, result.returncode, result.stdout, result.stderr)
        out, err = str(answer.get("out-data", "")), str(answer.get("err-data", ""))
        if "exitcode" not in answer:
            pid = answer.get("pid")
            note = f"still running as pid {pid} (qm guest exec-status)" if pid else ""
            return ShellResult(result.command, None, out, err or note, timed_out=True)
        return ShellResult(result.command, int(answer["exitcode"]), out, err)

    def push(self, data: bytes, path: str, *, mode: int) -> None:
        """Base64 on the agent's stdin, never on a command line (``ps`` shows those): chunks
        are appended to a part file, which gets its mode and is renamed when complete."""
        part = f"{path}.phoenix-part"
        chunks = [data[i : i + self.CHUNK] for i in range(0, len(data), self.CHUNK)] or [b""]
        for index, chunk in enumerate(chunks):
            script = "umask 077; base64 -d " + (">" if index == 0 else ">>") + ' "$1"'
            if index == len(chunks) - 1:
                script += ' && chmod "$3" "$1" && mv -f "$1" "$2"'
            argv = ["sh", "-c", script, "sh", part, path, f"{mode:04o}"]
            result = self.execute(argv, None, False, base64.b64encode(chunk).decode())
            if not result.ok:
                raise PhoenixError(
                    f"pushing {path} into {self.where} failed: `{shlex.join(argv)}` "
                    f"exited {result.exit_code}: {result.detail}"
                )


def _seconds(limit: float) -> int:
    """``qm guest exec --timeout`` takes whole seconds, and 0 would mean no limit at all."""
    return max(1, math.ceil(limit))


def _json_object(text: str) -> dict[str, object]:
    """The JSON object qm printed (after any notice line), or {}."""
    start = text.find("{")
    try:
        answer = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


class HostShell(_PrefixShell):
    """On the node itself: the :class:`Host` runs the command, ``write_file`` pushes."""

    def __init__(self, host: Host) -> None:
        super().__init__(host, [], f"host {host.name}")

    def push(self, data: bytes, path: str, *, mode: int) -> None:
        self.host.write_file(path, data, mode=mode)
