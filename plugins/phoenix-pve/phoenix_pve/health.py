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
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

import attrs

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_pve import scripts
from phoenix_pve.live import Live
from phoenix_pve.model import HealthCheck, LegacyHealthCheck, Where
from phoenix_pve.scripts import RUN_DIR, Runner, Script, ScriptSpec, SearchPath
from phoenix_pve.shell import HostShell, Shell


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


def resolve(spec: ScriptSpec, paths: SearchPath) -> tuple[Check, ...]:
    """Every health check the spec names; raise on the first script that is missing."""
    checks = [_legacy(spec.health_check, paths)] if spec.health_check is not None else []
    checks += [_entry(i, hc, paths) for i, hc in enumerate(spec.health_checks)]
    return tuple(checks)


def missing(spec: ScriptSpec, paths: SearchPath) -> list[tuple[str, str]]:
    """(JSON key, problem) for every configured health check that cannot run as written (its
    script is not on the search path): what ``config validate`` reports, all at once."""
    problems = []
    if spec.health_check is not None:
        try:
            _legacy(spec.health_check, paths)
        except PhoenixError as exc:
            problems.append(("health_check.command", str(exc)))
    for index, check in enumerate(spec.health_checks):
        try:
            _entry(index, check, paths)
        except PhoenixError as exc:
            problems.append((f"health_checks[{index}]", str(exc)))
    return problems


def steps(
    live: Live,
    shell: Shell,
    checks: Sequence[Check],
    runner: Runner,
    *,
    skip: Callable[[], bool],
    dry_run: bool,
) -> list[Step]:
    """``health-check scripts`` (pushing the guest-side ones) and ``health`` (running all)."""
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
    if checks:
        result.append(
            Step(
                "health",
                lambda: [] if skip() or dry_run else health(live, shell, checks),
                lambda _: None,
            )
        )
    return result


def health(
    live: Live, shell: Shell, checks: Sequence[Check], sleep: Callable[[float], None] = time.sleep
) -> list[Change]:
    """Run each check with its retries; raise if one never passes. Returns no change: a check
    repairs nothing, it only fails the converge."""
    if not live.running:
        raise PhoenixError(f"{live.name} is not running: health checks cannot run")
    host = HostShell(live.host)
    for check in checks:
        place = host if check.where == "host" else shell
        argv, stdin = list(check.args), None
        if check.script is not None and check.where == "host":
            argv = ["/bin/bash", "-s", "--", str(live.vmid), *argv]
            stdin = check.script.data.decode()
        elif check.script is not None:
            argv = [f"{RUN_DIR}/{check.script.path.name}", *argv]
        tries = max(1, check.retries)
        for attempt in range(1, tries + 1):
            result = place.run(argv, readonly=True, stdin=stdin)
            if result.ok:
                break
            if attempt == tries:
                shown = shlex.join(argv) + (f" < {check.script.path}" if stdin else "")
                raise PhoenixError(
                    f"health check {check.name} failed {tries} times on {place.where}: "
                    f"`{shown}` exited {result.exit_code}: {result.detail}"
                )
            sleep(check.interval)
    return []
