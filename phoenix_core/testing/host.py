"""A recording, scriptable :class:`~phoenix_core.hosts.base.Host` that runs nothing.

Tests of a manager give it a :class:`RecordingHost` instead of a node: each command is
answered by the most recently added matching rule (or the default answer), files live in a dict,
and every command and file write is journaled with whether it was mutating (and the ``input``
and ``timeout`` it was given), so a test can say "the second converge ran no mutating command"
as ``assert host.mutations == []``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import attrs

from phoenix_core.hosts.base import CommandResult


@attrs.frozen
class Reply:
    """A scripted answer: exit code and output (the argv is filled in when it is used)."""

    returncode: int = 0
    stdout: str = ""
    stderr: str = ""

    def result(self, argv: Sequence[str]) -> CommandResult:
        return CommandResult(tuple(argv), self.returncode, self.stdout, self.stderr)


class Command(NamedTuple):
    """One journaled command: its argv (``("write", path)`` for a file write), whether it went
    through :meth:`~phoenix_core.hosts.base.Host.change`, and the ``input`` (standard input) and
    ``timeout`` it was run with (``None`` when not given, and for file writes).

    A named tuple, so ``Command(argv, mutating)`` compares equal to a journaled command that
    had no input and no timeout; read the fields by name (``entry.argv``, ``entry.mutating``).
    """

    argv: tuple[str, ...]
    mutating: bool
    input: str | None = None
    timeout: float | None = None


#: What a rule matches: an argv prefix, or a predicate on the whole argv.
Match = Sequence[str] | Callable[[tuple[str, ...]], bool]
#: What a rule answers: a fixed :class:`Reply`; a sequence of Replies, used one per command in
#: order with the last one repeating; or a function of the argv (it may also raise, e.g.
#: :class:`~phoenix_core.errors.HostError` to simulate a lost connection).
Answer = Reply | Sequence[Reply] | Callable[[tuple[str, ...]], "CommandResult | Reply"]


class InOrder:
    """Replies given one per command in order; once they run out, the last one repeats."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        self.replies = list(replies)
        if not self.replies:
            raise ValueError("a sequence of replies needs at least one Reply")
        for reply in self.replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"expected a Reply in the sequence, got {reply!r}")
        self.used = 0

    def __call__(self, argv: tuple[str, ...]) -> Reply:
        reply = self.replies[min(self.used, len(self.replies) - 1)]
        self.used += 1
        return reply


def _in_order(answer: Answer) -> Reply | Callable[[tuple[str, ...]], CommandResult | Reply]:
    if isinstance(answer, Reply) or callable(answer):
        return answer
    return InOrder(answer)


@attrs.frozen
class Rule:
    """A scripted answer for the commands ``match`` selects (a sequence of Replies becomes an
    :class:`InOrder`)."""

    match: Match
    answer: Reply | Callable[[tuple[str, ...]], CommandResult | Reply] = attrs.field(
        converter=_in_order
    )

    def matches(self, argv: tuple[str, ...]) -> bool:
        if callable(self.match):
            return bool(self.match(argv))
        prefix = tuple(self.match)
        return argv[: len(prefix)] == prefix


class RecordingHost:
    """An in-memory :class:`~phoenix_core.hosts.base.Host` for tests.

    - ``on(match, ...)`` scripts answers; the most recently added matching rule answers, so a
      test can override a broad rule its fixture set up. Unmatched commands get ``default``
      (success with no output unless changed).
    - ``files`` is the node's file system for ``read_file``/``write_file`` (``modes`` keeps the
      mode each write asked for).
    - ``journal`` lists every command and write in order, as :class:`Command` entries (argv,
      mutating, input, timeout); ``mutations`` and ``queries`` are its two halves, as argv
      tuples.

    Subclasses that simulate a tool (the core's own ``FakeNode``) override :meth:`unanswered`.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        default: Reply | None = None,
        files: Mapping[str, bytes | str] | None = None,
    ) -> None:
        self.name = name
        self.default = default or Reply()
        self.rules: list[Rule] = []
        self.journal: list[Command] = []
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, int] = {}
        self.closed = False
        for path, data in (files or {}).items():
            self.files[path] = data.encode() if isinstance(data, str) else data

    # -- scripting -----------------------------------------------------------------------
    def on(
        self,
        match: Match,
        answer: Answer | None = None,
        *,
        returncode: int = 0,
        stdout: str = "",
        stderr: str = "",
    ) -> RecordingHost:
        """Answer commands matching ``match`` (an argv prefix or a predicate) with ``answer``,
        or with a :class:`Reply` built from ``returncode``, ``stdout`` and ``stderr``.

        ``answer`` is a :class:`Reply`, a function of the argv returning a :class:`Reply` or a
        :class:`~phoenix_core.hosts.base.CommandResult` (or raising), or a sequence of Replies:
        the first matching command gets the first, the next one the second, and so on, the
        last one repeating for every command after that, e.g.
        ``host.on(["systemctl", "start"], [Reply(1, stderr="busy"), Reply()])``.

        Returns the host, so rules chain:
        ``host.on(["systemctl", "is-active"], stdout="active").on(["false"], returncode=1)``.
        """
        if answer is None:
            answer = Reply(returncode, stdout, stderr)
        if not callable(match):
            match = tuple(str(part) for part in match)
        self.rules.append(Rule(match, answer))
        return self

    # -- what happened ---------------------------------------------------------------------
    @property
    def mutations(self) -> list[tuple[str, ...]]:
        """The argv of every mutating command and file write, in order."""
        return [entry.argv for entry in self.journal if entry.mutating]

    @property
    def queries(self) -> list[tuple[str, ...]]:
        """The argv of every read-only command, in order."""
        return [entry.argv for entry in self.journal if not entry.mutating]

    # -- the Host contract -----------------------------------------------------------------
    def query(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        return self._run(argv, mutating=False, timeout=timeout, input=input)

    def change(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        return self._run(argv, mutating=True, timeout=timeout, input=input)

    def read_file(self, path: str) -> bytes:
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        self.journal.append(Command(("write", path), True))
        self.files[path] = data
        self.modes[path] = mode

    def close(self) -> None:
        self.closed = True

    # -- answering ---------------------------------------------------------------------------
    def unanswered(self, argv: tuple[str, ...]) -> CommandResult:
        """The answer when no rule matches: ``default``. Override to simulate a tool."""
        return self.default.result(argv)

    def _run(
        self,
        argv: Sequence[str],
        *,
        mutating: bool,
        timeout: float | None = None,
        input: str | None = None,
    ) -> CommandResult:
        # Real transports stringify argv too; doing it here keeps journals comparable.
        args = tuple(str(part) for part in argv)
        if not args:
            raise ValueError("empty argv")
        self.journal.append(Command(args, mutating, input, timeout))
        for rule in reversed(self.rules):
            if rule.matches(args):
                answer = rule.answer if isinstance(rule.answer, Reply) else rule.answer(args)
                return answer.result(args) if isinstance(answer, Reply) else answer
        return self.unanswered(args)
