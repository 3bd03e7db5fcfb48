"""Steps: how a manager describes convergence so that plan, dry-run and idempotency come free.

A step pairs a read-only ``check`` (what would change, empty when in sync) with an ``apply``
that makes exactly those changes. The engine runs ``check``; it runs ``apply`` only when
there is something to change and the run is not a dry run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs


def _show(value: Any) -> str:
    return "(none)" if value is None else str(value)


@attrs.frozen
class Change:
    """One difference between the live state and the desired state: what, from, to.

    ``what``, ``before`` and ``after`` are for people (plan output, logs, ``-o json``);
    ``data`` is for the step's own ``apply``: a typed value (a rule position, a snapshot name,
    an attrs record) so that apply never parses the text back. It is left out of output.
    """

    what: str
    before: Any = None
    after: Any = None
    data: Any = attrs.field(default=None, eq=False, repr=False)

    def __str__(self) -> str:
        return f"{self.what}: {_show(self.before)} -> {_show(self.after)}"


@attrs.frozen
class Step:
    """A named unit of convergence.

    ``check()`` must not change anything; it returns the changes ``apply`` would make.
    ``apply(changes)`` receives that same list and must leave the node so that a following
    ``check()`` returns nothing.
    """

    name: str
    check: Callable[[], Sequence[Change]]
    apply: Callable[[Sequence[Change]], None]


@attrs.frozen
class StepReport:
    """What happened to one step in a run."""

    step: str
    changes: tuple[Change, ...] = attrs.field(converter=tuple)
    applied: bool = False


def run_steps(
    steps: Sequence[Step], *, dry_run: bool, on_step: Callable[[str], None] | None = None
) -> list[StepReport]:
    """Check every step in order and apply the ones that found drift (unless ``dry_run``).

    ``on_step(name)`` is called before each step's check (progress shows the current step).

    Raises whatever a check or apply raises: the engine turns that into a failed action.
    """
    from phoenix_core.logs import logger

    reports = []
    for step in steps:
        if on_step is not None:
            on_step(step.name)
        changes = tuple(step.check())
        applied = False
        if changes:
            # A dry run prints its plan as the result; its log lines would only repeat it.
            level = "DEBUG" if dry_run else "INFO"
            for change in changes:
                logger.log(level, "{}: {}", step.name, change)
            if not dry_run:
                step.apply(changes)
                applied = True
        reports.append(StepReport(step.name, changes, applied))
    return reports
