"""Feature scripts, the application script and health checks: found on a search path, pushed
into the container and run there.

Search path (first hit wins): for a feature ``<name>``, the config directory's
``features/lxc/<name>.sh``, then ``scripts/<name>.sh``, then the scripts this plugin ships; for
an application script or a health-check script ``<file>``, ``scripts/<file>``, then
``features/lxc/<file>`` and ``health_checks/<file>``. Every name is resolved when the steps are
built, so a missing script fails the guest before anything changes, naming the places looked.

Each script runs once per content: phoenix records the SHA-256 of the script and of the guest
JSON it ran with in ``/var/lib/phoenix/state.json`` inside the container, and runs it again
only when either changes. An in-sync container costs one ``pct exec ... cat`` for all of them.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from phoenix_core import proxmox
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.errors import PhoenixError
from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_lxc.live import STATE_DIR, STATE_FILE, Live
from phoenix_lxc.model import LxcSpec

SHIPPED = Path(__file__).parent / "features"
RUN_DIR = f"{STATE_DIR}/run"


@attrs.frozen
class Script:
    """A resolved script: its name in the config and the file found for it."""

    name: str
    path: Path

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


@attrs.frozen
class Check:
    """A health check ready to run: argv inside the container (after pushing ``script``)."""

    name: str
    argv: tuple[str, ...]
    retries: int
    interval: int
    script: Script | None = None


@attrs.frozen
class Found:
    features: tuple[Script, ...]
    app: Script | None
    checks: tuple[Check, ...]

    def any_inside(self) -> bool:
        return bool(self.features or self.app)


def feature_paths(config_dir: Path, name: str) -> list[Path]:
    return [
        config_dir / "features" / "lxc" / f"{name}.sh",
        config_dir / "scripts" / f"{name}.sh",
        SHIPPED / f"{name}.sh",
    ]


def file_paths(config_dir: Path, name: str) -> list[Path]:
    return [
        config_dir / "scripts" / name,
        config_dir / "features" / "lxc" / name,
        config_dir / "health_checks" / name,
    ]


def _find(what: str, name: str, places: list[Path]) -> Script:
    for place in places:
        if place.is_file():
            return Script(name, place)
    raise PhoenixError(f"{what} {name!r} not found; looked in: {', '.join(map(str, places))}")


def resolve_all(spec: LxcSpec, config: Config) -> Found:
    """Find every script the container names; raise on the first that is missing."""
    directory = Path(config.directory)
    features = tuple(_find("feature script", f, feature_paths(directory, f)) for f in spec.features)
    app = None
    if spec.application_script:
        app = _find(
            "application script",
            spec.application_script,
            file_paths(directory, spec.application_script),
        )
    checks = []
    if spec.health_check is not None:
        argv = shlex.split(spec.health_check.command)
        local = (
            next((p for p in file_paths(directory, Path(argv[0]).name) if p.is_file()), None)
            if argv
            else None
        )
        script = Script(Path(argv[0]).name, local) if local else None
        checks.append(
            Check(
                "health_check",
                tuple(argv),
                spec.health_check.retries,
                spec.health_check.interval,
                script,
            )
        )
    for index, hc in enumerate(spec.health_checks):
        name = hc.name or f"health_checks[{index}]"
        args = shlex.split(hc.args) if isinstance(hc.args, str) else list(hc.args or [])
        if hc.script:
            script = _find("health-check script", hc.script, file_paths(directory, hc.script))
            checks.append(Check(name, (hc.script, *args), hc.retries, hc.interval, script))
        elif hc.command:
            checks.append(Check(name, (*hc.command, *args), hc.retries, hc.interval))
        else:
            raise PhoenixError(f"{name}: needs a command or a script")
    return Found(features, app, tuple(checks))


def guest_payload(guest: TargetConfig) -> bytes:
    """The guest's configuration as scripts see it: file root keys, then its own, plus ``ctid``."""
    data = {**guest.file_defaults, **guest.raw, "ctid": guest.id}
    return json.dumps(data, indent=2, sort_keys=True).encode()


def digest(script: Script, payload: bytes) -> str:
    return hashlib.sha256(script.data + b"\0" + payload).hexdigest()


class Runner:
    """Pushes files into the container and runs them, keeping the state record current."""

    def __init__(self, live: Live, payload: bytes, env: dict[str, str]) -> None:
        self.live = live
        self.payload = payload
        self.env = env
        self._prepared = False

    @property
    def vmid(self) -> str:
        return str(self.live.vmid)

    def push(self, data: bytes, inner: str, perms: str = "0644") -> None:
        tmp = f"/tmp/phoenix-lxc-{self.vmid}-{hashlib.sha256(inner.encode()).hexdigest()[:12]}"
        self.live.host.write_file(tmp, data, mode=0o600)
        try:
            self.live.change(["pct", "push", self.vmid, tmp, inner, "--perms", perms])
        finally:
            self.live.host.change(["rm", "-f", tmp])

    def prepare(self) -> None:
        if self._prepared:
            return
        self.exec(["mkdir", "-p", RUN_DIR], "mkdir")
        self.push(self.payload, f"{RUN_DIR}/guest.json", "0600")
        self._prepared = True

    def exec(self, argv: Sequence[str], what: str) -> proxmox.CommandResult:
        result = self.live.host.change(["pct", "exec", self.vmid, "--", *argv], timeout=7200)
        for line in (result.stdout + result.stderr).splitlines():
            logger.debug("{} | {}", what, line)
        if not result.ok:
            raise PhoenixError(
                f"{what} failed in CT {self.vmid}: `{result.command}` exited {result.returncode}: "
                f"{proxmox.error_detail(result)}"
            )
        return result

    def run_script(self, script: Script, args: Sequence[str] = ()) -> None:
        self.prepare()
        inner = f"{RUN_DIR}/{script.path.name}"
        self.push(script.data, inner, "0755")
        env = [f"{k}={v}" for k, v in self.env.items()]
        self.exec(["env", *env, "/bin/bash", inner, *args], f"script {script.name}")

    def save_state(self, state: dict[str, Any]) -> None:
        self.push(json.dumps(state, indent=2, sort_keys=True).encode(), STATE_FILE, "0600")


def steps(
    spec: LxcSpec,
    live: Live,
    found: Found,
    payload: bytes,
    *,
    skip: Callable[[], bool],
    dry_run: bool,
) -> list[Step]:
    """Steps for features, the application script, health-check scripts and health checks."""
    env = {
        "PHOENIX_CTID": str(live.vmid),
        "PHOENIX_GUEST_CONFIG": f"{RUN_DIR}/guest.json",
        "PHOENIX_BOOTSTRAP_CA_URL": spec.bootstrap_ca_url or "",
    }
    runner = Runner(live, payload, env)
    result: list[Step] = []

    labels = {
        "features": "feature",
        "applications": "application script",
        "health": "health-check script",
    }

    def pending(kind: str, items: Sequence[Script]) -> list[Change]:
        if skip():
            return []
        done = live.state().get(kind, {})
        return [
            Change(f"{labels[kind]} {s.name}", "changed" if s.name in done else None, "run")
            for s in items
            if done.get(s.name) != digest(s, payload)
        ]

    def run(
        kind: str, items: Sequence[Script], args: Callable[[Script], list[str]]
    ) -> Callable[[Sequence[Change]], None]:
        def apply(changes: Sequence[Change]) -> None:
            wanted = {c.what for c in changes}
            state = dict(live.state())
            for script in items:
                if f"{labels[kind]} {script.name}" not in wanted:
                    continue
                runner.env["PHOENIX_FEATURE"] = script.name
                logger.info(
                    "CT {}: running {} {} ({})", live.vmid, labels[kind], script.name, script.path
                )
                runner.run_script(script, args(script))
                state = {
                    **state,
                    kind: {**state.get(kind, {}), script.name: digest(script, payload)},
                }
                runner.save_state(state)

        return apply

    if found.features:
        result.append(
            Step(
                "features",
                lambda: pending("features", found.features),
                run("features", found.features, lambda _: []),
            )
        )
    if found.app is not None:
        apps = (found.app,)
        result.append(
            Step(
                "application script",
                lambda: pending("applications", apps),
                run("applications", apps, lambda _: [str(live.vmid)]),
            )
        )
    pushed = tuple(c.script for c in found.checks if c.script is not None)
    if pushed:

        def push_checks(changes: Sequence[Change]) -> None:
            runner.prepare()
            state = dict(live.state())
            for script in pushed:
                runner.push(script.data, f"{RUN_DIR}/{script.path.name}", "0755")
                state = {
                    **state,
                    "health": {**state.get("health", {}), script.name: digest(script, payload)},
                }
            runner.save_state(state)

        result.append(Step("health-check scripts", lambda: pending("health", pushed), push_checks))
    if found.checks:
        result.append(
            Step(
                "health",
                lambda: [] if skip() or dry_run else health(live, found.checks),
                lambda _: None,
            )
        )
    return result


def health(
    live: Live, checks: Sequence[Check], sleep: Callable[[float], None] = time.sleep
) -> list[Change]:
    """Run each check (argv inside the CT, no shell) with its retries; raise if one never passes."""
    if not live.running:
        raise PhoenixError(f"CT {live.vmid} is not running: health checks cannot run")
    for check in checks:
        argv = list(check.argv)
        if check.script is not None:
            argv[0] = f"{RUN_DIR}/{check.script.path.name}"
        tries = max(1, check.retries)
        for attempt in range(1, tries + 1):
            result = live.query(["pct", "exec", str(live.vmid), "--", *argv])
            if result.ok:
                break
            if attempt == tries:
                raise PhoenixError(
                    f"health check {check.name} failed {tries} times in CT {live.vmid}: "
                    f"`{shlex.join(argv)}` exited {result.returncode}: {proxmox.error_detail(result)}"
                )
            sleep(check.interval)
    return []
