"""Checks that need every file at once: what no single file's schema can see."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.config.types import Id
from phoenix_core.graph import Graph, format_cycle


def check_duplicate_ids(
    guests: Iterable[TargetConfig], diagnostics: Diagnostics
) -> dict[Id, TargetConfig]:
    """Index guests by id; an id defined twice (in one file or across files) is an error."""
    index: dict[Id, TargetConfig] = {}
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
    guests: dict[Id, TargetConfig],
    clone_keys: dict[str, str],
    diagnostics: Diagnostics,
    *,
    unread: str = "",
) -> None:
    """Every clone source and dependency must be a defined guest; a clone source of the same kind.

    With guest files that no installed manager reads (``unread`` names them), an unknown id
    may be defined there: a warning, and the guests that need it wait for that manager.
    """

    def dangling(file: Path, path: str, ident: Id) -> None:
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


def check_cycles(graph: Graph, guests: dict[Id, TargetConfig], diagnostics: Diagnostics) -> None:
    cycle = graph.find_cycle()
    if cycle:
        first = guests[cycle[0]]
        diagnostics.error(first.file, first.path, f"dependency cycle: {format_cycle(cycle)}")


def static_ip(guest: TargetConfig) -> str | None:
    """The guest's static IPv4 address (``network_config.ip`` without its prefix), if any."""
    net = guest.raw.get("network_config")
    ip = net.get("ip") if isinstance(net, dict) else None
    if not isinstance(ip, str) or ip.lower() in ("", "dhcp", "manual", "auto"):
        return None
    return ip.split("/")[0]


def _macs(guest: TargetConfig) -> list[tuple[str, str]]:
    found = []
    mac = guest.raw.get("mac_address")
    if isinstance(mac, str) and mac:
        found.append(("mac_address", mac.lower()))
    net = guest.raw.get("network_config")
    if isinstance(net, dict):
        for key in ("hwaddr", "macaddr", "mac_address"):
            if isinstance(net.get(key), str) and net[key]:
                found.append((f"network_config.{key}", net[key].lower()))
    return found


def check_unique_addresses(guests: dict[Id, TargetConfig], diagnostics: Diagnostics) -> None:
    """Two guests with one static IP or one MAC address break each other's networking."""
    seen: dict[tuple[str, str], TargetConfig] = {}
    for guest in guests.values():
        items = [("network_config.ip", static_ip(guest)), *_macs(guest)]
        for key, value in items:
            if value is None:
                continue
            kind = "IP" if key.endswith(".ip") else "MAC"
            other = seen.setdefault((kind, value), guest)
            if other is not guest and other.id != guest.id:
                diagnostics.error(
                    guest.file,
                    f"{guest.path}.{key}",
                    f"{kind} {value} is also used by {other.kind} {other.id} ({other.file.name}: {other.path})",
                )


def _has_feature(guest: TargetConfig, feature: str, guests: dict[Id, TargetConfig]) -> bool:
    """True when the guest or a guest it was cloned from installs ``feature``."""
    seen: set[Id] = set()
    current: TargetConfig | None = guest
    while current is not None and current.id not in seen:
        seen.add(current.id)
        features = current.raw.get("features")
        if isinstance(features, list) and feature in features:
            return True
        current = guests.get(current.clone_from) if current.clone_from is not None else None
    return False


def check_gpu_features(guests: dict[Id, TargetConfig], diagnostics: Diagnostics) -> None:
    """A GPU passed through without the nvidia feature (here or up the clone chain) has no driver."""
    for guest in guests.values():
        gpu = guest.raw.get("gpu_assignment")
        if not isinstance(gpu, str) or gpu.strip().lower() in ("", "none"):
            continue
        if not _has_feature(guest, "nvidia", guests):
            diagnostics.error(
                guest.file,
                f"{guest.path}.gpu_assignment",
                f'GPU "{gpu}" is assigned but neither this guest nor its clone source installs the "nvidia" feature',
            )
