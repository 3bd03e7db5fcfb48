"""``phoenix health-check`` and ``phoenix test``: run what managers offer, report, exit 0 or 1.

Each target's checks (or test cases) come from its manager's optional ``checks``/``tests``
method (:class:`~phoenix_core.checks.HealthChecks`). A target's runtime ``dependencies`` are
looked at first: one that is not running is reported as such, and the target's own checks are
not run (they would only fail in confusing ways). Targets run side by side on a small thread
pool (``--jobs``); a target's checks run in order. Results are printed in target order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from phoenix_core import interrupt
from phoenix_core.checks import Attempt, Check, CheckResult, run_checks
from phoenix_core.errors import PhoenixError, UsageError
from phoenix_core.names import DEFAULT_JOBS
from phoenix_core.render import document, emit_json, table
from phoenix_core.select import Selector, select

if TYPE_CHECKING:
    from phoenix_core.config.models import TargetConfig
    from phoenix_core.config.types import TargetId
    from phoenix_core.engine import Engine

#: Which manager method a verb asks: ``checks`` (health-check) or ``tests`` (test).
Method = Literal["checks", "tests"]
#: The check that stands for a target's runtime dependencies.
DEPENDENCIES = "dependencies"


def targets(
    engine: Engine, ids: Sequence[str], selector: Selector | None = None
) -> list[TargetConfig]:
    """The targets asked for (when no ids: the host targets and every guest desired running,
    ``start_at_boot``, that an installed manager handles; a build-only clone source is
    stopped by design) that the selectors match, dependencies before dependents."""
    if ids:
        wanted = engine.resolve(ids)
        engine.require_managers(wanted, wanted)
    else:
        wanted = [
            i
            for i in engine.all_ids()
            if engine.plugins.manager(engine.config.target(i).kind) is not None
            and _checked_unnamed(engine.config.target(i))
        ]
    if selector is not None and selector.narrows:
        wanted = select(engine.config, wanted, wanted, selector)
    chosen = set(wanted)
    ordered = [i for i in engine.graph.order(wanted) if i in chosen]
    return [engine.config.target(i) for i in ordered]


def _checked_unnamed(target: TargetConfig) -> bool:
    """Is ``target`` checked when no ids are given? Hosts, guests desired running, and targets
    of a kind whose spec has no power setting (``start_at_boot``): only a guest stopped by
    design is left out."""
    return target.is_host or target.starts_at_boot or not hasattr(target.spec, "start_at_boot")


def _dependencies_check(engine: Engine, target: TargetConfig) -> Check | None:
    """A required check that every runtime dependency of ``target`` is running."""
    deps = []
    for ident in target.common.dependencies:
        dep = engine.config.target(ident) if ident in engine.config else None
        manager = engine.plugins.manager(dep.kind) if dep is not None else None
        # The context (and its host connection) is made here, on the main thread, so the
        # pool's threads never race to open one node's connection.
        deps.append((ident, dep, manager, engine.context(dep) if manager and dep else None))
    if not deps:
        return None

    def attempt() -> Attempt:
        down = []
        for ident, dep, manager, ctx in deps:
            if dep is None:
                down.append(f"dependency {ident} is not defined in the files read")
            elif manager is None or ctx is None:
                down.append(f"dependency {dep}: no installed manager handles {dep.kind} targets")
            else:
                state = manager.observe(dep, ctx)
                if not state.running:
                    down.append(
                        f"dependency {dep} is {state.status if state.exists else 'missing'}"
                    )
        return Attempt(not down, reason="; ".join(down))

    return Check(name=DEPENDENCIES, attempt=attempt, required=True, where="phoenix")


def _broken(name: str, reason: str) -> Check:
    """A check that could not be built: it fails with ``reason``."""
    return Check(name=name, attempt=lambda: Attempt(False, reason=reason))


def checks_of(
    engine: Engine, target: TargetConfig, method: Method, suite: str | None = None
) -> list[Check]:
    """What the manager offers (only the cases of ``suite`` when given), preceded by the
    dependency check; nothing when it offers nothing. A manager's error is one failing check
    with its message."""
    manager = engine.plugins.manager(target.kind)
    offer: Callable[..., Sequence[Check]] | None = getattr(manager, method, None)
    if offer is None:
        return []
    try:
        found = [c for c in offer(target, engine.context(target)) if suite in (None, c.suite)]
    except PhoenixError as exc:
        found = [_broken(method, str(exc))]
    except Exception as exc:  # a manager bug is one failed row, not a lost report
        found = [_broken(method, f"internal error in the {target.kind} manager: {exc!r}")]
    gate = _dependencies_check(engine, target)
    return [gate, *found] if found and gate is not None else found


def run(
    engine: Engine,
    ids: Sequence[str],
    method: Method,
    *,
    jobs: int = DEFAULT_JOBS,
    suite: str | None = None,
    selector: Selector | None = None,
    sleep: Callable[[float], None] = interrupt.pause,
) -> list[CheckResult]:
    """Every selected target's checks (or tests of ``suite``), targets ``jobs`` at a time.

    A signal (under :func:`phoenix_core.interrupt.handling`) wakes the retries' waits; the
    checks not started yet are reported skipped, so the report is whole."""
    chosen = targets(engine, ids, selector)
    plans = [(t.id, checks_of(engine, t, method, suite)) for t in chosen]
    if suite is not None and not any(found for _, found in plans):
        raise UsageError(f"no selected target has a test suite {suite!r}")
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="phoenix-check")
    try:
        futures = [pool.submit(_run_target, label, found, sleep) for label, found in plans]
        return [result for future in futures for result in future.result()]
    finally:
        # A manager's bug raising here drops the targets not started yet; running checks end
        # within their time limit.
        pool.shutdown(wait=True, cancel_futures=True)


def _run_target(
    label: TargetId, found: Sequence[Check], sleep: Callable[[float], None]
) -> list[CheckResult]:
    """One target's checks, each result logged (the log files keep what cron runs showed)."""
    from phoenix_core.logs import logger

    results = run_checks(label, found, sleep)
    for r in results:
        if r.result == "failed":
            logger.warning(
                "{} {}: failed after {} attempts: {}", r.target, r.name, r.attempts, r.reason
            )
        else:
            logger.debug("{} {}: {} {}", r.target, r.name, r.result, r.reason)
    return results


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    return {
        state: sum(r.result == state for r in results) for state in ("passed", "failed", "skipped")
    }


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 when every check passed; 1 when one failed or could not run; 128 + the signal
    (130, 143) when the run was interrupted."""
    signum = interrupt.received()
    if signum is not None:
        return 128 + signum
    return 0 if all(r.passed for r in results) else 1


def show(results: Sequence[CheckResult], output: str, shape: str, verb: str) -> None:
    """The table (with the output tail of each failure below it), or the JSON document."""
    if output == "json":
        emit_json(
            document(
                shape,
                version=2,
                verb=verb,
                exit_code=exit_code(results),
                counts=counts(results),
                results=[r.to_dict() for r in results],
            )
        )
        return
    if not results:
        print(f"{verb}: no target has {'tests' if verb == 'test' else 'health checks'}")
        return
    headers = ("TARGET", "CHECK", "RESULT", "ATTEMPTS", "DURATION", "DETAIL")
    rows = [
        (
            r.target,
            f"{r.suite}/{r.name}" if r.suite else r.name,
            r.result,
            r.attempts,
            f"{r.duration:.1f}s",
            r.reason or (r.output.splitlines()[-1] if r.output else ""),
        )
        for r in results
    ]
    print(table(headers, rows))
    for r in results:
        if r.result == "failed" and r.output:
            print(f"\n{r.target} {r.name} ({r.where}), last output lines:")
            print("\n".join(f"  | {line}" for line in r.output.splitlines()))
    tally = counts(results)
    print(f"\n{verb}: " + ", ".join(f"{n} {state}" for state, n in tally.items()))
    signum = interrupt.received()
    if signum is not None:
        print(
            f"{interrupt.describe(signum)}: running checks were let finish, no further one was started"
        )


def junit(results: Sequence[CheckResult], path: Path, verb: str = "test") -> None:
    """Write JUnit XML: a ``testsuite`` per target and suite, a ``testcase`` per test; a failed
    test is a ``failure`` (its reason, its output as text), one that could not run an ``error``."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name=f"phoenix {verb}")
    groups: dict[tuple[TargetId, str], list[CheckResult]] = {}
    for r in results:
        groups.setdefault((r.target, r.suite or "checks"), []).append(r)
    for (target, suite), cases in groups.items():
        element = ET.SubElement(root, "testsuite", name=f"{target}.{suite}")
        for r in cases:
            case = ET.SubElement(element, "testcase", classname=f"{target}.{suite}", name=r.name)
            case.set("time", f"{r.duration:.3f}")
            if r.result != "passed":
                tag = "failure" if r.result == "failed" else "error"
                problem = ET.SubElement(case, tag, message=r.reason or r.result)
                problem.text = r.output
            if r.output:
                ET.SubElement(case, "system-out").text = r.output
        _tally(element, cases)
    _tally(root, results)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")


def _tally(element: Any, results: Sequence[CheckResult]) -> None:
    element.set("tests", str(len(results)))
    element.set("failures", str(sum(r.result == "failed" for r in results)))
    element.set("errors", str(sum(r.result == "skipped" for r in results)))
    element.set("skipped", "0")
    element.set("time", f"{sum(r.duration for r in results):.3f}")
