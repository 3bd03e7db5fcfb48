"""Reading the guests of one registered layout (:class:`~phoenix_core.manager.GuestFile`)
into :class:`TargetConfig` records, whatever file or section they live in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from phoenix_core.config.convert import show, suggest
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import COMMON_KEYS, GuestCommon, TargetConfig
from phoenix_core.config.types import MAX_ID, MIN_ID, TargetId, parse_id, parse_name
from phoenix_core.layout import GuestFile

_ID_RANGE = f"a whole number {MIN_ID}-{MAX_ID}"


def read_guests(
    kind: str, layout: GuestFile, file: Path, data: Any, diagnostics: Diagnostics
) -> Iterator[TargetConfig]:
    """The guests of ``kind`` in ``data``: a whole guest file, or the hypervisor file for a
    layout that lives in one of its sections."""
    if not isinstance(data, dict):
        diagnostics.error(file, "", f"expected a JSON object at the top, got {show(data)}")
        return
    own = {"$schema", layout.key, *([layout.defaults_key] if layout.defaults_key else [])}
    if layout.file is not None and not layout.root_defaults:
        for key in data:
            if key not in own:
                diagnostics.error(file, key, "unknown key" + suggest(key, sorted(own)))
    defaults = _defaults(layout, file, data, own, diagnostics)
    entries = data.get(layout.key)
    if entries is None:
        if layout.file is not None:
            diagnostics.error(file, layout.key, "required key is missing")
        return
    for key, path, raw in _entries(layout, file, entries, diagnostics):
        guest = _guest(kind, layout, key, raw, file, path, defaults, diagnostics)
        if guest is not None:
            yield guest


def _defaults(
    layout: GuestFile, file: Path, data: Mapping[str, Any], own: set[str], diagnostics: Diagnostics
) -> dict[str, Any]:
    if layout.root_defaults:
        return {k: v for k, v in data.items() if k not in own}
    if layout.defaults_key is None:
        return {}
    defaults = data.get(layout.defaults_key, {})
    if not isinstance(defaults, dict):
        diagnostics.error(file, layout.defaults_key, f"expected an object, got {show(defaults)}")
        return {}
    return defaults


def _entries(
    layout: GuestFile, file: Path, entries: Any, diagnostics: Diagnostics
) -> Iterator[tuple[Any, str, Any]]:
    """(id as written, JSON path, guest JSON) for each guest of the layout."""
    if layout.id_key is None:
        if not isinstance(entries, dict):
            diagnostics.error(
                file, layout.key, f"expected an object keyed by id, got {show(entries)}"
            )
            return
        for key, raw in entries.items():
            yield key, f"{layout.key}.{key}", raw
        return
    if not isinstance(entries, list):
        diagnostics.error(file, layout.key, f"expected a list, got {show(entries)}")
        return
    for index, raw in enumerate(entries):
        path = f"{layout.key}[{index}]"
        if not isinstance(raw, dict):
            diagnostics.error(file, path, f"expected an object, got {show(raw)}")
        elif layout.id_key not in raw:
            diagnostics.error(file, f"{path}.{layout.id_key}", "required key is missing")
        else:
            yield raw[layout.id_key], path, raw


def _guest(
    kind: str,
    layout: GuestFile,
    key: Any,
    raw: Any,
    file: Path,
    path: str,
    defaults: dict[str, Any],
    diagnostics: Diagnostics,
) -> TargetConfig | None:
    id_path = path if layout.id_key is None else f"{path}.{layout.id_key}"
    ident = _id(layout, key, file, id_path, diagnostics)
    if ident is None:
        return None
    if not isinstance(raw, dict):
        diagnostics.error(file, path, f"expected an object, got {show(raw)}")
        return None
    clone_from = None
    if layout.clone_key is not None and raw.get(layout.clone_key) is not None:
        where = f"{path}.{layout.clone_key}"
        clone_from = _id(layout, raw[layout.clone_key], file, where, diagnostics)
    picked = {k: v for k, v in raw.items() if k in COMMON_KEYS}
    if layout.id_pattern is not None:
        picked.setdefault("name", ident)  # a named target is called by its name
    common = diagnostics.structure(file, path, picked, GuestCommon)
    if common is None:
        return None
    return TargetConfig(ident, kind, file, path, common, raw, defaults, clone_from)


def _id(
    layout: GuestFile, value: Any, file: Path, path: str, diagnostics: Diagnostics
) -> TargetId | None:
    """The target id as the layout writes them (guest ids, or names), or None (an error)."""
    if layout.id_pattern is not None:
        try:
            return parse_name(value, layout.id_pattern)
        except ValueError as problem:
            diagnostics.error(file, path, str(problem))
            return None
    try:
        return parse_id(value)
    except ValueError:
        diagnostics.error(file, path, f"expected a guest id ({_ID_RANGE}), got {show(value)}")
        return None
