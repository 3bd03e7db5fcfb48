"""A host wrapper that executes reads and records writes: the engine of ``plan`` and ``--dry-run``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from phoenix_core.hosts.base import CommandResult, Host, ReadingMany, Statting


@attrs.frozen
class PlannedCommand:
    """A change a dry run did not make: a command, or a file it would have written."""

    host: str
    argv: tuple[str, ...] = attrs.field(converter=tuple)
    path: str | None = None


class DryRunHost:
    """Wraps any :class:`Host`: queries go through, changes are recorded and answered with success."""

    #: Set only when the wrapped host reads many files at once (it is then :class:`ReadingMany`).
    read_files: Callable[[Sequence[str]], dict[str, bytes | None]]
    #: Set only when the wrapped host stats files (it is then :class:`Statting`).
    is_file: Callable[[str], bool]

    def __init__(self, inner: Host) -> None:
        self.inner = inner
        self.name = inner.name
        #: The node's ``/`` as commands name it (see :func:`~phoenix_core.hosts.base.node_path`).
        self.root: str = getattr(inner, "root", "/")
        self.planned: list[PlannedCommand] = []
        if isinstance(inner, ReadingMany):
            self.read_files = inner.read_files
        if isinstance(inner, Statting):
            self.is_file = inner.is_file

    def query(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        return self.inner.query(argv, timeout=timeout, input=input)

    def change(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        self.planned.append(PlannedCommand(self.name, tuple(str(a) for a in argv)))
        return CommandResult(argv, 0)

    def read_file(self, path: str) -> bytes:
        return self.inner.read_file(path)

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        self.planned.append(PlannedCommand(self.name, ("write", path), path=path))

    def close(self) -> None:
        self.inner.close()
