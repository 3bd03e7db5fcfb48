"""``phoenix config validate`` and ``phoenix config schema``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from phoenix_core.config.models import Config, GuestCommon, HypervisorConfig
from phoenix_core.config.schema import ID_SCHEMA, document, model_schema, type_schema
from phoenix_core.errors import ConfigError, UsageError
from phoenix_core.layout import GuestFile, HostTargets
from phoenix_core.names import HYPERVISOR_FILE
from phoenix_core.plugins import Plugins
from phoenix_core.render import document as json_document
from phoenix_core.render import emit_json

if TYPE_CHECKING:
    from phoenix_core.app import App


def show_validation(app: App, output: str) -> None:
    """The configuration's summary, or (``-o json``) ``phoenix/config-validate/v1``, errors
    included: a JSON reader gets a document whether or not the configuration is valid."""
    if output != "json":
        _print_validation(app.read_config(log_warnings=False))
        return
    try:
        config = app.read_config(log_warnings=False)
    except ConfigError as exc:
        emit_json(validation_json(None, exc.problems))
        click.get_current_context().exit(exc.exit_code)
    emit_json(validation_json(config, []))


def validation_json(config: Config | None, errors: list[str]) -> dict[str, Any]:
    return json_document(
        "config-validate",
        valid=not errors,
        errors=errors,
        warnings=config.warnings if config else [],
        directory=str(config.directory) if config else None,
        guests=_kinds(config) if config else {},
        files={n: str(p) for n, p in config.files.items()} if config else {},
        unread=dict(config.unread) if config else {},
    )


def _kinds(config: Config) -> dict[str, int]:
    """How many guests of each kind, by kind."""
    kinds: dict[str, int] = {}
    for guest in config.guests.values():
        kinds[guest.kind] = kinds.get(guest.kind, 0) + 1
    return dict(sorted(kinds.items()))


def _print_validation(config: Config) -> None:
    kinds = _kinds(config)
    counts = ", ".join(f"{k}: {n}" for k, n in kinds.items()) or "no guests"
    click.echo(
        f"{config.directory}: valid ({len(config.guests)} guests; {counts}; "
        f"{len(config.warnings)} warning{'s' if len(config.warnings) != 1 else ''})"
    )
    for name, path in config.files.items():
        click.echo(f"  {name}: {path}")
    for name, dist in config.unread.items():
        click.echo(f"  {name}: not read (install {dist})")
    for warning in config.warnings:
        click.echo(f"warning: {warning}")


def _guest_schema(kind: str, plugins: Plugins, defs: dict[str, Any]) -> dict[str, Any]:
    model = getattr(plugins.manager(kind), "config_model", None)
    if model is not None:
        return type_schema(model, defs)
    # A manager without a model: only the keys the core reads are known; the rest stay open.
    defs.setdefault("GuestCommon", model_schema(GuestCommon, defs, extra_allowed=True))
    return {"$ref": "#/$defs/GuestCommon"}


def layout_schema(layout: GuestFile, guest: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of the part of a file that holds a layout's guests."""
    if layout.id_key is None:
        return {
            "type": "object",
            "description": "guests keyed by id",
            "propertyNames": {"pattern": "^[0-9]+$"},
            "additionalProperties": guest,
        }
    return {
        "type": "array",
        "items": {
            "allOf": [
                guest,
                {"required": [layout.id_key], "properties": {layout.id_key: ID_SCHEMA}},
            ]
        },
    }


def print_schema(kind: str, plugins: Plugins) -> None:
    defs: dict[str, Any] = {}
    if kind == "hypervisor":
        root = model_schema(HypervisorConfig, defs)
        for spec in plugins.specs():
            layout = spec.config
            # The sections a manager declares: typed by its settings model when it has one.
            model = getattr(plugins.manager(spec.kind), "settings_model", None)
            typed = model_schema(model, defs)["properties"] if model is not None else {}
            for key in sorted(spec.sections):
                root["properties"].setdefault(key, typed.get(key, {}))
            if isinstance(layout, GuestFile) and layout.file is None:
                guest = _guest_schema(spec.kind, plugins, defs)
                root["properties"][layout.key] = layout_schema(layout, guest)
        if not any(isinstance(s.config, HostTargets) for s in plugins.specs()):
            # Without the file's owner installed, a key no manager reads is allowed (a
            # warning at load), as the manager reading it may be installed later.
            root["additionalProperties"] = True
        emit_json(document(HYPERVISOR_FILE, root, defs))
        return
    registered = plugins.by_kind.get(kind)
    layout = registered.spec.config if registered else None
    if not isinstance(layout, GuestFile) or layout.file is None:
        files = [
            s.kind for s in plugins.specs() if isinstance(s.config, GuestFile) and s.config.file
        ]
        raise UsageError(
            f"no schema for {kind!r}: expected hypervisor or a kind with its own file "
            f"({', '.join(['hypervisor', *files])})"
        )
    guest = _guest_schema(kind, plugins, defs)
    properties: dict[str, Any] = {
        "$schema": {"type": "string"},
        layout.key: layout_schema(layout, guest),
    }
    root: dict[str, Any] = {"type": "object", "properties": properties, "required": [layout.key]}
    if layout.defaults_key:
        properties[layout.defaults_key] = {
            "type": "object",
            "description": "defaults for every guest",
        }
    if layout.root_defaults:
        root["description"] = "Other top-level keys are defaults for every guest."
    else:
        root["additionalProperties"] = False
    emit_json(document(layout.file, root, defs))
