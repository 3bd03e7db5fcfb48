"""The ``vfio`` feature on the simulator: the IOMMU flag for the node's CPU vendor, vfio-pci
for the configured ids only (nothing blacklisted), reboot required, systemd-boot left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hv_support import configure, mutating, phoenix, start

from pve_sim.fixture import SimNode


def with_vfio(tmp_path: Path, node: SimNode, ids: list[str]) -> Path:
    etc = configure(tmp_path)
    path = etc / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["vfio"] = {"pci_ids": ids}
    path.write_text(json.dumps(data))
    return etc


@pytest.mark.parametrize(
    ("vendor", "flags"),
    [("GenuineIntel", "intel_iommu=on iommu=pt"), ("AuthenticAMD", "iommu=pt")],
)
def test_vfio_for_the_cpu_vendor_then_reboot(tmp_path: Path, vendor: str, flags: str) -> None:
    node = start(tmp_path, {"cpu_vendor": vendor})
    try:
        etc = with_vfio(tmp_path, node, ["10de:1e84", "10de:10f8"])
        result = phoenix(node, etc, "setup", "vfio")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "reboot required (vfio:" in result.stderr
        dropin = (node.dir / "etc/default/grub.d/phoenix-iommu.cfg").read_text()
        assert f'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT {flags}"' in dropin
        modprobe = (node.dir / "etc/modprobe.d/phoenix-vfio.conf").read_text()
        assert "options vfio-pci ids=10de:1e84,10de:10f8\n" in modprobe
        written = [p.read_text() for p in (node.dir / "etc").rglob("*") if p.is_file()]
        assert not any("blacklist nvidia" in text.splitlines() for text in written)
        assert [a[0] for a in mutating(node, 0)] == ["update-grub", "update-initramfs"]
        mark = node.mark()
        again = phoenix(node, etc, "setup", "vfio")
        assert mutating(node, mark) == [] and "reboot required (vfio:" in again.stderr
        node._ctl(op="reboot")
        assert "reboot required" not in phoenix(node, etc, "setup", "vfio").stderr
    finally:
        node.stop()


def test_systemd_boot_node_is_told_what_to_add(tmp_path: Path) -> None:
    node = start(tmp_path)
    try:
        (node.dir / "etc" / "kernel").mkdir(parents=True)
        (node.dir / "etc" / "kernel" / "cmdline").write_text("root=ZFS=rpool/ROOT/pve-1 boot=zfs\n")
        etc = with_vfio(tmp_path, node, ["10de:1e84"])
        result = phoenix(node, etc, "setup", "vfio")
        assert result.returncode == 1
        assert "add intel_iommu=on iommu=pt to /etc/kernel/cmdline" in result.stdout
        assert (
            node.dir / "etc/kernel/cmdline"
        ).read_text() == "root=ZFS=rpool/ROOT/pve-1 boot=zfs\n"
        assert mutating(node, 0) == []
    finally:
        node.stop()


def test_bad_pci_id_is_a_configuration_error(tmp_path: Path) -> None:
    node = start(tmp_path)
    try:
        etc = with_vfio(tmp_path, node, ["10de:1e84", "--all"])
        result = phoenix(node, etc, "setup", "--dry-run")
        assert result.returncode == 2
        assert "vfio.pci_ids[1]" in result.stderr
    finally:
        node.stop()
