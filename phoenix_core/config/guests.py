"""Turning the two guest files of the original layout into :class:`TargetConfig` records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from phoenix_core.config.convert import show, suggest
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import GuestCommon, TargetConfig
from phoenix_core.config.types import Id, parse_id

_COMMON_KEYS = {f.name for f in attrs.fields(GuestCommon)}
_CLONE_KEY = {"lxc": "clone_from_ctid", "vm": "clone_from_vmid"}
VM_ROOT_KEYS = ["$schema", "vm_defaults", "vms"]


def _common(
    kind: str, raw: dict[str, Any], file: Path, path: str, diagnostics: Diagnostics
) -> GuestCommon | None:
    other_clone_key = _CLONE_KEY["vm" if kind == "lxc" else "lxc"]
    picked = {k: v for k, v in raw.items() if k in _COMMON_KEYS and k != other_clone_key}
    return diagnostics.structure(file, path, picked, GuestCommon)


def lxc_guests(file: Path, data: Any, diagnostics: Diagnostics) -> Iterator[TargetConfig]:
    """Guests of ``phoenix_lxc_configs.json``: ``lxc_configs`` keyed by CTID.

    Every other root key is a default for the containers (the old tool looked a missing
    per-container key up at the file root).
    """
    if not isinstance(data, dict):
        diagnostics.error(file, "", f"expected a JSON object at the top, got {show(data)}")
        return
    configs = data.get("lxc_configs")
    if configs is None:
        diagnostics.error(file, "lxc_configs", "required key is missing")
        return
    if not isinstance(configs, dict):
        diagnostics.error(
            file, "lxc_configs", f"expected an object keyed by CTID, got {show(configs)}"
        )
        return
    defaults = {k: v for k, v in data.items() if k not in ("lxc_configs", "$schema")}
    for key, raw in configs.items():
        path = f"lxc_configs.{key}"
        guest = _guest("lxc", key, raw, file, path, defaults, diagnostics)
        if guest is not None:
            yield guest


def vm_guests(file: Path, data: Any, diagnostics: Diagnostics) -> Iterator[TargetConfig]:
    """Guests of ``phoenix_vm_configs.json``: the ``vms`` list, each with its ``vmid``."""
    if not isinstance(data, dict):
        diagnostics.error(file, "", f"expected a JSON object at the top, got {show(data)}")
        return
    for key in data:
        if key not in VM_ROOT_KEYS:
            diagnostics.error(file, key, "unknown key" + suggest(key, VM_ROOT_KEYS))
    vms = data.get("vms", [])
    defaults = data.get("vm_defaults", {})
    if not isinstance(defaults, dict):
        diagnostics.error(file, "vm_defaults", f"expected an object, got {show(defaults)}")
        defaults = {}
    if not isinstance(vms, list):
        diagnostics.error(file, "vms", f"expected a list of VMs, got {show(vms)}")
        return
    for index, raw in enumerate(vms):
        path = f"vms[{index}]"
        if not isinstance(raw, dict):
            diagnostics.error(file, path, f"expected an object, got {show(raw)}")
            continue
        if "vmid" not in raw:
            diagnostics.error(file, f"{path}.vmid", "required key is missing")
            continue
        guest = _guest("vm", raw["vmid"], raw, file, path, defaults, diagnostics)
        if guest is not None:
            yield guest


def _guest(
    kind: str,
    key: Any,
    raw: Any,
    file: Path,
    path: str,
    defaults: dict[str, Any],
    diagnostics: Diagnostics,
) -> TargetConfig | None:
    try:
        ident: Id = parse_id(key)
    except ValueError:
        where = path if kind == "lxc" else f"{path}.vmid"
        diagnostics.error(
            file, where, f"expected a guest id (a whole number 100-999999999), got {show(key)}"
        )
        return None
    if not isinstance(raw, dict):
        diagnostics.error(file, path, f"expected an object, got {show(raw)}")
        return None
    common = _common(kind, raw, file, path, diagnostics)
    if common is None:
        return None
    return TargetConfig(ident, kind, file, path, common, raw, defaults)
