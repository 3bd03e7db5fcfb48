"""Collects every problem found while loading, so one run reports them all."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import attrs

from phoenix_core.config.convert import converter, describe
from phoenix_core.errors import ConfigError

T = TypeVar("T")


@attrs.frozen
class Problem:
    """One finding: which file, where in it, what is wrong, and whether it stops the run."""

    file: str
    path: str
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


@attrs.define
class Diagnostics:
    """Errors and warnings of one load, each naming file and JSON path.

    Managers receive one in :meth:`~phoenix_core.manager.Manager.parse` and report through
    :meth:`error`, :meth:`warn` and :meth:`structure`.
    """

    problems: list[Problem] = attrs.Factory(list)
    #: Each problem is reported once: two managers reading one shared section (or one host
    #: file parsed per node) find the same ones.
    _seen: set[Problem] = attrs.field(factory=set, init=False, repr=False)

    def error(self, file: str | Path, path: str, message: str) -> None:
        self._add(Problem(_name(file), path, message))

    def warn(self, file: str | Path, path: str, message: str) -> None:
        self._add(Problem(_name(file), path, message, fatal=False))

    def _add(self, problem: Problem) -> None:
        if problem not in self._seen:
            self._seen.add(problem)
            self.problems.append(problem)

    def structure(self, file: str | Path, path: str, data: Any, cls: type[T]) -> T | None:
        """Structure ``data`` into ``cls`` with the shared converter; record errors, return None."""
        try:
            return converter.structure(data, cls)
        except Exception as exc:  # cattrs raises a tree of many exception types
            for where, message in describe(exc, path, cls):
                self.error(file, where, message)
            return None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.fatal]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ConfigError([str(p) for p in self.errors])


def _name(file: str | Path) -> str:
    return Path(file).name if isinstance(file, Path) else file
