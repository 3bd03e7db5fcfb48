"""``vfio``: the PCI devices ``vfio.pci_ids`` names, bound to vfio-pci for VM passthrough.

The IOMMU flag follows the CPU vendor read from the node (``/proc/cpuinfo``): Intel needs
``intel_iommu=on``, AMD enables its IOMMU by itself; both get ``iommu=pt``. The flags go in a
phoenix-owned GRUB drop-in (``/etc/default/grub.d/phoenix-iommu.cfg``) and ``update-grub``;
on a node that boots through systemd-boot (``/etc/kernel/cmdline``, a one-line file phoenix
does not own) the feature stops and says what to add. vfio-pci is told the ids and loads
before nvidia (``softdep``), so it claims only those devices: nothing is blacklisted (the old
tool blacklisted nvidia, which breaks container GPU passthrough). A reboot applies it all.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import FeatureFailed, HostContext
from phoenix_hypervisor.hostfs import HEADER

GRUB_DROPIN = "/etc/default/grub.d/phoenix-iommu.cfg"
SYSTEMD_BOOT = "/etc/kernel/cmdline"
MODULES = "/etc/modules-load.d/phoenix-vfio.conf"
MODPROBE = "/etc/modprobe.d/phoenix-vfio.conf"


def iommu_flags(ctx: HostContext) -> list[str]:
    cpuinfo = ctx.files.read("/proc/cpuinfo") or ""
    vendor = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("vendor_id")
        ),
        "",
    )
    if vendor not in ("GenuineIntel", "AuthenticAMD"):
        raise FeatureFailed(f"unknown CPU vendor {vendor or '(none)'} in /proc/cpuinfo")
    return ["intel_iommu=on", "iommu=pt"] if vendor == "GenuineIntel" else ["iommu=pt"]


def cmdline_step(ctx: HostContext) -> Step:
    def check() -> list[Change]:
        flags = iommu_flags(ctx)
        running = (ctx.files.read("/proc/cmdline") or "").split()
        wanted = (
            f'{HEADER}GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT {" ".join(flags)}"\n'
        )
        have = ctx.files.read(GRUB_DROPIN)
        if all(flag in running for flag in flags) and have in (None, wanted):
            return []
        if have == wanted:
            ctx.reboot["vfio"] = f"kernel command line {' '.join(flags)} applies at the next boot"
            return []
        if ctx.files.read(SYSTEMD_BOOT) is not None:
            raise FeatureFailed(
                f"this node boots with systemd-boot: add {' '.join(flags)} to {SYSTEMD_BOOT} "
                "and run proxmox-boot-tool refresh (phoenix does not edit that file)"
            )
        return [
            Change(GRUB_DROPIN, "missing" if have is None else "differs", " ".join(flags), wanted)
        ]

    def apply(changes: Sequence[Change]) -> None:
        ctx.ensure_dir("/etc/default/grub.d")
        ctx.files.write(GRUB_DROPIN, changes[0].data)
        ctx.change(["update-grub"])
        ctx.reboot["vfio"] = "kernel command line changed; it applies at the next boot"

    return Step("vfio: IOMMU", check, apply)


def modules_step(ctx: HostContext) -> Step:
    ids = ",".join(ctx.spec.vfio.pci_ids)
    files = {
        MODULES: f"{HEADER}vfio\nvfio_iommu_type1\nvfio_pci\n",
        MODPROBE: f"{HEADER}options vfio-pci ids={ids}\nsoftdep nvidia pre: vfio-pci\n",
    }

    def check() -> list[Change]:
        changes = []
        for path, text in files.items():
            have = ctx.files.read(path)
            if have != text:
                changes.append(
                    Change(path, "missing" if have is None else "differs", ids, (path, text))
                )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            path, text = change.data
            ctx.files.write(path, text)
        ctx.change(["update-initramfs", "-u"])
        ctx.reboot["vfio"] = f"vfio-pci takes {ids} at the next boot"

    return Step("vfio: modules", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    return [cmdline_step(ctx), modules_step(ctx)] if ctx.spec.vfio.pci_ids else []
