"""Feature scripts and the application script: found on a search path, pushed into the guest
through a :class:`~phoenix_pve.shell.Shell` and run there (health checks: :mod:`phoenix_pve.health`).

Search path (first hit wins): for a feature ``<name>``, the config directory's
``features/<kind>/<name>.sh``, then ``scripts/<name>.sh``, then the scripts the manager ships;
for an application script ``<file>``, ``scripts/<file>``, then ``features/<kind>/<file>`` and
``health_checks/<file>``; for a health-check script, ``health_checks/<file>``, then
``scripts/<file>``; for a test script, ``tests/<path>`` (``<kind>`` is ``lxc`` or ``vm``). Every name is resolved when the steps
are built, so a missing script fails the guest before anything changes, naming the places looked.

A script runs when it was never applied to this guest, when its own content changed, or when
the user asks (``--rerun-features``): phoenix records the SHA-256 of each script it ran in
``/var/lib/phoenix/state.json`` inside the guest, with the guest's id. A change of memory,
firewall or mounts does not rerun scripts. A copy is kept on the node
(:mod:`phoenix_pve.applied`), so an in-sync guest that has not restarted since costs no
``cat`` of that file.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from phoenix_core.config.models import TargetConfig
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import Host, node_path
from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_pve import applied
from phoenix_pve.live import Live
from phoenix_pve.model import HealthCheck, LegacyHealthCheck, SuiteCase
from phoenix_pve.shell import Shell, ShellResult

#: Where phoenix keeps, inside the guest, which features and scripts it has run.
STATE_DIR = "/var/lib/phoenix"
STATE_FILE = f"{STATE_DIR}/state.json"
RUN_DIR = f"{STATE_DIR}/run"
#: Values that must not show in ``ps`` (a URL with credentials): sourced by every script.
ENV_FILE = f"{RUN_DIR}/env"
#: Sources :data:`ENV_FILE` (``$0``), then runs the script and its arguments (``$@``).
_WITH_ENV_FILE = '. "$0" && exec /bin/bash "$@"'
#: The record's format: 2 hashes scripts alone and names the guest (1 hashed the guest JSON too).
STATE_VERSION = 2
#: The old tool's directory on the node, searched when ``legacy_scripts_dir`` is not set (a
#: node without it has nothing there to find).
LEGACY_DIR = "/usr/local/phoenix_hypervisor/bin"
#: The longest a feature or application script may run (driver builds take a while).
SCRIPT_TIMEOUT = 7200.0


class ScriptSpec(Protocol):
    """The keys of a guest spec that name scripts (``LxcSpec`` has them; a VM spec will)."""

    @property
    def features(self) -> Sequence[str]: ...
    @property
    def application_script(self) -> str | None: ...
    @property
    def health_check(self) -> LegacyHealthCheck | None: ...
    @property
    def health_checks(self) -> Sequence[HealthCheck]: ...
    @property
    def tests(self) -> Mapping[str, Sequence[SuiteCase]] | None: ...


@attrs.frozen
class SearchPath:
    """Where a manager's scripts are looked for, under the configuration directory."""

    config_dir: Path
    #: The ``features/<kind>/`` subdirectory: ``lxc`` or ``vm``.
    kind: str
    #: The scripts the manager ships, looked in after the configuration's (None: none).
    shipped: Path | None = None
    #: The old tool's directory on the node (``legacy_scripts_dir``), looked in last for
    #: features: :func:`legacy_feature`. None: not searched.
    legacy: str | None = None

    def legacy_feature(self, name: str) -> str | None:
        """Where the old tool kept feature ``name`` on the node (containers only: its VM
        features ran inside the VM from an NFS share)."""
        if self.legacy is None or self.kind != "lxc":
            return None
        return f"{self.legacy}/lxc_setup/phoenix_hypervisor_feature_install_{name}.sh"

    def features(self, name: str) -> list[Path]:
        places = [
            self.config_dir / "features" / self.kind / f"{name}.sh",
            self.config_dir / "scripts" / f"{name}.sh",
        ]
        return places + ([self.shipped / f"{name}.sh"] if self.shipped else [])

    def files(self, name: str) -> list[Path]:
        return [
            self.config_dir / "scripts" / name,
            self.config_dir / "features" / self.kind / name,
            self.config_dir / "health_checks" / name,
        ]

    def checks(self, name: str) -> list[Path]:
        return [self.config_dir / "health_checks" / name, self.config_dir / "scripts" / name]

    def tests(self, name: str) -> list[Path]:
        return [self.config_dir / "tests" / name]


@attrs.frozen
class Script:
    """A resolved script: its name in the config and the file found for it.

    ``node_data`` is set for a script found in the old tool's directory on the node (``path``
    is then that node path): it runs there, as the old tool ran it (:meth:`Runner.run_on_node`).
    """

    name: str
    path: Path
    node_data: bytes | None = attrs.field(default=None, repr=False)

    @property
    def on_node(self) -> bool:
        return self.node_data is not None

    @property
    def data(self) -> bytes:
        return self.node_data if self.node_data is not None else self.path.read_bytes()


@attrs.frozen
class Found:
    features: tuple[Script, ...]
    app: Script | None

    def any_inside(self) -> bool:
        return bool(self.features or self.app)


def find(what: str, name: str, places: list[Path]) -> Script:
    for place in places:
        if place.is_file():
            return Script(name, place)
    raise PhoenixError(f"{what} {name!r} not found; looked in: {', '.join(map(str, places))}")


def find_feature(name: str, paths: SearchPath, node: Host | None) -> Script:
    """A feature from the configuration's search path, else from the old tool's directory on
    ``node`` (read there: the file lives on the node)."""
    places = paths.features(name)
    try:
        return find("feature script", name, places)
    except PhoenixError:
        legacy = paths.legacy_feature(name)
        if legacy is None or node is None:
            raise
    try:
        return Script(name, Path(legacy), node_data=node.read_file(legacy))
    except (FileNotFoundError, IsADirectoryError):
        where = ", ".join([*map(str, places), f"{legacy} on {node.name}"])
        raise PhoenixError(f"feature script {name!r} not found; looked in: {where}") from None


def resolve_all(spec: ScriptSpec, paths: SearchPath, node: Host | None = None) -> Found:
    """Find every script the guest names; raise on the first that is missing. ``node`` is
    where the old tool's directory is read (None: not searched)."""
    features = tuple(find_feature(f, paths, node) for f in spec.features)
    app = None
    if spec.application_script:
        app = find(
            "application script", spec.application_script, paths.files(spec.application_script)
        )
    return Found(features, app)


def missing(spec: ScriptSpec, paths: SearchPath) -> list[tuple[str, str]]:
    """(JSON key, problem) for every feature or application script the spec names that is not
    on the search path: what ``config validate`` reports, all at once."""
    wanted = [
        (f"features[{i}]", "feature script", name, paths.features(name))
        for i, name in enumerate(spec.features)
    ]
    if spec.application_script:
        name = spec.application_script
        wanted.append(("application_script", "application script", name, paths.files(name)))
    problems = []
    for key, what, name, places in wanted:
        try:
            find(what, name, places)
        except PhoenixError as exc:
            legacy = paths.legacy_feature(name) if what == "feature script" else None
            problem = str(exc)
            if legacy is not None:
                problem = (
                    f"{problem}; converge takes it from the old tool's directory on the node, "
                    f"{legacy}, and runs it there with the container id and the bootstrap CA URL"
                )
            problems.append((key, problem))
    return problems


def guest_payload(guest: TargetConfig, id_key: str) -> bytes:
    """The guest's configuration as scripts see it: file root keys, then its own, plus its id
    under ``id_key`` (``ctid`` for a container, as the old tool named it)."""
    data = {**guest.file_defaults, **guest.raw, id_key: guest.id}
    return json.dumps(data, indent=2, sort_keys=True).encode()


def digest(script: Script) -> str:
    """What the record keeps of a script: its content alone, so editing the guest's memory or
    firewall (which changes the guest JSON) reruns nothing."""
    return hashlib.sha256(script.data).hexdigest()


def read_state(live: Live, shell: Shell) -> dict[str, Any]:
    """The run record phoenix keeps inside the guest (features and scripts already run).

    A stopped or missing guest has none readable; an unreadable or absent file is empty, and so
    is a record of another guest (a clone inherits its source's file: its scripts run once for
    it) or of an older format. Cached in ``live`` like its other reads, so a start or a push
    makes the next check reread.
    """

    def read() -> dict[str, Any]:
        if not live.running:
            return {}
        kept = applied.trusted(live)
        if kept is not None:
            return kept
        state = read_in_guest()
        applied.remember(live, state)
        return state

    def read_in_guest() -> dict[str, Any]:
        result = shell.run(["cat", STATE_FILE], readonly=True)
        if not result.ok:
            return {}
        try:
            data = json.loads(result.stdout)
        except ValueError:
            return {}
        mine = isinstance(data, dict) and data.get("guest") == live.vmid
        return data if mine and data.get("version") == STATE_VERSION else {}

    return live.memo("state", read)


class Runner:
    """Pushes files into the guest and runs them, keeping the state record current.

    ``env`` is what every script gets (``PHOENIX_FEATURE`` is added per script);
    ``private_env`` too, but through a 0600 file the script sources, never on a command line
    (``ps`` shows those).
    """

    def __init__(
        self,
        live: Live,
        shell: Shell,
        payload: bytes,
        env: Mapping[str, str],
        private_env: Mapping[str, str] | None = None,
        legacy_args: Sequence[str] = (),
    ) -> None:
        self.live = live
        self.shell = shell
        self.payload = payload
        self.env = dict(env)
        self.private_env = dict(private_env or {})
        #: What a script of the old tool's directory gets: the guest id, the CA URL.
        self.legacy_args = list(legacy_args)
        self._prepared = False

    def push(self, data: bytes, inner: str, mode: int) -> None:
        try:
            self.shell.push(data, inner, mode=mode)
        finally:
            self.live.invalidate(keep_status=True)  # a file in the guest: it still runs

    def prepare(self) -> None:
        if self._prepared:
            return
        self.exec(["mkdir", "-p", RUN_DIR], "mkdir")
        self.push(self.payload, f"{RUN_DIR}/guest.json", 0o600)
        if self.private_env:
            lines = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.private_env.items())
            self.push(lines.encode(), ENV_FILE, 0o600)
        self._prepared = True

    def exec(
        self, argv: Sequence[str], what: str, env: Mapping[str, str] | None = None
    ) -> ShellResult:
        try:
            result = self.shell.run(
                argv,
                env=env,
                timeout=SCRIPT_TIMEOUT,
                on_line=lambda line: logger.debug("{} | {}", what, line),
            )
        finally:
            self.live.invalidate()  # a script may change anything a check reads
        if not result.ok:
            ended = (
                f"did not finish within {SCRIPT_TIMEOUT:g} s"
                if result.timed_out
                else f"exited {result.exit_code}"
            )
            # The detail line first (what the summary's one line shows), then the output's tail.
            tail = result.tail()
            more = f"\n{tail}" if tail and tail != result.detail else ""
            raise PhoenixError(
                f"{what} failed in {self.shell.where}: `{result.command}` {ended}: "
                f"{result.detail}{more}"
            )
        return result

    def run_script(self, script: Script, args: Sequence[str] = ()) -> None:
        self.prepare()
        inner = f"{RUN_DIR}/{script.path.name}"
        self.push(script.data, inner, 0o755)
        env = {**self.env, "PHOENIX_FEATURE": script.name}
        argv = ["/bin/bash", inner, *args]
        if self.private_env:
            argv = ["/bin/bash", "-c", _WITH_ENV_FILE, ENV_FILE, *argv[1:]]
        self.exec(argv, f"script {script.name}", env)

    def run_on_node(self, script: Script) -> None:
        """A script of the old tool's directory, run on the node as the old tool ran it:
        ``<script> <id> <bootstrap CA URL or "">`` (read by bash: the old checkout kept
        its scripts mode 0644)."""
        argv = ["/bin/bash", node_path(self.live.host, str(script.path)), *self.legacy_args]
        try:
            result = self.live.host.change(argv, timeout=SCRIPT_TIMEOUT)
        finally:
            self.live.invalidate()
        if not result.ok:
            tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
            raise PhoenixError(
                f"script {script.name} failed on {self.live.host.name}: `{result.command}` "
                f"exited {result.returncode}" + (f":\n{tail}" if tail else "")
            )

    def save_state(self, state: dict[str, Any]) -> None:
        record = {**state, "version": STATE_VERSION, "guest": self.live.vmid}
        self.push(json.dumps(record, indent=2, sort_keys=True).encode(), STATE_FILE, 0o600)
        applied.remember(self.live, record)


_LABELS = {
    "features": "feature",
    "applications": "application script",
    "health": "health-check script",
}


def recorded(state: dict[str, Any], kind: str, script: Script) -> dict[str, Any]:
    """``state`` with ``script`` recorded as applied under ``kind``."""
    return {**state, kind: {**state.get(kind, {}), script.name: digest(script)}}


def pending(
    live: Live,
    shell: Shell,
    kind: str,
    items: Sequence[Script],
    rerun: Callable[[str], bool] = lambda _: False,
) -> list[Change]:
    """A change for each script never applied, changed since, or whose rerun was asked."""
    done = read_state(live, shell).get(kind, {})
    changes = []
    for script in items:
        label = f"{_LABELS[kind]} {script.name}"
        if script.name not in done:
            changes.append(Change(label, None, "run", data=script))
        elif done[script.name] != digest(script):
            changes.append(Change(label, "changed", "run", data=script))
        elif rerun(script.name):
            changes.append(Change(label, "applied", "run again (asked)", data=script))
    return changes


def steps(
    live: Live,
    shell: Shell,
    found: Found,
    runner: Runner,
    *,
    app_args: Sequence[str],
    skip: Callable[[], bool],
    rerun: Callable[[str], bool] = lambda _: False,
) -> list[Step]:
    """Steps for the features and the application script, run through ``runner``.

    ``app_args`` are the application script's arguments; ``rerun(name)`` says whether the user
    asked to run an applied script again. A change's data is the :class:`Script` to run.
    """

    def check(kind: str, items: Sequence[Script]) -> list[Change]:
        return [] if skip() else pending(live, shell, kind, items, rerun)

    def run(kind: str, args: Sequence[str]) -> Callable[[Sequence[Change]], None]:
        def apply(changes: Sequence[Change]) -> None:
            state = read_state(live, shell)
            for change in changes:
                script: Script = change.data
                logger.info(
                    "{}: running {} {} ({})", live.name, _LABELS[kind], script.name, script.path
                )
                if script.on_node:
                    runner.run_on_node(script)
                else:
                    runner.run_script(script, args)
                # Saved after each script, so a later failure does not rerun this one.
                state = recorded(state, kind, script)
                runner.save_state(state)

        return apply

    result: list[Step] = []
    if found.features:
        result.append(
            Step("features", lambda: check("features", found.features), run("features", []))
        )
    if found.app is not None:
        apps = (found.app,)
        result.append(
            Step(
                "application script",
                lambda: check("applications", apps),
                run("applications", app_args),
            )
        )
    return result
