"""Checks and tests a manager offers for a target, and running one with its retries.

``phoenix health-check`` asks each target's manager for its :class:`Check` objects (the
optional :meth:`HealthChecks.checks`), ``phoenix test`` for its test cases (the optional
:meth:`HealthChecks.tests`); both run them with :func:`run_check`. The core only knows that a
check is a callable answering one :class:`Attempt`: what it runs, and where, is the manager's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from phoenix_core.config.models import TargetConfig
    from phoenix_core.config.types import TargetId
    from phoenix_core.manager import RunContext

#: How many of a check's last output lines a result keeps (the table and JSON show them).
TAIL_LINES = 10

#: ``passed``, ``failed``, or ``skipped`` (not run: a prerequisite failed; counts as a failure
#: of the target, since what it checks is unknown).
Result = Literal["passed", "failed", "skipped"]


@attrs.frozen
class Attempt:
    """What one run of a check said: passed or not, its output, and (when it failed) why."""

    passed: bool
    output: str = ""
    #: One line for people: ``CT 101 is stopped``, ``exited 1``.
    reason: str = ""


@attrs.frozen(kw_only=True)
class Check:
    """One health check (or test case) of a target, ready to run.

    ``attempt`` runs it once. It is tried up to ``retries`` times (at least once), ``interval``
    seconds apart, until it passes. A ``required`` check that fails stops the target's later
    checks, which are reported ``skipped`` with its reason (a stopped container fails
    ``running``, not five checks with confusing messages).
    """

    name: str
    attempt: Callable[[], Attempt]
    retries: int = 1
    interval: float = 0.0
    #: Where it runs, for people: ``host pve1``, ``CT 101``.
    where: str = ""
    required: bool = False
    #: The test suite a test case belongs to (None for a health check).
    suite: str | None = None


@attrs.frozen(kw_only=True)
class CheckResult:
    """How a check ended; ``target`` is the target's id (an integer for a guest)."""

    target: TargetId
    name: str
    result: Result
    attempts: int
    #: Seconds, all attempts and intervals included.
    duration: float
    #: The last :data:`TAIL_LINES` lines of the last attempt's output.
    output: str = ""
    reason: str = ""
    where: str = ""
    suite: str | None = None

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    def to_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "check": self.name,
            "suite": self.suite,
            "where": self.where,
            "result": self.result,
            "attempts": self.attempts,
            "duration": round(self.duration, 3),
            "reason": self.reason or None,
            "output": self.output,
        }


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty lines of ``text``."""
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run_check(
    target: TargetId, check: Check, sleep: Callable[[float], None] = time.sleep
) -> CheckResult:
    """Try ``check`` until it passes or its retries are spent; never raises for a failing
    check: an exception in ``attempt`` is a failed attempt with its message (a bug in one
    manager's check must not lose the report of all the others). Once the run is interrupted
    (SIGINT/SIGTERM) no further attempt starts: the check is ``skipped``, saying so."""
    from phoenix_core import interrupt
    from phoenix_core.errors import PhoenixError

    started = time.monotonic()
    tries = max(1, check.retries)
    attempt = Attempt(False, reason="not run")
    count = 0
    for count in range(1, tries + 1):
        try:
            attempt = check.attempt()
        except PhoenixError as exc:
            attempt = Attempt(False, reason=str(exc))
        except Exception as exc:
            attempt = Attempt(False, reason=f"internal error: {type(exc).__name__}: {exc}")
        if attempt.passed or count == tries:
            break
        sleep(check.interval)
        signum = interrupt.received()
        if signum is not None:
            reason = f"{interrupt.describe(signum)} after {count} of {tries} attempts"
            return attrs.evolve(skipped(target, check, reason), attempts=count)
    return CheckResult(
        target=target,
        name=check.name,
        result="passed" if attempt.passed else "failed",
        attempts=count,
        duration=time.monotonic() - started,
        output=tail(attempt.output),
        reason="" if attempt.passed else attempt.reason or "failed",
        where=check.where,
        suite=check.suite,
    )


def run_checks(
    target: TargetId, checks: Sequence[Check], sleep: Callable[[float], None] = time.sleep
) -> list[CheckResult]:
    """Run ``checks`` in order; after a failed ``required`` check, or once the run is
    interrupted, the rest are skipped."""
    from phoenix_core import interrupt

    results: list[CheckResult] = []
    blocker: CheckResult | None = None
    for check in checks:
        signum = interrupt.received()
        if signum is not None:
            results.append(skipped(target, check, f"not run: {interrupt.describe(signum)}"))
            continue
        if blocker is not None:
            results.append(skipped(target, check, f"not run: {blocker.name} failed"))
            continue
        result = run_check(target, check, sleep)
        results.append(result)
        if check.required and not result.passed:
            blocker = result
    return results


def skipped(target: TargetId, check: Check, reason: str) -> CheckResult:
    """``check`` reported as not run, with why."""
    return CheckResult(
        target=target,
        name=check.name,
        result="skipped",
        attempts=0,
        duration=0.0,
        reason=reason,
        where=check.where,
        suite=check.suite,
    )


@runtime_checkable
class HealthChecks(Protocol):
    """Optional methods of a manager: the checks ``phoenix health-check`` runs and the test
    cases ``phoenix test`` runs (see ``docs/plugins/hooks.md``). A manager may implement either.
    """

    def checks(self, target: TargetConfig, ctx: RunContext) -> Sequence[Check]:
        """The target's health checks in order: the ones the manager ships, then configured ones."""
        ...

    def tests(self, target: TargetConfig, ctx: RunContext) -> Sequence[Check]:
        """The target's configured test cases, each with its ``suite``."""
        ...
