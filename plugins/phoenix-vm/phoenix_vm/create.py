"""The ``exists`` step: a template VM from a cloud image, or a clone of another VM; then the
vendor data it boots with and the boot disk grown to ``disk_size_gb`` (never shrunk).

A template VM is created in one ``qm create``: the disk imported from the image on the node
(``import-from``), a SCSI controller, a serial console, the guest agent, a cloud-init drive,
the boot order and every managed option, so the later steps find nothing left to do. A clone
is full by default (``linked_clone`` for a linked one, which Proxmox makes only from a
template and only on the source's storage).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from phoenix_core.config.models import Config
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import node_path
from phoenix_core.logs import logger
from phoenix_core.manager import Holding, Resource
from phoenix_core.steps import Change, Step
from phoenix_pve.live import Live
from phoenix_pve.options import option_args
from phoenix_pve.parse import format_props, parse_props, size_bytes
from phoenix_pve.storages import NodeStorages
from phoenix_vm import cloudinit, image, options, storages
from phoenix_vm.model import VmSpec

#: The boot disk phoenix creates and grows.
BOOT_DISK = "scsi0"
GIB = 1 << 30


@attrs.frozen
class Download:
    placed: image.Placement


@attrs.frozen
class Create:
    placed: image.Placement


@attrs.frozen
class Clone:
    source_id: int


def _pool(spec: VmSpec, vmid: int) -> str:
    if spec.storage_pool is None:
        raise PhoenixError(f"VM {vmid}: storage_pool is not set (needed to create its disks)")
    return spec.storage_pool


def create_argv(spec: VmSpec, vmid: int, placed: image.Placement, vendor: str) -> list[str]:
    """``qm create`` with the imported disk and every option and cloud-init key (the vendor
    data on storage ``vendor``)."""
    pool = _pool(spec, vmid)
    argv = [
        "qm", "create", str(vmid),
        "--ostype", "l26",
        "--scsihw", "virtio-scsi-pci",
        "--scsi0", f"{pool}:0,import-from={placed.source},discard=on",
        "--ide2", f"{pool}:cloudinit",
        "--serial0", "socket",
        "--vga", "serial0",
        "--boot", f"order={BOOT_DISK}",
    ]  # fmt: skip
    want = {**options.desired(spec), **cloudinit.desired(spec, vendor)}
    net = options.net0(spec)
    if "virtio" not in net:
        want["net0"] = "virtio," + format_props(net, options.NET_ORDER)
    for key, value in want.items():
        if value:
            argv += option_args(key, value)
    return argv


def clone_argv(spec: VmSpec, vmid: int, source_id: int, source_is_template: bool) -> list[str]:
    argv = ["qm", "clone", str(source_id), str(vmid), "--name", spec.name]
    if spec.linked_clone:
        if not source_is_template:
            raise PhoenixError(
                f"VM {vmid}: a linked clone needs a template source, and VM {source_id} is not one"
            )
        return [*argv, "--full", "0"]
    argv += ["--full", "1"]
    if spec.storage_pool is not None:
        argv += ["--storage", spec.storage_pool]
    return argv


def write_vendor_data(live: Live, spec: VmSpec) -> str:
    """The vendor snippet every VM boots with (installs the guest agent), rewritten only when
    its content differs; returns the storage it is on."""
    chosen = spec.snippets_storage or cloudinit.current_vendor_storage(live)
    storage, folder = storages.snippets_home(live, chosen)
    path = f"{folder}/{cloudinit.VENDOR_FILE}"
    data = cloudinit.VENDOR_DATA.encode()
    try:
        if live.host.read_file(path) == data:
            return storage
    except FileNotFoundError:
        pass
    live.host.change(["mkdir", "-p", "--", node_path(live.host, folder)]).check()
    live.host.write_file(path, data, mode=0o644)
    return storage


def brief_resources(spec: VmSpec, config: Config) -> set[Resource]:
    """What creating the VM holds for one command: its clone source (Proxmox locks it for the
    copy), or the image's storage (a download) and the pool's (the disk import)."""
    if spec.clone_from_vmid is not None:
        return {Resource.guest(spec.clone_from_vmid, brief=True)}
    if spec.template_image is None:
        return set()
    held = {Resource.storage(spec.node, image.of(spec, config).storage, brief=True)}
    if spec.storage_pool is not None:
        held.add(Resource.storage(spec.node, spec.storage_pool, brief=True))
    return held


def step(
    spec: VmSpec,
    live: Live,
    config: Config,
    holding: Holding,
    storages: NodeStorages,
) -> Step:
    """Create or clone the VM when it does not exist. ``holding`` is the run's
    :meth:`~phoenix_core.manager.RunContext.holding`, around each command of
    :func:`brief_resources`; ``storages`` the run's record of the node's storages
    (:func:`phoenix_pve.storages.of`), where a download is recorded for the next VM."""

    def check() -> list[Change]:
        if live.exists:
            return []
        if spec.clone_from_vmid is not None:
            return [
                Change(
                    "virtual machine",
                    None,
                    f"{'linked' if spec.linked_clone else 'full'} clone of {spec.clone_from_vmid}",
                    data=Clone(int(spec.clone_from_vmid)),
                )
            ]
        if spec.template_image is None:
            raise PhoenixError(
                f"VM {live.vmid} does not exist and its entry names no template_image or "
                "clone_from_vmid to create it from"
            )
        placed = image.place(live, image.of(spec, config))
        changes = []
        if not image.present(storages, placed):
            checked = " (checksum verified)" if placed.image.checksum else ""
            what = f"download {placed.volid}{checked}"
            changes.append(Change("image", None, what, data=Download(placed)))
        changes.append(
            Change("virtual machine", None, f"create from {placed.volid}", data=Create(placed))
        )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        vendor = write_vendor_data(live, spec)
        for change in changes:
            match change.data:
                case Download(placed):
                    # Held while checked again: VMs checked side by side may all have
                    # planned this download; the first one makes it.
                    with holding(Resource.storage(spec.node, placed.image.storage)):
                        image.download(live, storages, placed)
                case Create(placed):
                    with holding(Resource.storage(spec.node, _pool(spec, live.vmid))):
                        argv = create_argv(spec, live.vmid, placed, vendor)
                        live.change(argv, timeout=3600)
                case Clone(source_id):
                    source_live = live.sibling(source_id)
                    if not source_live.exists:
                        raise PhoenixError(
                            f"VM {live.vmid}: clone source VM {source_id} does not exist"
                        )
                    argv = clone_argv(spec, live.vmid, source_id, source_live.is_template)
                    with holding(Resource.guest(source_id)):
                        live.change(argv, timeout=3600)

    return Step("exists", check, apply)


def disk_step(spec: VmSpec, live: Live) -> Step:
    """Grow the boot disk to ``disk_size_gb``; a larger disk is left as it is (with a warning)."""

    def check() -> list[Change]:
        if spec.disk_size_gb is None:
            return []
        value = live.config().get(BOOT_DISK)
        if not live.exists:
            return [Change("disk scsi0", None, f"{spec.disk_size_gb}G")]
        if value is None:
            raise PhoenixError(f"{live.name} has no {BOOT_DISK} disk to size")
        have = _boot_disk_bytes(live)
        want = spec.disk_size_gb * GIB
        if have >= want:
            if have > want:
                logger.warning(
                    "{}: {} is {} GiB, larger than disk_size_gb {}; disks are never shrunk",
                    live.name, BOOT_DISK, round(have / GIB, 1), spec.disk_size_gb,
                )  # fmt: skip
            return []
        return [Change("disk scsi0", f"{round(have / GIB, 1):g}G", f"{spec.disk_size_gb}G")]

    def apply(_: Sequence[Change]) -> None:
        size = spec.disk_size_gb
        assert size is not None
        result = live.change(["qm", "disk", "resize", str(live.vmid), BOOT_DISK, f"{size}G"])
        # qemu-server: the resize runs in a task and `qm disk resize` has no $upid_exit
        # (src/PVE/CLI/qm.pm), so a failed resize exits 0 too: the config tells.
        have = _boot_disk_bytes(live)
        if have < size * GIB:
            detail = (result.stderr.strip() or "no error printed").splitlines()[-1]
            raise PhoenixError(
                f"{live.name}: `{result.command}` left {BOOT_DISK} at "
                f"{round(have / GIB, 1):g}G: {detail}"
            )

    return Step("disk", check, apply)


def _boot_disk_bytes(live: Live) -> int:
    """The boot disk's ``size=`` in bytes (0 when the config has none)."""
    value = live.config().get(BOOT_DISK) or ""
    return size_bytes(parse_props(value, "volume").get("size", "0")) or 0
