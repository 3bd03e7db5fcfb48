"""``phoenix import ID... [--write]``: the entry describing an existing guest, in its kind's
file format, printed or added to that file.

The core asks each installed guest manager that can (``describe``) whether the id is one of
its guests and for the entry; the manager writes it as its own steps compare, so the next
``plan`` of the guest is empty. ``--write`` adds each entry to its kind's file without
reformatting the rest (:mod:`phoenix_core.config.append`), then lets the manager record on
the node what a converge would have (``adopt``: the build mark). An id some file already
describes is refused before anything is read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from phoenix_core.config.append import append_entry
from phoenix_core.config.types import parse_id
from phoenix_core.engine import Engine
from phoenix_core.errors import PhoenixError, UsageError
from phoenix_core.layout import GuestFile
from phoenix_core.manager import Manager, RunContext
from phoenix_core.names import HYPERVISOR_FILE
from phoenix_core.render import document, emit_json


@attrs.frozen
class Imported:
    """One guest's entry and where it belongs."""

    id: int
    kind: str
    file: Path
    key: str
    entry: dict[str, Any]
    #: The member name in an object keyed by id; None for a list holding the id inside.
    member: str | None


def _ids(values: Sequence[str], engine: Engine) -> list[int]:
    ids = []
    for value in values:
        try:
            ident = parse_id(value)
        except ValueError:
            raise UsageError(f"not a guest id: {value!r}") from None
        if ident in engine.config.guests:
            described = engine.config.guests[ident]
            raise UsageError(f"{ident} is already described in {described.file} ({described.path})")
        ids.append(ident)
    return ids


def _file_of(engine: Engine, layout: GuestFile) -> Path:
    if layout.file is None:
        return engine.config.directory / HYPERVISOR_FILE
    return engine.config.files.get(layout.file) or engine.config.directory / layout.file


def _context(engine: Engine) -> RunContext:
    """The default node, confirmed by the node probe of every guest manager that declares one
    (``import --write`` changes the guest it adopts), in the run's scope."""
    host = engine.hosts.for_node(None)
    for kind, _ in engine.guest_managers():
        probe = engine.plugins.by_kind[kind].spec.node_probe
        if probe is not None:
            engine.hosts.confirm(host, probe)
    return RunContext(host, engine.config, scope=engine.scope)


def describe(engine: Engine, ident: int) -> Imported:
    """Ask every guest manager that can describe guests which one ``ident`` is."""
    ctx = _context(engine)
    for kind, manager in engine.guest_managers():
        entry = manager.describe(ident, ctx) if hasattr(manager, "describe") else None
        if entry is None:
            continue
        layout = engine.plugins.by_kind[kind].spec.config
        assert isinstance(layout, GuestFile)
        member = None if layout.id_key else str(ident)
        return Imported(ident, kind, _file_of(engine, layout), layout.key, entry, member)
    kinds = ", ".join(kind for kind, _ in engine.guest_managers()) or "none installed"
    raise PhoenixError(f"no guest {ident} on the node (asked the managers of: {kinds})")


def _manager(engine: Engine, kind: str) -> Manager:
    manager = engine.plugins.manager(kind)
    assert manager is not None
    return manager


def run_import(engine: Engine, values: Sequence[str], write: bool, output: str) -> None:
    found = [describe(engine, ident) for ident in _ids(values, engine)]
    if write:
        ctx = _context(engine)
        for item in found:
            append_entry(item.file, item.key, item.entry, item.member)
            adopt = getattr(_manager(engine, item.kind), "adopt", None)
            if adopt is not None:
                adopt(item.id, ctx)
    if output == "json":
        records = [
            {
                "id": item.id,
                "kind": item.kind,
                "file": str(item.file),
                "key": item.key,
                "entry": item.entry,
                "written": write,
            }
            for item in found
        ]
        emit_json(document("import", guests=records))
        return
    for item in found:
        where = f"{item.file} ({item.key})"
        print(f"# {item.kind} {item.id}: {'added to' if write else 'belongs in'} {where}")
        body = json.dumps(item.entry, indent=2, ensure_ascii=False)
        print(f"{json.dumps(item.member)}: {body}" if item.member is not None else body)
