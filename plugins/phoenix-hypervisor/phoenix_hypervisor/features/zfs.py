"""``zfs``: pools on the configured disks, datasets and their properties, the ARC limit.

Safety (the old tool wiped any disk without a ZFS signature, even in "safe" mode): a pool is
created only on disks the configuration names, that hold no signature at all (``blkid -p``),
and only with ``--allow-destructive``. A disk with a signature is never touched: the feature
fails naming the disk and what is on it, so the operator decides (``wipefs`` by hand).
An existing pool is never recreated or reshaped.

Dataset properties are compared with ``zfs get -H -p`` (exact numbers), one query for every
dataset, and repaired with one ``zfs set`` per dataset. The ARC limit is persisted in a
phoenix-owned ``/etc/modprobe.d`` file (and the initramfs, which loads zfs on root-on-ZFS
nodes) and set at runtime through ``/sys/module/zfs/parameters/zfs_arc_max``.

The module parameter stores any number, but the ARC takes it only inside a range (openzfs
``module/zfs/arc.c`` ``arc_tuning_update``: at least 64 MiB (``MIN_ARC_MAX``), above
``arc_c_min`` = max(memory / 32, 32 MiB) (``arc_set_limits``), below the node's memory) and
silently keeps its old limit otherwise. So the limit is checked against the node's memory
(``/proc/meminfo``) before anything is written, and what ZFS uses is read back from
``/proc/spl/kstat/zfs/arcstats`` (``c_max``), never from the parameter file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import ALLOW_DESTRUCTIVE, FeatureFailed, HostContext
from phoenix_hypervisor.hostfs import HEADER
from phoenix_hypervisor.model import Dataset, Pool

MODPROBE = "/etc/modprobe.d/zfs-phoenix.conf"
ARC_RUNTIME = "/sys/module/zfs/parameters/zfs_arc_max"
ARCSTATS = "/proc/spl/kstat/zfs/arcstats"
MEMINFO = "/proc/meminfo"
MIB = 1024**2
#: arc.c: MIN_ARC_MAX is DMU_MAX_ACCESS (64 MiB); arc_c_min is never below 32 MiB.
MIN_ARC_MAX = 64 * MIB
SIZE_PROPERTIES = {"recordsize", "quota"}
GIB = 1024**3


def zfs_bytes(text: str) -> int:
    """A size as ``zfs get -p`` prints it: zfs_nicestrtonum's powers of 1024, truncated."""
    if text.lower() == "none":
        return 0
    found = re.fullmatch(r"(\d+(?:\.\d*)?)([KMGTPE]?)", text, re.IGNORECASE)
    if found is None:
        raise ValueError(f"bad size {text!r}")
    return int(float(found[1]) * 1024 ** "BKMGTPE".index((found[2] or "B").upper()))


def normalized(prop: str, value: str) -> str:
    return str(zfs_bytes(value)) if prop in SIZE_PROPERTIES else value


def pools(ctx: HostContext) -> set[str]:
    return set(ctx.read_once(["zpool", "list", "-H", "-o", "name"]).check().stdout.split())


def signature(ctx: HostContext, disk: str) -> str | None:
    """What ``blkid -p`` finds on the disk (``zfs_member``, ``ext4`` ...) or None; a disk
    that is not there fails the feature."""
    result = ctx.query(["blkid", "-p", "-o", "export", "--", disk])
    if result.returncode == 2 and result.stderr.strip():
        raise FeatureFailed(f"disk {disk} not found on the node ({result.stderr.strip()})")
    if result.returncode not in (0, 2):
        result.check()
    for line in result.stdout.splitlines():
        if line.startswith("TYPE="):
            return line.removeprefix("TYPE=")
    return None


def pool_step(ctx: HostContext, pool: Pool) -> Step:
    def check() -> list[Change]:
        if pool.name in pools(ctx):
            return []
        signed = [(d, signature(ctx, d)) for d in pool.disks]
        found = [f"{d} holds {kind}" for d, kind in signed if kind]
        if found:
            raise FeatureFailed(
                f"pool {pool.name} not created: {'; '.join(found)}. phoenix never wipes a disk "
                "that holds data; clear it by hand (wipefs) if it is really unused"
            )
        layout = " ".join([*pool.vdev, *pool.disks])
        return [Change(f"pool {pool.name}", None, layout)]

    def apply(changes: Sequence[Change]) -> None:
        # The consent: the flag, or the old file's zfs.settings.allow_destructive_operations
        # (what lets LetsGo, which has no setup switches, build a fresh node).
        consent = (
            ctx.allowed(ALLOW_DESTRUCTIVE) or ctx.spec.zfs.settings.allow_destructive_operations
        )
        if not consent:
            raise FeatureFailed(
                f"pool {pool.name} needs a new pool on {', '.join(pool.disks)} (blank disks): "
                "creating it needs --allow-destructive (or zfs.settings.allow_destructive_operations)"
            )
        ctx.change(
            ["zpool", "create", "-o", "ashift=12", "-o", "autotrim=on", "-O", "compression=lz4",
             "-O", "atime=off", pool.name, *pool.vdev, *pool.disks]
        )  # fmt: skip

    return Step(f"zfs: pool {pool.name}", check, apply)


def live_properties(ctx: HostContext, datasets: Sequence[Dataset]) -> dict[str, dict[str, str]]:
    props = sorted({k for d in datasets for k in d.props()})
    if not datasets or not props:
        return {d.full: {} for d in datasets}
    result = ctx.query(
        ["zfs", "get", "-H", "-p", "-o", "name,property,value", ",".join(props)]
        + [d.full for d in datasets]
    ).check()
    found: dict[str, dict[str, str]] = {d.full: {} for d in datasets}
    for line in result.stdout.splitlines():
        name, prop, value = line.split("\t")[:3]
        found.setdefault(name, {})[prop] = value
    return found


def dataset_step(ctx: HostContext) -> Step:
    datasets = ctx.spec.zfs.datasets

    def check() -> list[Change]:
        have = set(ctx.query(["zfs", "list", "-H", "-o", "name"]).check().stdout.split())
        changes = []
        existing = [d for d in datasets if d.full in have]
        live = live_properties(ctx, existing)
        for dataset in datasets:
            wanted = dataset.props()
            if dataset.full not in have:
                shown = ",".join(f"{k}={v}" for k, v in wanted.items())
                changes.append(Change(f"dataset {dataset.full}", None, shown or "created", dataset))
                continue
            drift = {
                k: v for k, v in wanted.items() if live[dataset.full].get(k) != normalized(k, v)
            }
            for key, value in drift.items():
                changes.append(
                    Change(
                        f"{dataset.full} {key}", live[dataset.full].get(key), value, (dataset, key)
                    )
                )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        updates: dict[str, list[str]] = {}
        for change in changes:
            if isinstance(change.data, Dataset):
                options = [a for k, v in change.data.props().items() for a in ("-o", f"{k}={v}")]
                ctx.change(["zfs", "create", *options, change.data.full])
            else:
                dataset, key = change.data
                updates.setdefault(dataset.full, []).append(f"{key}={dataset.props()[key]}")
        for name, assignments in updates.items():
            ctx.change(["zfs", "set", *assignments, name])

    return Step("zfs: datasets", check, apply)


def memory(ctx: HostContext) -> int:
    """The node's memory in bytes (``MemTotal``), what arc_all_memory() counts."""
    found = re.search(r"^MemTotal:\s+(\d+) kB", ctx.files.read(MEMINFO) or "", re.MULTILINE)
    if found is None:
        raise FeatureFailed(f"cannot read the node's memory (no MemTotal in {MEMINFO})")
    return int(found[1]) * 1024


def arc_floor(allmem: int) -> int:
    """The largest value ZFS refuses from below: arc_c_min (arc_set_limits), or under 64 MiB."""
    return max(allmem // 32, 32 * MIB, MIN_ARC_MAX - 1)


def arc_limit(ctx: HostContext) -> int | None:
    """``c_max`` of arcstats: the limit ZFS uses (spl-kstat rows: name, type, value)."""
    found = re.search(r"^c_max\s+\d+\s+(\d+)\s*$", ctx.files.read(ARCSTATS) or "", re.MULTILINE)
    return int(found[1]) if found else None


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def arc_step(ctx: HostContext) -> Step:
    gb = ctx.spec.zfs.arc_max_gb or 0
    wanted = gb * GIB
    value = str(wanted)
    content = f"{HEADER}options zfs zfs_arc_max={value}\n"

    def check() -> list[Change]:
        allmem = memory(ctx)
        if not arc_floor(allmem) < wanted < allmem:
            raise FeatureFailed(
                f"zfs.arc_max_gb {gb} is outside what ZFS takes on this node "
                f"({_gib(allmem)} of memory): the limit must be above {_gib(arc_floor(allmem))} "
                "and below the node's memory, or ZFS ignores it (OpenZFS arc_tuning_update)"
            )
        changes = []
        have = ctx.files.read(MODPROBE)
        if have != content:
            changes.append(
                Change(MODPROBE, "missing" if have is None else "differs", f"{gb} GiB", "file")
            )
        limit = arc_limit(ctx)
        if limit != wanted:
            changes.append(Change("ZFS ARC limit (arcstats c_max)", limit, wanted, "runtime"))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        kinds = {c.data for c in changes}
        if "file" in kinds:
            ctx.files.write(MODPROBE, content)
            ctx.change(["update-initramfs", "-u"])
        if "runtime" in kinds:
            # sysfs takes a plain write; tee writes without the temporary-file rename a
            # normal file write uses (which sysfs refuses).
            ctx.change(["tee", "--", ctx.files.path(ARC_RUNTIME)], input=value + "\n")
            limit = arc_limit(ctx)
            if limit != wanted:
                raise FeatureFailed(
                    f"zfs_arc_max={value} was written, but ZFS keeps the ARC limit at {limit} "
                    f"(arcstats c_max)"
                )

    return Step("zfs: ARC limit", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    found = [pool_step(ctx, pool) for pool in ctx.spec.zfs.pools]
    if ctx.spec.zfs.datasets:
        found.append(dataset_step(ctx))
    if ctx.spec.zfs.arc_max_gb:
        found.append(arc_step(ctx))
    return found
