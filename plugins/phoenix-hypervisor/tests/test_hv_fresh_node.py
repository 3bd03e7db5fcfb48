"""`phoenix setup` on a node as the installer leaves it, PVE 8 and PVE 9: apt works only once
both enterprise repositories (pve and Ceph) are disabled, with the release's Proxmox key;
sudo is installed before the admin user's sudoers rule is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hv_support import configure, mutating, phoenix, start

SOURCES = {
    8: {"pve-enterprise.list": "# deb https://enterprise.proxmox.com/debian/pve bookworm "
        "pve-enterprise\n",
        "ceph.list": "# deb https://enterprise.proxmox.com/debian/ceph-quincy bookworm enterprise\n"},
    9: {"pve-enterprise.sources": "Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\n"
        "Suites: trixie\nComponents: pve-enterprise\n"
        "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\nEnabled: false\n",
        "ceph.sources": "Types: deb\nURIs: https://enterprise.proxmox.com/debian/ceph-squid\n"
        "Suites: trixie\nComponents: enterprise\n"
        "Signed-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\nEnabled: false\n"},
}  # fmt: skip


@pytest.mark.parametrize("release", [8, 9], ids=["pve8", "pve9"])
def test_apt_and_sudo_on_a_fresh_node(tmp_path: Path, release: int) -> None:
    node = start(tmp_path, pve=release)
    try:
        etc = configure(tmp_path)
        assert node.run(["apt-get", "update"]).returncode == 100
        assert node.run(["dpkg-query", "-W", "sudo"]).returncode == 1
        result = phoenix(node, etc, "setup", "apt", "packages", "users")
        assert result.returncode == 0, result.stdout + result.stderr
        directory = node.dir / "etc" / "apt" / "sources.list.d"
        for name, text in SOURCES[release].items():
            assert (directory / name).read_text() == text
        assert node.run(["apt-get", "update"]).returncode == 0
        assert node.run(["dpkg-query", "-W", "sudo"]).returncode == 0
        sudoers = node.dir / "etc" / "sudoers.d" / "phoenix-phoenix_admin"
        assert node.run(["visudo", "-cf", str(sudoers)]).returncode == 0
        mark = node.mark()
        assert phoenix(node, etc, "setup", "apt", "packages", "users").returncode == 0
        assert mutating(node, mark) == []
    finally:
        node.stop()


def test_admin_check_names_missing_sudo(tmp_path: Path) -> None:
    """An admin account and its sudoers rule on a node without sudo: the check says so and
    names the feature that installs it (not a bare `visudo` exit 127)."""
    node = start(tmp_path)
    try:
        etc = configure(tmp_path)
        node.run(["useradd", "-m", "-s", "/bin/bash", "phoenix_admin"], check=True)
        sudoers = node.dir / "etc" / "sudoers.d" / "phoenix-phoenix_admin"
        sudoers.write_text("phoenix_admin ALL=(ALL:ALL) ALL\n")
        sudoers.chmod(0o440)
        result = phoenix(node, etc, "health-check", "host", "-o", "json")
        rows = {r["check"]: r for r in json.loads(result.stdout)["results"]}
        assert rows["admin user"]["result"] == "failed"
        assert rows["admin user"]["reason"] == (
            "sudo is not installed (Proxmox VE ships without it): "
            "`phoenix setup packages` installs it"
        )
    finally:
        node.stop()


def test_apparmor_loads_through_lxc_containers(tmp_path: Path) -> None:
    """lxc: "Do not load this file. Rather, load /etc/apparmor.d/lxc-containers"; the shipped
    profile parsed alone fails on @{PROC}, through lxc-containers it loads."""
    node = start(tmp_path)
    try:
        etc = configure(tmp_path)
        result = phoenix(node, etc, "setup", "apparmor")
        assert result.returncode == 0, result.stdout + result.stderr
        loads = [e["argv"] for e in node.journal() if e["argv"][0] == "apparmor_parser"]
        containers = str(node.dir / "etc" / "apparmor.d" / "lxc-containers")
        assert loads == [["apparmor_parser", "-r", "-W", "--", containers]]
        listing = node.dir / "sys" / "kernel" / "security" / "apparmor" / "profiles"
        assert "lxc-phoenix-v2 (enforce)\n" in listing.read_text()
        shipped = str(node.dir / "etc" / "apparmor.d" / "lxc" / "lxc-phoenix-v2")
        alone = node.run(["apparmor_parser", "-r", "-W", "--", shipped])
        assert "Found reference to variable PROC, but is never declared" in alone.stderr
    finally:
        node.stop()


def test_nfs_storage_needs_its_export_and_exports_check_reads_like_exportfs(
    tmp_path: Path,
) -> None:
    """pvesm add nfs mounts the export to add it: phoenix first checks the export is served
    to the node's own address and names it when not. The exports check compares clients the
    way exportfs -v prints them: `*` as <world>, a host name as its canonical name."""
    node = start(tmp_path)
    try:
        etc = configure(tmp_path)
        path = etc / "phoenix_hypervisor_config.json"
        data = json.loads(path.read_text())
        data["nfs"]["exports"][0]["clients"] = ["10.0.0.111"]
        path.write_text(json.dumps(data))
        features = ("apt", "packages", "hosts", "zfs", "nfs")
        refused = phoenix(node, etc, "setup", *features, "--allow-destructive")
        assert refused.returncode == 1
        assert (
            "storage nfs-vm-persistent-data not added: /quickOS/vm-persistent-data is not "
            "exported to 10.0.0.13, the storage's server (this node)" in refused.stdout
        )
        assert not [e for e in node.journal() if e["argv"][:3] == ["pvesm", "add", "nfs"]]
        data["nfs"]["exports"][0]["clients"] = ["*", "pve1"]
        path.write_text(json.dumps(data))
        result = phoenix(node, etc, "setup", *features)
        assert result.returncode == 0, result.stdout + result.stderr
        listed = node.run(["exportfs", "-v"]).stdout
        assert "<world>(" in listed and "pve1.example.invalid(" in listed
        checked = phoenix(node, etc, "health-check", "host", "-o", "json")
        rows = {r["check"]: r for r in json.loads(checked.stdout)["results"]}
        assert rows["nfs exports"]["result"] == "passed", rows["nfs exports"]
    finally:
        node.stop()


def test_arc_limit_checked_against_memory_and_read_back(tmp_path: Path) -> None:
    """ZFS ignores a zfs_arc_max outside (arc_c_min, memory) (OpenZFS arc_tuning_update):
    setup refuses such a limit before writing anything, and reads the one ZFS uses back from
    arcstats c_max."""
    node = start(tmp_path, host={"memory": 128 * 1024**3})
    try:
        etc = configure(tmp_path)
        path = etc / "phoenix_hypervisor_config.json"
        data = json.loads(path.read_text())
        data["zfs"]["arc_max_gb"] = 200
        path.write_text(json.dumps(data))
        refused = phoenix(node, etc, "setup", "zfs", "--allow-destructive")
        assert refused.returncode == 1
        assert (
            "zfs.arc_max_gb 200 is outside what ZFS takes on this node (128.0 GiB of memory): "
            "the limit must be above 4.0 GiB and below the node's memory" in refused.stdout
        )
        assert not [e for e in node.journal() if e["argv"][0] in ("tee", "update-initramfs")]
        data["zfs"]["arc_max_gb"] = 100
        path.write_text(json.dumps(data))
        result = phoenix(node, etc, "setup", "zfs", "--allow-destructive")
        assert result.returncode == 0, result.stdout + result.stderr
        stats = (node.dir / "proc" / "spl" / "kstat" / "zfs" / "arcstats").read_text()
        assert f"c_max                           4    {100 * 1024**3}\n" in stats
        mark = node.mark()
        assert phoenix(node, etc, "setup", "zfs").returncode == 0
        assert mutating(node, mark) == []
    finally:
        node.stop()
