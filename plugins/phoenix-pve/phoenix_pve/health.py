"""Health checks: where the old tool ran them, on the node, with the guest id as argument.

A check is a script found on the search path (``health_checks/<file>``, then
``scripts/<file>``) or a command. By default it runs on the host through a
:class:`~phoenix_pve.shell.HostShell`: a script as ``/bin/bash -s -- <id> [args]`` with its
content on standard input (nothing is staged on the node), a command as it is written. With
``"where": "guest"`` it runs inside the guest instead: a script is pushed under
``/var/lib/phoenix/run/`` once per content and run there with its args, a command as written.

The old singular ``health_check.command`` is split like a shell would; when its first word is
a path or ends in ``.sh`` (``/usr/local/phoenix_hypervisor/bin/health_checks/check_step_ca.sh``)
it names a script, looked up by file name on the search path, never run from the old path.
A script that is not found fails the guest in ``plan`` and ``converge`` before anything changes.

For ``phoenix health-check`` and ``phoenix test`` (docs/health.md), :func:`configured` and
:func:`test_cases` resolve each configured check or ``tests.<suite>[]`` case without stopping at
a missing script, and :func:`runnable_entries` turns them into core
:class:`~phoenix_core.checks.Check` objects: one command per attempt, a missing script one
failing check naming the places looked. The converge step's :func:`health` runs the same
commands through the same core retry loop. :func:`guest_checks` and :func:`guest_tests` are what
a guest manager's ``checks`` and ``tests`` return: its shipped checks (the first one
:func:`running`, shared by containers and VMs), then the configured ones.
"""

from __future__ import annotations

import functools
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePosixPath

import attrs

from phoenix_core import checks as core
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import Host
from phoenix_core.steps import Change, Step
from phoenix_pve import scripts
from phoenix_pve.live import Live
from phoenix_pve.model import HealthCheck, LegacyHealthCheck, SuiteCase, Where
from phoenix_pve.scripts import RUN_DIR, Runner, Script, ScriptSpec, SearchPath
from phoenix_pve.shell import HostShell, Shell, ShellResult

#: The longest one attempt of a check may take in ``phoenix health-check``.
CHECK_TIMEOUT = 120.0
#: The longest one test script may take in ``phoenix test`` (a model load is slow).
TEST_TIMEOUT = 3600.0


@attrs.frozen
class Check:
    """A health check ready to run: ``script`` (or None) with ``args``, or a command in ``args``."""

    name: str
    args: tuple[str, ...]
    retries: int
    interval: int
    where: Where = "host"
    script: Script | None = None


def _names_a_script(word: str) -> bool:
    return "/" in word or word.endswith(".sh")


def _legacy(check: LegacyHealthCheck, paths: SearchPath) -> Check:
    argv = shlex.split(check.command)
    if not argv:
        raise PhoenixError("health_check: command is empty")
    script = None
    if _names_a_script(argv[0]):
        name = PurePosixPath(argv[0]).name
        script = scripts.find("health-check script", name, paths.checks(name))
        argv = argv[1:]
    return Check("health_check", tuple(argv), check.retries, check.interval, check.where, script)


def _entry(index: int, check: HealthCheck, paths: SearchPath) -> Check:
    name = check.name or f"health_checks[{index}]"
    args = shlex.split(check.args) if isinstance(check.args, str) else list(check.args or [])
    if check.script:
        script = scripts.find("health-check script", check.script, paths.checks(check.script))
        return Check(name, tuple(args), check.retries, check.interval, check.where, script)
    if check.command:
        argv = (*check.command, *args)
        return Check(name, argv, check.retries, check.interval, check.where)
    raise PhoenixError(f"{name}: needs a command or a script")


@attrs.frozen
class Entry:
    """A configured check or test case as resolved: the :class:`Check`, or why it cannot run."""

    #: Its JSON key under the guest: ``health_check.command``, ``health_checks[2]``,
    #: ``tests.integration_tests[0]``.
    key: str
    name: str
    check: Check | None
    problem: str = ""
    suite: str | None = None


#: What :func:`_entries` resolves: JSON key, name, how to build the check, suite.
Wanted = tuple[str, str, Callable[[], Check], str | None]


def _entries(wanted: Sequence[Wanted]) -> list[Entry]:
    found = []
    for key, name, build, suite in wanted:
        try:
            found.append(Entry(key, name, build(), suite=suite))
        except PhoenixError as exc:
            found.append(Entry(key, name, None, str(exc), suite))
    return found


def configured(spec: ScriptSpec, paths: SearchPath) -> list[Entry]:
    """Every health check the spec names, each resolved or with its problem (a script that is
    not on the search path)."""
    wanted: list[Wanted] = []
    legacy = spec.health_check
    if legacy is not None:
        build = functools.partial(_legacy, legacy, paths)
        wanted.append(("health_check.command", "health_check", build, None))
    for index, entry in enumerate(spec.health_checks):
        name = entry.name or f"health_checks[{index}]"
        build = functools.partial(_entry, index, entry, paths)
        wanted.append((f"health_checks[{index}]", name, build, None))
    return _entries(wanted)


def _test(case: SuiteCase, paths: SearchPath) -> Check:
    args = shlex.split(case.args) if isinstance(case.args, str) else list(case.args or [])
    script = scripts.find("test script", case.path, paths.tests(case.path))
    return Check(case.name or case.path, tuple(args), 1, 0, case.where, script)


def test_cases(suites: Mapping[str, Sequence[SuiteCase]] | None, paths: SearchPath) -> list[Entry]:
    """Every configured test case (``tests.<suite>[]``), each resolved or with its problem."""
    return _entries(
        [
            (
                f"tests.{suite}[{index}]",
                case.name or case.path,
                functools.partial(_test, case, paths),
                suite,
            )
            for suite, cases in (suites or {}).items()
            for index, case in enumerate(cases)
        ]
    )


def resolve(spec: ScriptSpec, paths: SearchPath) -> tuple[Check, ...]:
    """Every health check the spec names; raise on the first script that is missing."""
    entries = configured(spec, paths)
    for entry in entries:
        if entry.check is None:
            raise PhoenixError(entry.problem)
    return tuple(e.check for e in entries if e.check is not None)


def missing(spec: ScriptSpec, paths: SearchPath) -> list[tuple[str, str]]:
    """(JSON key, problem) for every configured health check or test case that cannot run as
    written (its script is not on the search path): what ``config validate`` reports."""
    # A spec without test suites (VmSpec before it grows them) has none to miss.
    entries = configured(spec, paths) + test_cases(getattr(spec, "tests", None), paths)
    return [(e.key, e.problem) for e in entries if e.check is None]


@attrs.frozen
class Target:
    """What a check is run for: the node, and the guest id a host-side script gets first
    (None for a check of the node itself: a host manager's)."""

    host: Host
    guest_id: int | None = None

    @classmethod
    def of(cls, live: Live) -> Target:
        return cls(live.host, live.vmid)


def _argv(target: Target, check: Check) -> tuple[list[str], str | None]:
    """The command of ``check`` and its standard input: a host-side script goes to
    ``/bin/bash -s -- [<id>]`` on stdin, a guest-side one runs from where it was pushed."""
    if check.script is not None and check.where == "host":
        first = [] if target.guest_id is None else [str(target.guest_id)]
        return ["/bin/bash", "-s", "--", *first, *check.args], check.script.data.decode()
    if check.script is not None:
        return [f"{RUN_DIR}/{check.script.path.name}", *check.args], None
    return list(check.args), None


def described(result: ShellResult, shown: str | None = None) -> str:
    """Why a check's command failed, for its report: ```cmd` exited 1: <last line>``."""
    ended = "timed out" if result.timed_out else f"exited {result.exit_code}"
    return f"`{shown or result.command}` {ended}: {result.detail}"


def _push(shell: Shell, script: Script) -> None:
    """Put a guest-side script where :func:`_argv` runs it."""
    if not shell.run(["mkdir", "-p", RUN_DIR]).ok:
        raise PhoenixError(f"cannot make {RUN_DIR} in {shell.where}")
    shell.push(script.data, f"{RUN_DIR}/{script.path.name}", mode=0o755)


def runnable(
    target: Target,
    shell: Shell,
    check: Check,
    *,
    timeout: float | None = None,
    push: bool = True,
    suite: str | None = None,
) -> core.Check:
    """``check`` as the core runs it: each attempt one command, on the node or through
    ``shell`` (a guest-side script pushed before its first attempt unless ``push`` is False).
    A host manager passes ``Target(host)`` and a :class:`HostShell`."""
    place = HostShell(target.host) if check.where == "host" else shell
    argv, stdin = _argv(target, check)
    pending = [check.script] if push and check.script and check.where == "guest" else []

    shown = shlex.join(argv) + (f" < {check.script.path}" if stdin and check.script else "")

    def attempt() -> core.Attempt:
        while pending:
            _push(shell, pending.pop())
        result = place.run(argv, readonly=True, stdin=stdin, timeout=timeout)
        return core.Attempt(result.ok, result.stdout + result.stderr, described(result, shown))

    return core.Check(
        name=check.name,
        attempt=attempt,
        retries=check.retries,
        interval=check.interval,
        where=place.where,
        suite=suite,
    )


def runnable_entries(
    target: Target, shell: Shell, entries: Sequence[Entry], *, timeout: float
) -> list[core.Check]:
    """Each entry ready to run; one whose script is missing fails with that problem."""
    found = []
    for entry in entries:
        if entry.check is None:
            problem = entry.problem
            found.append(
                core.Check(
                    name=entry.name,
                    attempt=lambda problem=problem: core.Attempt(False, reason=problem),
                    suite=entry.suite,
                )
            )
        else:
            ready = runnable(target, shell, entry.check, timeout=timeout, suite=entry.suite)
            found.append(ready)
    return found


def steps(
    live: Live, shell: Shell, checks: Sequence[Check], runner: Runner, *, skip: Callable[[], bool]
) -> list[Step]:
    """``health-check scripts``: pushing the guest-side checks (running them is
    :func:`verify_step`'s, after the build)."""
    result: list[Step] = []
    inside = tuple(c.script for c in checks if c.where == "guest" and c.script is not None)
    if inside:

        def push(changes: Sequence[Change]) -> None:
            runner.prepare()
            state = scripts.read_state(live, shell)
            for change in changes:
                script: Script = change.data
                runner.push(script.data, f"{RUN_DIR}/{script.path.name}", 0o755)
                state = scripts.recorded(state, "health", script)
            runner.save_state(state)

        result.append(
            Step(
                "health-check scripts",
                lambda: [] if skip() else scripts.pending(live, shell, "health", inside),
                push,
            )
        )
    return result


def verify_step(
    live: Live, shell: Shell, checks: Sequence[Check], *, skip: Callable[[], bool]
) -> list[Step]:
    """``health``: every configured check, run by the engine's verify phase once the build
    succeeded (never in a dry run: nothing was built to look at)."""
    if not checks:
        return []
    return [Step("health", lambda: [] if skip() else health(live, shell, checks), lambda _: None)]


def health(
    live: Live, shell: Shell, checks: Sequence[Check], sleep: Callable[[float], None] = time.sleep
) -> list[Change]:
    """Run each check with its retries (their scripts already pushed); raise if one never
    passes. Returns no change: a check repairs nothing, it only fails the converge."""
    if not live.running:
        raise PhoenixError(f"{live.name} is not running: health checks cannot run")
    for check in checks:
        ready = runnable(Target.of(live), shell, check, push=False)
        result = core.run_check(live.name, ready, sleep)
        if not result.passed:
            raise PhoenixError(
                f"health check {check.name} failed {result.attempts} times on {ready.where}: "
                f"{result.reason}"
            )
    return []


def running(live: Live) -> core.Check:
    """The guest exists and runs (``pct status`` / ``qm status``): the first shipped check of a
    container or a VM, required (nothing else can be checked in a stopped guest)."""

    def attempt() -> core.Attempt:
        live.invalidate()  # a retry must see the node now, not the first read
        if not live.exists:
            return core.Attempt(False, reason=f"{live.name} does not exist")
        status = live.status()
        return core.Attempt(status == "running", f"status: {status}", f"{live.name} is {status}")

    return core.Check(name="running", attempt=attempt, where="host", required=True)


def guest_checks(
    live: Live, shell: Shell, spec: ScriptSpec, paths: SearchPath, shipped: Sequence[core.Check]
) -> list[core.Check]:
    """``phoenix health-check`` of a guest: the manager's ``shipped`` checks, then the configured
    ones (``health_check``, ``health_checks[]``); one whose script is missing fails with that."""
    entries = configured(spec, paths)
    return [
        *shipped,
        *runnable_entries(Target.of(live), shell, entries, timeout=CHECK_TIMEOUT),
    ]


def guest_tests(live: Live, shell: Shell, spec: ScriptSpec, paths: SearchPath) -> list[core.Check]:
    """``phoenix test`` of a guest: the configured ``tests`` suites, one case per script."""
    entries = test_cases(spec.tests, paths)
    return runnable_entries(Target.of(live), shell, entries, timeout=TEST_TIMEOUT)
