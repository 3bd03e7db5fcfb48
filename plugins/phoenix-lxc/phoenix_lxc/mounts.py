"""Mount points (``mount_points``, ``zfs_volumes``, ``volumes``), matched by container path.

A mount already attached at its container path is never allocated again, whatever its
``mpN`` slot; a missing one gets the lowest free slot. Bind-mount host directories are created
when missing and owned as configured, with the ids mapped through the container's id map
(not a hard-coded 100000), non-recursively and only when they differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import node_path
from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_lxc.model import LxcSpec
from phoenix_lxc.rawconf import host_id
from phoenix_pve.live import Live
from phoenix_pve.parse import format_props, normalize_value, parse_props, size_bytes

MAX_MP = 256


@attrs.frozen
class Wanted:
    """One mount as the config wants it."""

    path: str
    volume: str  # a host path (bind mount) or "<pool>:<size_gb>" (allocated)
    size_gb: int | None = None
    read_only: bool = False
    backup: bool | None = None

    @property
    def bind(self) -> bool:
        return self.volume.startswith("/")

    def option(self) -> str:
        props = {"volume": self.volume, "mp": self.path}
        if self.read_only:
            props["ro"] = "1"
        if self.backup is not None:
            props["backup"] = "1" if self.backup else "0"
        return format_props(props, ("volume", "mp"))


@attrs.frozen
class MakeDir:
    """Change data: create a bind mount's missing host directory."""

    path: str


@attrs.frozen
class Attach:
    """Change data: set ``want`` on ``slot`` (None: the lowest free ``mpN`` at apply time)."""

    want: Wanted
    slot: str | None


@attrs.frozen
class Grow:
    """Change data: ``pct resize`` the volume on ``slot`` to ``size_gb``."""

    slot: str
    size_gb: int


@attrs.frozen
class Own:
    """Change data: ``chown`` a host directory to ``ids`` (``uid``, ``:gid`` or ``uid:gid``)."""

    path: str
    ids: str


def wanted(spec: LxcSpec) -> list[Wanted]:
    result = [
        Wanted(
            m.container_path.rstrip("/") or "/",
            m.host_path.rstrip("/"),
            None,
            m.read_only,
            m.backup,
        )
        for m in spec.mount_points
    ]
    for v in [*spec.zfs_volumes, *spec.volumes]:
        result.append(
            Wanted(
                v.mount_point.rstrip("/") or "/",
                f"{v.pool}:{v.size_gb}",
                v.size_gb,
                False,
                v.backup,
            )
        )
    return result


def attached(live: Live) -> dict[str, tuple[str, dict[str, str]]]:
    """Live mounts by container path: (slot, properties)."""
    found = {}
    for key, value in live.config().options.items():
        if key.startswith("mp") and key[2:].isdigit():
            props = parse_props(value, "volume")
            found[props.get("mp", "").rstrip("/") or "/"] = (key, props)
    return found


def _owner_changes(spec: LxcSpec, live: Live, missing_dirs: set[str]) -> list[Change]:
    owned = [m for m in spec.mount_points if m.owner_uid is not None or m.owner_gid is not None]
    if not owned:
        return []
    # The node's paths, as its commands name them (inside DIR on the simulated node).
    present = {
        node_path(live.host, m.host_path): m.host_path
        for m in owned
        if m.host_path not in missing_dirs
    }
    stats: dict[str, str] = {}
    if present:
        result = live.query(["stat", "-c", "%u:%g %n", *present])
        for line in result.stdout.splitlines():
            ids, _, path = line.partition(" ")
            stats[present.get(path, path)] = ids
    changes = []
    for m in owned:
        have = stats.get(m.host_path, "")
        have_uid, _, have_gid = have.partition(":")
        uid = _host_owner(spec, "uid", m.owner_uid)
        gid = _host_owner(spec, "gid", m.owner_gid)
        # Only what is configured is compared and changed: ``UID``, ``:GID`` or ``UID:GID``
        # (chown has no "keep" value: ``-1`` is taken for a name and refused).
        if uid not in (None, have_uid) or gid not in (None, have_gid):
            ids = (uid or "") + (f":{gid}" if gid is not None else "")
            changes.append(
                Change(f"owner {m.host_path}", have or None, ids, data=Own(m.host_path, ids))
            )
    return changes


def _host_owner(spec: LxcSpec, kind: str, inner: int | None) -> str | None:
    """The configured owner as the host sees it (through the id map), None when not set."""
    return None if inner is None else str(host_id(spec.id_maps, kind, inner, spec.unprivileged))


def step(spec: LxcSpec, live: Live, *, skip: Callable[[], bool]) -> Step:
    def check() -> list[Change]:
        if skip():
            return []
        have = attached(live)
        changes: list[Change] = []
        missing_dirs: set[str] = set()
        for want in wanted(spec):
            if want.path not in have:
                on_node = node_path(live.host, want.volume)
                if want.bind and not live.query(["test", "-d", on_node]).ok:
                    missing_dirs.add(want.volume)
                    changes.append(
                        Change(
                            f"host dir {want.volume}", None, "created", data=MakeDir(want.volume)
                        )
                    )
                changes.append(
                    Change(f"mount {want.path}", None, want.option(), data=Attach(want, None))
                )
                continue
            slot, props = have[want.path]
            if want.bind:
                same = props.get("volume", "").rstrip("/") == want.volume and normalize_value(
                    props.get("ro", "0")
                ) == ("1" if want.read_only else "0")
                if not same:
                    changes.append(
                        Change(
                            f"mount {want.path}",
                            f"{slot}: {live.config().get(slot)}",
                            want.option(),
                            data=Attach(want, slot),
                        )
                    )
            else:
                pool = want.volume.split(":")[0]
                if props.get("volume", "").split(":")[0] != pool:
                    raise PhoenixError(
                        f"CT {live.vmid}: {want.path} is on {props.get('volume')}, the config asks "
                        f"pool {pool}; phoenix does not move volumes (pct move-volume)"
                    )
                size = size_bytes(props.get("size", "0")) or 0
                if want.size_gb is not None and size < want.size_gb << 30:
                    changes.append(
                        Change(
                            f"size {want.path}",
                            props.get("size"),
                            f"{want.size_gb}G",
                            data=Grow(slot, want.size_gb),
                        )
                    )
                elif want.size_gb is not None and size > want.size_gb << 30:
                    raise PhoenixError(
                        f"CT {live.vmid}: {want.path} is {props.get('size')}; shrinking to "
                        f"{want.size_gb}G is not possible (nothing changed)"
                    )
        extra = sorted(set(have) - {w.path for w in wanted(spec)})
        for path in extra:
            logger.warning(
                "CT {}: {} is mounted ({}) but not configured; left alone",
                live.vmid,
                path,
                have[path][0],
            )
        return changes + _owner_changes(spec, live, missing_dirs)

    def apply(changes: Sequence[Change]) -> None:
        used = {slot for slot, _ in attached(live).values()}
        vmid = str(live.vmid)
        for change in changes:
            match change.data:
                case MakeDir(path):
                    live.change(["mkdir", "-p", node_path(live.host, path)])
                case Attach(want, slot):
                    slot = slot or _free(used)
                    used.add(slot)
                    live.change(["pct", "set", vmid, f"--{slot}", want.option()])
                case Grow(slot, size_gb):
                    live.change(["pct", "resize", vmid, slot, f"{size_gb}G"])
                case Own(path, ids):
                    live.change(["chown", ids, node_path(live.host, path)])

    return Step("mounts", check, apply)


def _free(used: set[str]) -> str:
    for index in range(MAX_MP):
        if f"mp{index}" not in used:
            return f"mp{index}"
    raise PhoenixError(f"no free mount point slot (mp0..mp{MAX_MP - 1} all used)")


def snapshot_blocker(spec: LxcSpec, live: Live) -> str | None:
    """The LXC snapshot policy: Proxmox cannot snapshot a container with bind mounts."""
    bind = bool(spec.mount_points) or any(
        k.startswith("mp") and k[2:].isdigit() and v.startswith("/")
        for k, v in live.config().options.items()
    )
    return "Proxmox cannot snapshot a container with bind mounts" if bind else None
