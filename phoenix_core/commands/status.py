"""``phoenix status``: one row per guest with its live state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from phoenix_core.capacity import node_facts
from phoenix_core.config.models import TargetConfig
from phoenix_core.manager import FoundGuest, GuestState
from phoenix_core.render import document, emit_json, table

if TYPE_CHECKING:
    from phoenix_core.engine import Engine


def node_names(engine: Engine, targets: Sequence[TargetConfig]) -> dict[str | None, str]:
    """The name Proxmox gives each node the targets are on (keyed by their ``node`` key, None
    for the default node), read once per node; a node whose manager cannot tell is left out."""
    names: dict[str | None, str] = {}
    asked: set[str | None] = set()
    for target in targets:
        node = target.common.node
        if node in asked or engine.plugins.manager(target.kind) is None:
            continue
        asked.add(node)
        facts = node_facts(engine, target)
        if facts is not None:
            names[node] = facts.name
    return names


def status_record(
    guest: TargetConfig, state: GuestState | None, node: str | None = None
) -> dict[str, object]:
    """One target's row; ``node`` the node's own name when it was read."""
    record: dict[str, object] = {
        "id": guest.id,
        "kind": guest.kind,
        "name": guest.name,
        "node": node or guest.common.node or "default",
        "template": guest.is_template,
    }
    if state is None:
        record.update(
            exists=None,
            status=None,
            lock=None,
            build_complete=None,
            addresses=[],
            note=f"no installed manager handles {guest.kind} targets",
        )
    else:
        record.update(
            exists=state.exists,
            status=state.status if state.exists else "missing",
            lock=state.lock,
            build_complete=state.build_complete if state.exists else None,
            addresses=list(state.addresses),
            note=None,
        )
        if state.details:
            record["details"] = dict(state.details)
    record["managed"] = True
    return record


def unmanaged_record(kind: str, found: FoundGuest) -> dict[str, object]:
    """A guest on the node that no file describes (``status --all``)."""
    state = found.state
    return {
        "id": found.id,
        "kind": kind,
        "name": state.name,
        "node": found.node,
        "template": state.template,
        "exists": True,
        "status": state.status,
        "lock": state.lock,
        "build_complete": state.build_complete,
        "addresses": list(state.addresses),
        "note": None,
        "managed": False,
    }


def _yes_no(value: object, unknown: str) -> str:
    return unknown if value is None else "yes" if value else "no"


def show_status(
    rows: Sequence[tuple[TargetConfig, GuestState | None]],
    output: str,
    unmanaged: Sequence[tuple[str, FoundGuest]] = (),
    nodes: Mapping[str | None, str] | None = None,
) -> None:
    nodes = nodes or {}
    records = [status_record(g, s, nodes.get(g.common.node)) for g, s in rows]
    records += [unmanaged_record(kind, found) for kind, found in unmanaged]
    if output == "json":
        emit_json(document("status", targets=records))
        return
    headers: tuple[str, ...] = ("ID", "KIND", "NAME", "NODE", "EXISTS", "STATUS", "LOCK")
    headers += ("TEMPLATE", "BUILT")
    # Addresses only when a manager reported some (a VM's guest agent), so the table stays narrow.
    wide = any(r["addresses"] for r in records)
    lines = [
        (
            r["id"],
            r["kind"],
            r["name"],
            r["node"],
            "?" if r["exists"] is None else "yes" if r["exists"] else "no",
            r["status"] or r["note"],
            r["lock"] or "",
            "yes" if r["template"] else "",
            _yes_no(r["build_complete"], "?" if r["exists"] else ""),
            *([", ".join(r["addresses"])] if wide else []),  # type: ignore[arg-type]
        )
        for r in records
    ]
    print(table((*headers, "ADDRESSES") if wide else headers, lines))
    if unmanaged:
        ids = ", ".join(str(found.id) for _, found in unmanaged)
        print(f"not described by any file: {ids} (phoenix import ID prints an entry)")
    # Parts a manager reports (a host's features), one line each under the table.
    for record in records:
        for part, state in (record.get("details") or {}).items():  # type: ignore[attr-defined]
            print(f"  {record['id']} {part}: {state}")
