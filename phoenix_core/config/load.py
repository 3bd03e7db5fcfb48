"""Load, validate and cross-check a configuration directory in one pass."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from phoenix_core.config import checks
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.guests import lxc_guests, vm_guests
from phoenix_core.config.jsonfile import read_json
from phoenix_core.config.locate import guest_file
from phoenix_core.config.models import (
    HYPERVISOR_FILE,
    KIND_DISTRIBUTIONS,
    KIND_FILES,
    Config,
    HypervisorConfig,
)
from phoenix_core.graph import Graph
from phoenix_core.logs import register_secrets

if TYPE_CHECKING:
    from phoenix_core.manager import Manager


def load_config(directory: Path, managers: Mapping[str, Manager] | None = None) -> Config:
    """Read the three files of ``directory``, validate them and return the :class:`Config`.

    ``managers`` maps a guest kind to the installed manager that validates its own keys.
    Raises :class:`~phoenix_core.errors.ConfigError` listing every error found; warnings
    are returned in ``Config.warnings``.
    """
    managers = managers or {}
    diagnostics = Diagnostics()
    hypervisor_path = directory / HYPERVISOR_FILE
    raw = read_json(hypervisor_path, diagnostics)
    register_secrets(raw)
    hypervisor = None
    if raw is not None:
        if isinstance(raw, dict):
            hypervisor = diagnostics.structure(hypervisor_path, "", raw, HypervisorConfig)
        else:
            diagnostics.error(hypervisor_path, "", "expected a JSON object at the top")
    diagnostics.raise_if_errors()
    assert hypervisor is not None

    files = {HYPERVISOR_FILE: hypervisor_path}
    guests = []
    paths = hypervisor.core_paths
    for kind, key, named, read in (
        ("lxc", "lxc_config_file", paths.lxc_config_file, lxc_guests),
        ("vm", "vm_config_file", paths.vm_config_file, vm_guests),
    ):
        path = guest_file(directory, key, named, KIND_FILES[kind], diagnostics)
        if path is None:
            continue
        files[KIND_FILES[kind]] = path
        data = read_json(path, diagnostics)
        register_secrets(data)
        if data is not None:
            guests.extend(read(path, data, diagnostics))

    index = checks.check_duplicate_ids(guests, diagnostics)
    checks.check_references(index, diagnostics)
    checks.check_unique_addresses(index, diagnostics)
    checks.check_gpu_features(index, diagnostics)
    checks.check_cycles(Graph({i: g.requires for i, g in index.items()}), index, diagnostics)

    for kind in sorted({g.kind for g in index.values()}):
        manager = managers.get(kind)
        if manager is None:
            diagnostics.warn(
                KIND_FILES[kind],
                "",
                f"no installed manager handles {kind} guests (install {KIND_DISTRIBUTIONS[kind]})",
            )
            continue
        for guest in index.values():
            if guest.kind == kind:
                guest.spec = manager.parse(guest, diagnostics)

    diagnostics.raise_if_errors()
    return Config(
        directory=directory,
        hypervisor=hypervisor,
        guests=index,
        files=files,
        warnings=[str(w) for w in diagnostics.warnings],
    )
