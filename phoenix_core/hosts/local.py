"""Run commands on this machine with subprocess: the default when phoenix runs on the node."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import subprocess
from collections.abc import Sequence

from phoenix_core import interrupt
from phoenix_core.errors import CommandFailed, HostError
from phoenix_core.hosts.base import DEFAULT_TIMEOUT, BaseHost, CommandResult


class LocalHost(BaseHost):
    """Runs argv lists directly (never through a shell) with ``LC_ALL=C``.

    ``LC_ALL=C`` keeps the Proxmox tools' messages in English, which is what the error
    classifiers match against.
    """

    name = "local"

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, env: dict[str, str] | None = None):
        super().__init__(timeout=timeout)
        self.env = {**(os.environ if env is None else env), "LC_ALL": "C"}

    def _execute(
        self, argv: tuple[str, ...], timeout: float, input: str | None
    ) -> tuple[int, str, str]:
        try:
            proc = subprocess.run(
                argv,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                env=self.env,
                check=False,
                # Its own session: a Ctrl-C at the terminal reaches phoenix alone, which lets
                # the running command finish (phoenix_core.interrupt).
                start_new_session=True,
            )
        except FileNotFoundError:
            raise HostError(
                f"{argv[0]}: command not found on {self.name} "
                "(is this a Proxmox node? use --host to target one)"
            ) from None
        except subprocess.TimeoutExpired:
            raise HostError(
                f"`{' '.join(argv)}` timed out after {timeout:g} s on {self.name}"
            ) from None
        return proc.returncode, proc.stdout, proc.stderr

    def hold(self, argv: Sequence[str], *, probe: str) -> _HeldProcess:
        argv = [str(a) for a in argv]
        try:
            # Its stdin is a pipe only phoenix writes to: whenever phoenix ends, the
            # command reads end of file. Its own session keeps a Ctrl-C from reaching it.
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env,
                start_new_session=True,
            )
        except FileNotFoundError:
            raise HostError(f"{argv[0]}: command not found on {self.name}") from None
        assert proc.stdin and proc.stdout and proc.stderr
        line = (probe + "\n").encode()
        with contextlib.suppress(BrokenPipeError):  # it ended already: its exit code says why
            os.write(proc.stdin.fileno(), line)
        try:
            interrupt.readable(proc.stdout.fileno(), f"waiting for `{shlex.join(argv)}`")
        except interrupt.Interrupted:
            proc.kill()  # still waiting: it holds nothing, and must not take the lock later
            _HeldProcess(proc).release()
            raise
        if proc.stdout.readline() == line:
            return _HeldProcess(proc)
        proc.stdin.close()
        out, err = proc.stdout.read(), proc.stderr.read()
        result = CommandResult(
            argv, proc.wait(), out.decode(errors="replace"), err.decode(errors="replace")
        )
        proc.stdout.close()
        proc.stderr.close()
        raise CommandFailed(result, f"`{result.command}` exited {result.returncode}")

    def read_file(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def is_file(self, path: str) -> bool:
        """See :class:`~phoenix_core.hosts.base.Statting`."""
        return os.path.isfile(path)

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """A new temporary file beside ``path``, created with ``mode`` by the ``open`` itself
        (never chmodded afterwards: a secret is not readable for a moment, and pmxcfs refuses
        chmod), then renamed over ``path``."""
        self.changes += 1
        directory = os.path.dirname(path) or "."
        try:
            tmp = os.path.join(directory, f".phoenix-{secrets.token_hex(6)}.tmp")
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(tmp, flags, mode)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            raise HostError(f"cannot write {path} on {self.name}: {exc.strerror}") from None


class _HeldProcess:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def release(self) -> None:
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
