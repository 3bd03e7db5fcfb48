"""What a run did, guest by guest: the records the engine returns and the CLI prints."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import attrs

from phoenix_core.config.types import TargetId
from phoenix_core.steps import Change, StepReport

if TYPE_CHECKING:
    from phoenix_core.plan import Plan

Status = Literal["ok", "changed", "planned", "exists", "failed", "skipped"]

#: How each status reads in text output and progress lines.
LABELS: dict[str, str] = {
    "ok": "in sync",
    "changed": "changed",
    "planned": "would change",
    "exists": "exists",
    "failed": "FAILED",
    "skipped": "skipped",
}
#: The status that stands for a target with several actions (``LetsGo``: converge, then
#: start): the first of these it has.
PRECEDENCE: tuple[Status, ...] = ("failed", "changed", "planned", "skipped", "exists", "ok")
#: ``plan --detailed-exitcode``: the plan found changes (Terraform uses 2, phoenix's usage error).
CHANGES_PENDING = 3
#: ``LetsGo --only-installed`` left guests unbuilt because their managers are not installed.
PARTIAL = 4


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
    #: Why the target's node needs a reboot, per part (``nvidia``: the driver installed).
    reboot: dict[str, str] = attrs.Factory(dict)

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
            **({"reboot": dict(self.reboot)} if self.reboot else {}),
        }


@attrs.define
class RunResult:
    """All outcomes of one invocation, in the order they happened."""

    verb: str
    dry_run: bool
    outcomes: list[Outcome] = attrs.Factory(list)
    #: The signal (SIGINT, SIGTERM) that stopped the run early, if one did.
    signal: int | None = None
    #: ``plan --detailed-exitcode``: pending changes end the run with :data:`CHANGES_PENDING`.
    detailed_exitcode: bool = False
    #: Guests were left out because no installed manager handles them (exit :data:`PARTIAL`).
    partial: bool = False
    #: The actions that ran, what each waited for and held (None: nothing was planned).
    plan: Plan | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def changes_pending(self) -> bool:
        """A dry run found drift it would change."""
        return any(o.status == "planned" for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """128 + the signal when interrupted (130, 143), as a shell reports it; else 1 when
        anything failed; else :data:`PARTIAL` when guests were left out for want of their
        manager; else :data:`CHANGES_PENDING` when asked for and a plan found drift."""
        if self.signal is not None:
            return 128 + self.signal
        if self.failed:
            return 1
        if self.partial:
            return PARTIAL
        return CHANGES_PENDING if self.detailed_exitcode and self.changes_pending else 0

    def counts(self) -> dict[str, int]:
        """How many outcomes have each status, in the order the statuses first occur."""
        return _tally(o.status for o in self.outcomes)

    def targets(self) -> dict[TargetId, Status]:
        """Each target once, in the order of its first outcome, with the status that stands
        for all of its actions (:data:`PRECEDENCE`)."""
        found: dict[TargetId, Status] = {}
        for outcome in self.outcomes:
            held = found.get(outcome.id)
            if held is None or PRECEDENCE.index(outcome.status) < PRECEDENCE.index(held):
                found[outcome.id] = outcome.status
        return found

    def target_counts(self) -> dict[str, int]:
        """How many targets have each status (:meth:`targets`), in :data:`PRECEDENCE` order."""
        tally = _tally(self.targets().values())
        return {s: tally[s] for s in PRECEDENCE if s in tally}


def _tally(statuses: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts
