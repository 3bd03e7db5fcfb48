"""``storage``: the Proxmox storages on the configured datasets (and, from ``nfs``, on the
exports), added with ``pvesm add`` and reconciled with ``pvesm set``.

Storages phoenix did not configure are never removed (the old tool removed every storage but
``local``, ``local-lvm`` and ``local-zfs``, a user's own and its own NFS storages included).
A configured id that already names a storage of another type or on another pool is a
failure, never a replacement: ``pvesm`` cannot change those (fixed options), and removing a
storage a guest may use is the operator's call.

``pvesm add`` activates the storage before it writes storage.cfg and adds nothing when that
fails (pve-storage ``API2/Storage/Config.pm`` ``create``): a ``dir`` storage with
``is_mountpoint`` needs its dataset mounted (``DirPlugin`` ``activate_storage``), an NFS
storage needs its export served to the node (``NFSPlugin``). So each storage's prerequisite
is checked first, and a failure names what is missing rather than pvesm's mount error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import attrs

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import FeatureFailed, HostContext
from phoenix_pve import etcpve

#: pve-storage src/PVE/Storage/Plugin.pm: cfs_register_file('storage.cfg', ...).
STORAGE_CFG = "/etc/pve/storage.cfg"
#: Options that identify where a storage is; pvesm refuses to change them (fixed).
FIXED = ("pool", "path", "server", "export")


@attrs.frozen
class WantedStorage:
    """A storage as ``pvesm add`` takes it: type, id, fixed options, content, other options."""

    id: str
    type: str
    fixed: tuple[tuple[str, str], ...]
    content: str
    extra: tuple[tuple[str, str], ...] = ()
    #: What must hold on the node before ``pvesm add`` can activate it: None when it holds,
    #: else why not (read-only queries).
    missing: Callable[[HostContext], str | None] | None = attrs.field(default=None, eq=False)

    def add_argv(self) -> list[str]:
        argv = ["pvesm", "add", self.type, self.id]
        for key, value in (*self.fixed, ("content", self.content), *self.extra):
            argv += [f"--{key}", value]
        return argv


def live_storages(ctx: HostContext) -> dict[str, dict[str, object]]:
    """The node's storages, from ``/etc/pve/storage.cfg`` (a file read, no Perl start-up);
    from ``pvesh get /storage`` when the file is missing or leaves a storage's content to
    its plugin's default."""
    text = ctx.files.read(STORAGE_CFG)
    parsed = etcpve.parse_storage_cfg(text) if text is not None else None
    if parsed is None:
        result = ctx.read_once(["pvesh", "get", "/storage", "--output-format", "json"]).check()
        parsed = json.loads(result.stdout or "[]")
    return {s["storage"]: s for s in parsed}


def _contents(text: object) -> set[str]:
    return {c for c in str(text or "").split(",") if c}


def storage_step(ctx: HostContext, name: str, wanted: Sequence[WantedStorage]) -> Step:
    def check() -> list[Change]:
        live = live_storages(ctx)
        changes = []
        for storage in wanted:
            have = live.get(storage.id)
            if have is None:
                shown = " ".join(f"{k}={v}" for k, v in storage.fixed)
                changes.append(
                    Change(
                        f"storage {storage.id}",
                        None,
                        f"{storage.type} {shown} content={storage.content}",
                        storage,
                    )
                )
                continue
            where = [(k, v) for k, v in storage.fixed if str(have.get(k, "")) != v]
            if have.get("type") != storage.type or where:
                shown = f"{have.get('type')} " + " ".join(
                    f"{k}={have.get(k)}" for k, _ in storage.fixed
                )
                raise FeatureFailed(
                    f"storage {storage.id} exists as {shown.strip()}, not as configured; "
                    "phoenix does not replace a storage (remove or rename it by hand)"
                )
            if _contents(have.get("content")) != _contents(storage.content):
                changes.append(
                    Change(
                        f"storage {storage.id} content",
                        have.get("content"),
                        storage.content,
                        storage,
                    )
                )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            storage: WantedStorage = change.data
            if change.before is None:
                why = storage.missing(ctx) if storage.missing else None
                if why is not None:
                    raise FeatureFailed(f"storage {storage.id} not added: {why}")
                ctx.change(storage.add_argv())
            else:
                ctx.change(["pvesm", "set", storage.id, "--content", storage.content])

    return Step(name, check, apply)


def unmounted(dataset: str, path: str) -> Callable[[HostContext], str | None]:
    """The dataset a ``dir`` storage with ``is_mountpoint`` sits on is mounted (``zfs get
    mounted``), as DirPlugin's activation demands."""

    def missing(ctx: HostContext) -> str | None:
        argv = ["zfs", "get", "-H", "-o", "value", "mounted", dataset]
        result = ctx.query(argv)
        if result.ok and result.stdout.strip() == "yes":
            return None
        shown = result.stdout.strip() or result.stderr.strip() or f"exit {result.returncode}"
        return f"dataset {dataset} is not mounted at {path} (`{' '.join(argv)}`: {shown})"

    return missing


def dataset_storages(ctx: HostContext) -> list[WantedStorage]:
    found = []
    for dataset in ctx.spec.zfs.datasets:
        if dataset.proxmox_storage_type == "zfspool":
            fixed = (("pool", dataset.full),)
        else:
            # The dataset's default mountpoint; is_mountpoint keeps Proxmox from writing into
            # the empty directory while the dataset is not mounted.
            fixed = (("path", f"/{dataset.full}"),)
        is_dir = dataset.proxmox_storage_type == "dir"
        found.append(
            WantedStorage(
                ctx.spec.storage_id(dataset),
                dataset.proxmox_storage_type,
                fixed,
                dataset.proxmox_content_type,
                (("is_mountpoint", "yes"),) if is_dir else (),
                unmounted(dataset.full, f"/{dataset.full}") if is_dir else None,
            )
        )
    return found


def steps(ctx: HostContext) -> list[Step]:
    wanted = dataset_storages(ctx)
    return [storage_step(ctx, "storage: datasets", wanted)] if wanted else []
