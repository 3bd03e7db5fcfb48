"""An in-memory node for phoenix_pve's unit tests: records every command and answers each
from scripted results, matched by argv prefix (the longest prefix wins).

Imported by the test modules (no conftest.py: module names must stay unique across the repo).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from phoenix_core.hosts.base import CommandResult


@attrs.frozen
class Call:
    argv: tuple[str, ...]
    mutating: bool
    input: str | None = None
    timeout: float | None = None


class FakeHost:
    """A :class:`~phoenix_core.hosts.base.Host` that runs nothing."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, tuple[bytes, int]] = {}
        self._answers: list[tuple[tuple[str, ...], list[tuple[int, str, str]]]] = []

    def on(self, *prefix: str, rc: int = 0, stdout: str = "", stderr: str = "") -> FakeHost:
        """Answer commands starting with ``prefix``; several answers for one prefix are used
        in order, the last one repeating."""
        for known, answers in self._answers:
            if known == prefix:
                answers.append((rc, stdout, stderr))
                return self
        self._answers.append((prefix, [(rc, stdout, stderr)]))
        return self

    @property
    def argvs(self) -> list[list[str]]:
        return [list(c.argv) for c in self.calls]

    @property
    def mutations(self) -> list[list[str]]:
        return [list(c.argv) for c in self.calls if c.mutating]

    def query(self, argv: Sequence[str], **kwargs: Any) -> CommandResult:
        return self._run(argv, False, **kwargs)

    def change(self, argv: Sequence[str], **kwargs: Any) -> CommandResult:
        return self._run(argv, True, **kwargs)

    def _run(
        self,
        argv: Sequence[str],
        mutating: bool,
        *,
        timeout: float | None = None,
        input: str | None = None,
    ) -> CommandResult:
        args = tuple(str(a) for a in argv)
        self.calls.append(Call(args, mutating, input, timeout))
        matches = [(p, a) for p, a in self._answers if args[: len(p)] == p]
        if not matches:
            return CommandResult(args, 0)
        _, answers = max(matches, key=lambda m: len(m[0]))
        rc, out, err = answers.pop(0) if len(answers) > 1 else answers[0]
        return CommandResult(args, rc, out, err)

    def read_file(self, path: str) -> bytes:
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path][0]

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        self.calls.append(Call(("write", path), True))
        self.files[path] = (data, mode)

    def close(self) -> None:
        pass
