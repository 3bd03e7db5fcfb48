"""``phoenix config validate`` and ``phoenix config schema``."""

from __future__ import annotations

import click

from phoenix_core.config.models import Config, GuestCommon, HypervisorConfig
from phoenix_core.config.schema import ID_SCHEMA, document, model_schema, type_schema
from phoenix_core.plugins import Plugins
from phoenix_core.render import emit_json


def show_validation(config: Config) -> None:
    kinds: dict[str, int] = {}
    for guest in config.guests.values():
        kinds[guest.kind] = kinds.get(guest.kind, 0) + 1
    counts = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) or "no guests"
    click.echo(
        f"{config.directory}: valid ({len(config.guests)} guests; {counts}; "
        f"{len(config.warnings)} warning{'s' if len(config.warnings) != 1 else ''})"
    )
    for name, path in config.files.items():
        click.echo(f"  {name}: {path}")


def _guest_schema(kind: str, plugins: Plugins, defs: dict) -> dict:
    manager = plugins.manager(kind)
    model = getattr(manager, "config_model", None)
    if model is not None:
        return type_schema(model, defs)
    # Without the manager, only the keys the core reads are known; the rest stay open.
    defs.setdefault("GuestCommon", model_schema(GuestCommon, defs, extra_allowed=True))
    return {"$ref": "#/$defs/GuestCommon"}


def print_schema(file: str, plugins: Plugins) -> None:
    defs: dict = {}
    if file == "hypervisor":
        root = model_schema(HypervisorConfig, defs)
        emit_json(document("phoenix_hypervisor_config.json", root, defs))
        return
    guest = _guest_schema(file, plugins, defs)
    if file == "lxc":
        root = {
            "type": "object",
            "description": "Containers keyed by CTID; other root keys are defaults for every container.",
            "properties": {
                "$schema": {"type": "string"},
                "lxc_configs": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[0-9]+$"},
                    "additionalProperties": guest,
                },
            },
            "required": ["lxc_configs"],
        }
        emit_json(document("phoenix_lxc_configs.json", root, defs))
        return
    root = {
        "type": "object",
        "properties": {
            "$schema": {"type": "string"},
            "vm_defaults": {"type": "object"},
            "vms": {
                "type": "array",
                "items": {
                    "allOf": [guest, {"required": ["vmid"], "properties": {"vmid": ID_SCHEMA}}]
                },
            },
        },
        "additionalProperties": False,
    }
    emit_json(document("phoenix_vm_configs.json", root, defs))
