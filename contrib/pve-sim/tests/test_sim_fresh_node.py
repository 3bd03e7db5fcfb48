"""The bare seed is a Proxmox VE node as the installer leaves it, for PVE 8 and PVE 9: the
storages pve-installer writes, the pve and Ceph enterprise repositories that fail
`apt-get update` without a subscription, chrony and no sudo, no snippets anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pve_sim.fixture import SimNode

BARE = Path(__file__).resolve().parents[1] / "seeds" / "hypervisor-bare.json"
#: pve-installer Proxmox/Install/StorageConfig.pm get_lvm_thin_config: 8.4.6 (faebafd) and
#: master after ec1d5ee ("enable import content type by default").
LOCAL = {8: "iso,vztmpl,backup", 9: "iso,vztmpl,backup,import"}
ENTERPRISE = {
    8: ("pve-enterprise.list", "ceph.list"),
    9: ("pve-enterprise.sources", "ceph.sources"),
}


@pytest.fixture(scope="module", params=[8, 9], ids=["pve8", "pve9"])
def fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    node = SimNode.start(tmp_path_factory.mktemp(f"pve{request.param}"), seed=BARE,
                         pve=request.param)  # fmt: skip
    yield request.param, node
    node.stop()


def test_storages_are_the_installers(fresh: tuple[int, SimNode]) -> None:
    release, node = fresh
    listed = json.loads(node.run(["pvesh", "get", "/storage", "--output-format", "json"]).stdout)
    content = {s["storage"]: set(s["content"].split(",")) for s in listed}
    assert content == {"local": set(LOCAL[release].split(",")), "local-lvm": {"images", "rootdir"}}
    assert not any("snippets" in c for c in content.values())
    assert node.run(["pveam", "list", "local"]).stdout.count(".tar.") == 0


def test_enterprise_repositories_fail_apt_update(fresh: tuple[int, SimNode]) -> None:
    """Both enterprise entries answer 401: apt-get update exits 100 naming each."""
    release, node = fresh
    directory = node.dir / "etc" / "apt" / "sources.list.d"
    for name in ENTERPRISE[release]:
        assert "https://enterprise.proxmox.com/debian/" in (directory / name).read_text()
    update = node.run(["apt-get", "update"])
    assert update.returncode == 100
    suite = {8: "bookworm", 9: "trixie"}[release]
    ceph = {8: "ceph-quincy", 9: "ceph-squid"}[release]
    for repo in ("pve", ceph):
        line = f"E: Failed to fetch https://enterprise.proxmox.com/debian/{repo} {suite} InRelease"
        assert f"{line}  401  Unauthorized\n" in update.stderr


def test_keyring_of_each_release_and_a_source_without_it(fresh: tuple[int, SimNode]) -> None:
    """PVE 8 keeps the Proxmox key in trusted.gpg.d only: a deb822 source signed by
    /usr/share/keyrings/proxmox-archive-keyring.gpg fails there with NO_PUBKEY."""
    release, node = fresh
    key = {8: "etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg",
           9: "usr/share/keyrings/proxmox-archive-keyring.gpg"}[release]  # fmt: skip
    assert (node.dir / key).exists()
    directory = node.dir / "etc" / "apt" / "sources.list.d"
    for name in ENTERPRISE[release]:  # apt skips a `.disabled` file
        (directory / name).rename(directory / f"{name}.disabled")
    assert node.run(["apt-get", "update"]).returncode == 0
    suite = {8: "bookworm", 9: "trixie"}[release]
    source = directory / "x.sources"
    text = (f"Types: deb\nURIs: http://download.proxmox.com/debian/pve\nSuites: {suite}\n"
            "Components: pve-no-subscription\nSigned-By: /{}\n")  # fmt: skip
    source.write_text(text.format("usr/share/keyrings/proxmox-archive-keyring.gpg"))
    update = node.run(["apt-get", "update"])
    assert update.returncode == (100 if release == 8 else 0)
    assert ("NO_PUBKEY" in update.stdout) == (release == 8)
    source.write_text(text.format(key))
    assert node.run(["apt-get", "update"]).returncode == 0
    source.unlink()
    for name in ENTERPRISE[release]:
        (directory / f"{name}.disabled").rename(directory / name)


def test_no_sudo_chrony_running(fresh: tuple[int, SimNode]) -> None:
    _, node = fresh
    fmt = "-f=${Package}\t${db:Status-Abbrev}\n"
    query = node.run(["dpkg-query", "-W", fmt, "sudo", "chrony"])
    assert query.stdout == "chrony\tii \n"
    assert query.stderr == "dpkg-query: no packages found matching sudo\n"
    assert node.run(["systemctl", "is-active", "chrony"]).stdout == "active\n"
    assert node.run(["visudo", "-c"]).returncode == 127
