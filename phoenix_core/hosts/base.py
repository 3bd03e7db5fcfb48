"""The ``Host`` contract every transport implements, and the result of one command.

Managers never build shell strings: they hand an argv list to :meth:`Host.query` (reads,
which a dry run executes) or :meth:`Host.change` (writes, which a dry run records). The split
is what makes ``plan`` and ``--dry-run`` safe by construction rather than by care.
"""

from __future__ import annotations

import posixpath
import shlex
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import attrs

from phoenix_core.errors import CommandFailed

DEFAULT_TIMEOUT = 300.0


@attrs.frozen
class CommandResult:
    """What one command did: its argv, exit code and captured output."""

    argv: tuple[str, ...] = attrs.field(converter=tuple)
    returncode: int
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def command(self) -> str:
        """The argv as one line a user could paste into a shell."""
        return shlex.join(self.argv)

    def check(self) -> CommandResult:
        """Return ``self`` when the command succeeded, else raise :class:`CommandFailed`."""
        if self.ok:
            return self
        detail = (self.stderr.strip() or self.stdout.strip() or "no output").splitlines()[-1]
        raise CommandFailed(self, f"`{self.command}` exited {self.returncode}: {detail}")


def node_path(host: Host, path: str) -> str:
    """Where the node's absolute ``path`` is, for a command run on ``host`` to name it.

    The path itself on a real node. A node that lives in a directory of this machine (the
    simulator, ``--host sim:DIR``) has its ``/`` there and says so in ``root``: its files are
    reached through :meth:`Host.read_file`/:meth:`Host.write_file` by their node path, and a
    command argument naming one goes through this function.
    """
    root = getattr(host, "root", "/")
    if root == "/" or path == root or path.startswith(root.rstrip("/") + "/"):
        return path
    return posixpath.join(root, path.lstrip("/"))


@runtime_checkable
class Host(Protocol):
    """A machine that runs Proxmox's tools: the local node, a node over SSH, or a dry run."""

    name: str

    def query(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        """Run a command that only reads state; a dry run executes it too."""
        ...

    def change(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        """Run a command that changes state; a dry run records it instead."""
        ...

    def read_file(self, path: str) -> bytes:
        """Return a file's bytes; raise ``FileNotFoundError`` when it does not exist."""
        ...

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Replace a file atomically (readers see the old or the new content, never half)."""
        ...

    def close(self) -> None:
        """Release connections; the host must not be used afterwards."""
        ...


@runtime_checkable
class ReadingMany(Protocol):
    """A host that reads several files in one round trip (a node over SSH), where reading them
    one by one costs a round trip or more each."""

    def read_files(self, paths: Sequence[str]) -> dict[str, bytes | None]:
        """Each of ``paths``: its bytes, or None when it does not exist. Raises what
        :meth:`Host.read_file` raises for a file that exists but cannot be read."""
        ...


@runtime_checkable
class Statting(Protocol):
    """A host that tells whether a file is there without reading it or running a Proxmox tool:
    a stat, where the answer a tool gives would cost a Perl start-up."""

    def is_file(self, path: str) -> bool:
        """Whether ``path`` is a regular file, following symbolic links. False when it is not,
        or when the host cannot tell (no permission): a caller asks Proxmox then."""
        ...


@runtime_checkable
class Reconnecting(Protocol):
    """A host reached over a connection, which can prove the node still accepts new ones."""

    def check_new_connection(self) -> None:
        """Open a new connection to the node, run one command on it, close it; raise
        :class:`~phoenix_core.errors.HostError` when the node does not accept it."""
        ...


class Held(Protocol):
    """A command started by :meth:`Holding.hold` and kept running."""

    def release(self) -> None:
        """Close the command's stdin and let it end."""
        ...


@runtime_checkable
class Holding(Protocol):
    """A host that can keep a command running for as long as phoenix runs (the run lock)."""

    name: str

    def hold(self, argv: Sequence[str], *, probe: str) -> Held:
        """Start ``argv``, a command that copies its stdin to its stdout once it is ready
        (``flock FILE cat``), with its stdin tied to phoenix; return once the line ``probe``
        came back. Raise :class:`CommandFailed` (with its result) if it ends instead. It
        ends when released, or when phoenix or the connection to the node goes away."""
        ...


class BaseHost(ABC):
    """Shared behaviour of real transports: the query/change split, timing and counting.

    Subclasses implement :meth:`_execute` and the two file operations.
    """

    name: str = "host"

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self.queries = 0
        self.changes = 0

    def query(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        self.queries += 1
        return self._timed(argv, timeout, input)

    def change(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        self.changes += 1
        return self._timed(argv, timeout, input)

    def _timed(
        self, argv: Sequence[str], timeout: float | None, input: str | None
    ) -> CommandResult:
        argv = tuple(str(arg) for arg in argv)
        if not argv:
            raise ValueError("empty argv")
        from phoenix_core import interrupt
        from phoenix_core.logs import logger

        interrupt.check(shlex.join(argv))
        started = time.perf_counter()
        rc, out, err = self._execute(argv, timeout or self.timeout, input)
        result = CommandResult(argv, rc, out, err, time.perf_counter() - started)
        # Bound as a command: the terminal shows these with -vv only, the files always.
        logger.bind(command=True).debug(
            "{} [{}] rc={} {:.0f} ms", result.command, self.name, rc, result.duration * 1e3
        )
        return result

    @abstractmethod
    def _execute(
        self, argv: tuple[str, ...], timeout: float, input: str | None
    ) -> tuple[int, str, str]:
        """Run argv and return (exit code, stdout, stderr); raise HostError if it cannot run."""

    @abstractmethod
    def read_file(self, path: str) -> bytes: ...

    @abstractmethod
    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional override: most hosts hold nothing
        """Nothing to release by default."""
