"""Load, validate and cross-check a configuration directory in one pass.

The core reads the hypervisor file itself; every other file (or hypervisor section) is read
with the :class:`~phoenix_core.manager.GuestFile` layout its manager registered, so a plugin
adds a kind of guest with its own file without touching the core.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from phoenix_core.config import checks
from phoenix_core.config.convert import suggest
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.guests import read_guests
from phoenix_core.config.jsonfile import read_json
from phoenix_core.config.locate import guest_file
from phoenix_core.config.models import (
    CORE_SECTIONS,
    Config,
    GuestCommon,
    HypervisorConfig,
    TargetConfig,
)
from phoenix_core.config.types import host_target
from phoenix_core.graph import Graph
from phoenix_core.layout import GuestFile, HostTargets
from phoenix_core.logs import register_secrets
from phoenix_core.names import HYPERVISOR_FILE

if TYPE_CHECKING:
    from phoenix_core.manager import Manager, ManagerSpec

#: Guest files of the layout convention: ``phoenix_<kind>_configs.json``, managed by the
#: distribution ``phoenix-<kind>``; a present one no installed manager reads is named.
_CONVENTIONAL = re.compile(r"^phoenix_(\w+)_configs\.json$")


class Registry(Protocol):
    """What loading needs of the installed plugins (a :class:`phoenix_core.plugins.Plugins`)."""

    def specs(self) -> Sequence[ManagerSpec]: ...

    def manager(self, kind: str) -> Manager | None: ...


def load_config(
    directory: Path, registry: Registry | None = None, *, lenient: bool = False
) -> Config:
    """Read ``directory``'s files, validate them and return the :class:`Config`.

    ``registry`` says which kinds are installed, where each is configured, and which manager
    validates its keys. Raises :class:`~phoenix_core.errors.ConfigError` listing every error
    found; warnings are returned in ``Config.warnings``. ``lenient``: an error inside one
    guest's own entry does not stop the load; it goes to ``Config.broken`` under the guest's
    id (the power verbs run while a guest they do not touch has a bad value).
    """
    specs = list(registry.specs()) if registry is not None else []
    layouts = {s.kind: s.config for s in specs if isinstance(s.config, GuestFile)}
    diagnostics = Diagnostics()
    hypervisor_path = directory / HYPERVISOR_FILE
    raw = read_json(hypervisor_path, diagnostics)
    register_secrets(raw)
    hypervisor = _hypervisor(hypervisor_path, raw, specs, diagnostics)
    diagnostics.raise_if_errors()
    assert hypervisor is not None and isinstance(raw, dict)
    settings = _settings(hypervisor_path, raw, specs, registry, diagnostics)

    files = {HYPERVISOR_FILE: hypervisor_path}
    paths = raw.get("core_paths") or {}
    guests: list[TargetConfig] = []
    for kind, layout in layouts.items():
        if layout.file is None:
            guests.extend(read_guests(kind, layout, hypervisor_path, raw, diagnostics))
            continue
        named = paths.get(layout.path_key) if layout.path_key else None
        path = guest_file(directory, layout.path_key, named, layout.file, diagnostics)
        if path is None:
            continue
        files[layout.file] = path
        data = read_json(path, diagnostics)
        register_secrets(data)
        if data is not None:
            guests.extend(read_guests(kind, layout, path, data, diagnostics))
    unread = _unread(directory, paths, layouts.values(), set(files.values()))
    for name, dist in unread.items():
        kind = _CONVENTIONAL.match(name)
        what = f"{kind[1]} guests" if kind else "its guests"
        diagnostics.warn(name, "", f"no installed manager handles {what} (install {dist})")

    index = checks.check_duplicate_ids(guests, diagnostics)
    clone_keys = {k: v.clone_key for k, v in layouts.items() if v.clone_key}
    checks.check_references(index, clone_keys, diagnostics, unread=", ".join(unread))
    checks.check_cycles(Graph({i: g.requires for i, g in index.items()}), index, diagnostics)

    hosts: dict[str, TargetConfig] = {}
    host_spec = next((s for s in specs if isinstance(s.config, HostTargets)), None)
    if host_spec is not None:
        hosts = _host_targets(host_spec, hypervisor_path, raw, hypervisor, diagnostics)
    targets = [*hosts.values(), *index.values()]
    managers = {t.kind: registry.manager(t.kind) for t in targets} if registry is not None else {}
    for target in targets:
        manager = managers.get(target.kind)
        # A host's parts share its spec: the hypervisor file is parsed once per node.
        if manager is not None and target.part is None:
            target.spec = manager.parse(target, diagnostics)
    for target in hosts.values():
        if target.part is not None:
            target.spec = hosts[host_target(target.common.node)].spec
    checks.check_claims(index.values(), managers, diagnostics)
    broken = _set_aside(diagnostics, targets) if lenient else {}
    diagnostics.raise_if_errors()

    config = Config(
        directory=directory,
        hypervisor=hypervisor,
        guests=index,
        files=files,
        hosts=hosts,
        settings=settings,
        unread=unread,
    )
    if host_spec is not None:
        _host_needs(config, managers, managers.get(host_spec.kind))
    # Checks that need the whole configuration (a script on the search path), once every
    # target parsed: the optional Manager.validate.
    for target in targets:
        validate = getattr(managers.get(target.kind), "validate", None)
        if validate is not None and target.spec is not None and target.id not in broken:
            validate(target, config, diagnostics)
    if lenient:
        for ident, problems in _set_aside(diagnostics, targets).items():
            broken.setdefault(ident, []).extend(problems)
    diagnostics.raise_if_errors()
    config.warnings = [str(w) for w in diagnostics.warnings]
    config.broken = broken
    return config


def _set_aside(diagnostics: Diagnostics, targets: Sequence[TargetConfig]) -> dict[Any, list[str]]:
    """Take the errors inside one guest's own entry out of ``diagnostics``: by guest id."""
    owners = {(t.file.name, t.path): t.id for t in targets if not t.is_host}
    broken: dict[Any, list[str]] = {}
    kept = []
    for problem in diagnostics.problems:
        owner = next(
            (
                ident
                for (file, path), ident in owners.items()
                if problem.fatal
                and problem.file == file
                and (problem.path == path or problem.path.startswith((f"{path}.", f"{path}[")))
            ),
            None,
        )
        if owner is None:
            kept.append(problem)
        else:
            broken.setdefault(owner, []).append(str(problem))
    diagnostics.problems[:] = kept
    return broken


def _hypervisor(
    path: Path, raw: Any, specs: Sequence[ManagerSpec], diagnostics: Diagnostics
) -> HypervisorConfig | None:
    """The core's model of the hypervisor file (:class:`HypervisorConfig`); every other key
    must be declared by an installed manager (:func:`_check_owned`)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        diagnostics.error(path, "", "expected a JSON object at the top")
        return None
    _check_owned(path, raw, specs, diagnostics)
    data = {k: v for k, v in raw.items() if k in CORE_SECTIONS}
    return diagnostics.structure(path, "", data, HypervisorConfig)


def _check_owned(
    path: Path, raw: dict[str, Any], specs: Sequence[ManagerSpec], diagnostics: Diagnostics
) -> None:
    """Each top-level key and ``core_paths`` key must be the core's or an installed manager's.

    With a manager of :class:`HostTargets` installed, the file is its own: an unknown key is a
    typo (an error, with the nearest known key). Otherwise an unread key is only a warning:
    the manager reading it is not installed (the file's distribution, by the naming
    convention, is named).
    """
    layouts = [s.config for s in specs if isinstance(s.config, GuestFile)]
    keys = CORE_SECTIONS | {lay.key for lay in layouts if lay.file is None}
    keys |= {key for spec in specs for key in spec.sections}
    paths = {key for spec in specs for key in spec.paths}
    paths |= {lay.path_key for lay in layouts if lay.path_key}
    owned = any(isinstance(s.config, HostTargets) for s in specs)
    unread = [key for key in raw if key not in keys]
    core_paths = raw.get("core_paths")
    if isinstance(core_paths, dict):
        # ``<kind>_config_file`` locates a guest file by convention, read or not (_unread).
        unread += [
            f"core_paths.{key}"
            for key in core_paths
            if key not in paths and not key.endswith("_config_file")
        ]
    if owned:
        for key in unread:
            parent, _, leaf = key.rpartition(".")
            known = sorted(paths if parent else keys)
            diagnostics.error(path, key, "unknown key" + suggest(leaf, known))
    elif unread:
        dist = HYPERVISOR_FILE.removesuffix("_config.json").replace("_", "-")
        what = ", ".join(unread)
        diagnostics.warn(
            path, "", f"no installed manager reads {what} (install {dist} or the manager that does)"
        )


def _settings(
    path: Path,
    raw: dict[str, Any],
    specs: Sequence[ManagerSpec],
    registry: Registry | None,
    diagnostics: Diagnostics,
) -> dict[str, Any]:
    """Each manager's typed hypervisor-file sections (its ``parse_settings``), by kind."""
    settings: dict[str, Any] = {}
    for spec in specs:
        manager = registry.manager(spec.kind) if registry is not None and spec.sections else None
        parse = getattr(manager, "parse_settings", None)
        if parse is not None:
            sections = {k: v for k, v in raw.items() if k in spec.sections}
            settings[spec.kind] = parse(path, sections, diagnostics)
    return settings


def _unread(
    directory: Path, paths: dict[str, Any], layouts: Iterable[GuestFile], read: set[Path]
) -> dict[str, str]:
    """Guest files present that no installed manager reads, with the distribution to install.

    Found by convention: ``core_paths.<kind>_config_file`` and ``phoenix_<kind>_configs.json``
    in the directory. Their guests are unknown, so a reference into them is not an error
    but makes the referring guest wait for that manager.
    """
    claimed = {layout.file for layout in layouts} | {layout.path_key for layout in layouts}
    found: dict[str, str] = {}
    for key, named in paths.items():
        if key.endswith("_config_file") and key not in claimed and isinstance(named, str):
            path = Path(named) if os.path.isabs(named) else directory / named
            beside = directory / path.name
            if (path.is_file() or beside.is_file()) and path.name not in claimed:
                found[path.name] = f"phoenix-{key.removesuffix('_config_file')}"
    for path in sorted(directory.glob("phoenix_*_configs.json")):
        match = _CONVENTIONAL.match(path.name)
        if match and path.name not in claimed and path not in read:
            found.setdefault(path.name, f"phoenix-{match[1]}")
    return found


def _host_targets(
    spec: ManagerSpec,
    path: Path,
    raw: dict[str, Any],
    hypervisor: HypervisorConfig,
    diagnostics: Diagnostics,
) -> dict[str, TargetConfig]:
    """``host`` for the default node and ``host:NODE`` for each node of ``nodes``, each
    requiring its parts (``host:zfs``, ``host:NODE:zfs``), each part the parts it needs."""
    layout = spec.config
    assert isinstance(layout, HostTargets)
    hosts: dict[str, TargetConfig] = {}
    for node in [None, *hypervisor.nodes]:
        where = "" if node is None else f"nodes.{node}"
        if node in layout.parts:
            diagnostics.error(path, where, f"a node cannot be named like the host part {node!r}")
        common = GuestCommon(name=node or "default", node=node)
        ident = host_target(node)
        parts = [host_target(node, part) for part in layout.parts]
        hosts[ident] = TargetConfig(
            ident, spec.kind, path, where, common, raw, needs=parts, host=True
        )
        for part, needs in layout.parts.items():
            hosts[host_target(node, part)] = TargetConfig(
                host_target(node, part),
                spec.kind,
                path,
                where,
                common,
                raw,
                needs=[host_target(node, n) for n in needs],
                part=part,
                host=True,
            )
    return hosts


def _host_needs(
    config: Config, managers: dict[str, Manager | None], host_manager: Manager | None
) -> None:
    """Each guest requires the parts of its node's host that its configuration needs: its
    manager says what it needs of a host, the host manager which part provides each."""
    provides = getattr(host_manager, "provides", None)
    for guest in config.guests.values():
        host_needs = getattr(managers.get(guest.kind), "host_needs", None)
        host = config.hosts.get(host_target(guest.common.node))
        if provides is None or host_needs is None or host is None or guest.spec is None:
            continue
        parts = {provides(need, host) for need in host_needs(guest, config)} - {None}
        guest.needs = [
            p.id
            for p in config.hosts.values()
            if p.common.node == host.common.node and p.part in parts
        ]
