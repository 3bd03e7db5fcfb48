"""What a run did, guest by guest: the records the engine returns and the CLI prints."""

from __future__ import annotations

from typing import Literal

import attrs

from phoenix_core.config.types import TargetId
from phoenix_core.steps import Change, StepReport

Status = Literal["ok", "changed", "planned", "exists", "failed", "skipped"]


@attrs.define
class Outcome:
    """The result of one verb on one target.

    ``ok``: in sync, nothing to do. ``changed``: drift found and repaired. ``planned``: drift
    found by a dry run. ``exists``: ``create`` found a dependency built and left it alone.
    ``failed``: ``error`` says why. ``skipped``: not attempted, ``note`` says why.
    """

    id: TargetId
    kind: str
    name: str
    verb: str
    status: Status
    reports: list[StepReport] = attrs.Factory(list)
    error: str | None = None
    note: str | None = None
    duration: float = 0.0

    @property
    def changes(self) -> list[tuple[str, Change]]:
        return [(r.step, c) for r in self.reports for c in r.changes]

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "verb": self.verb,
            "status": self.status,
            "changes": [
                {"step": step, "what": c.what, "from": c.before, "to": c.after}
                for step, c in self.changes
            ],
            "error": self.error,
            "note": self.note,
            "seconds": round(self.duration, 3),
        }


@attrs.define
class RunResult:
    """All outcomes of one invocation, in the order they happened."""

    verb: str
    dry_run: bool
    outcomes: list[Outcome] = attrs.Factory(list)
    #: The signal (SIGINT, SIGTERM) that stopped the run early, if one did.
    signal: int | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def exit_code(self) -> int:
        """128 + the signal when interrupted (130, 143), as a shell reports it; else 1 when
        anything failed."""
        if self.signal is not None:
            return 128 + self.signal
        return 1 if self.failed else 0
