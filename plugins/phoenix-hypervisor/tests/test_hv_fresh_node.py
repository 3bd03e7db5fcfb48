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
        etc = configure(tmp_path, node)
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
        etc = configure(tmp_path, node)
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
        etc = configure(tmp_path, node)
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
