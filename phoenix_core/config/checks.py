"""Checks that need every file at once: what no single file's schema can see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.config.types import TargetId
from phoenix_core.graph import Graph, format_cycle


def check_duplicate_ids(
    guests: Iterable[TargetConfig], diagnostics: Diagnostics
) -> dict[TargetId, TargetConfig]:
    """Index guests by id; an id defined twice (in one file or across files) is an error."""
    index: dict[TargetId, TargetConfig] = {}
    for guest in guests:
        first = index.get(guest.id)
        if first is None:
            index[guest.id] = guest
            continue
        diagnostics.error(
            guest.file,
            guest.path,
            f"id {guest.id} is already defined as {first.kind} in {first.file.name}: {first.path}",
        )
    return index


def check_references(
    guests: dict[TargetId, TargetConfig],
    clone_keys: dict[str, str],
    diagnostics: Diagnostics,
    *,
    unread: str = "",
) -> None:
    """Every clone source and dependency must be a defined guest; a clone source of the same kind.

    With guest files that no installed manager reads (``unread`` names them), an unknown id
    may be defined there: a warning, and the guests that need it wait for that manager.
    """

    def dangling(file: Path, path: str, ident: TargetId) -> None:
        if unread:
            diagnostics.warn(
                file, path, f"{ident} is not defined in the files read ({unread} is not read)"
            )
        else:
            diagnostics.error(file, path, f"{ident} is not defined in any guest file")

    for guest in guests.values():
        clone = guest.clone_from
        if clone is not None:
            where = f"{guest.path}.{clone_keys.get(guest.kind, 'clone_from')}"
            source = guests.get(clone)
            if source is None:
                dangling(guest.file, where, clone)
            elif source.kind != guest.kind:
                diagnostics.error(
                    guest.file,
                    where,
                    f"{clone} is a {source.kind}; a {guest.kind} can only be cloned from a {guest.kind}",
                )
        for index, dep in enumerate(guest.common.dependencies):
            where = f"{guest.path}.dependencies[{index}]"
            if dep == guest.id:
                diagnostics.error(guest.file, where, "a guest cannot depend on itself")
            elif dep not in guests:
                dangling(guest.file, where, dep)


def check_cycles(
    graph: Graph, guests: dict[TargetId, TargetConfig], diagnostics: Diagnostics
) -> None:
    cycle = graph.find_cycle()
    if cycle:
        first = guests[cycle[0]]
        diagnostics.error(first.file, first.path, f"dependency cycle: {format_cycle(cycle)}")


def check_claims(
    targets: Iterable[TargetConfig], managers: Mapping[str, Any], diagnostics: Diagnostics
) -> None:
    """Two targets claiming one thing (an IP or MAC address, a published port: each
    manager's :meth:`~phoenix_core.manager.Manager.claims`) break each other, whatever their
    kinds. One pass over the targets, a dict per run: linear in their number."""
    seen: dict[tuple[str, str], TargetConfig] = {}
    of_kind = {kind: getattr(manager, "claims", None) for kind, manager in managers.items()}
    for target in targets:
        claims = of_kind.get(target.kind)
        if claims is None:
            continue
        for claim in claims(target):
            other = seen.setdefault((claim.namespace, claim.value), target)
            if other is not target and other.id != target.id:
                diagnostics.error(
                    target.file,
                    claim.path,
                    f"{claim.namespace} {claim.value} is also used by {other.kind} {other.id} "
                    f"({other.file.name}: {other.path})",
                )
