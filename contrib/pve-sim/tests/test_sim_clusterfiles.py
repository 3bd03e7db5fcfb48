"""The node-wide files of /etc/pve as pmxcfs presents them (clusterfiles.py)."""

from __future__ import annotations

import json

from pve_sim import clusterfiles
from pve_sim.fixture import SimNode

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


def test_vmlist_is_cfs_create_vmlist_msg_text() -> None:
    # status.c cfs_create_vmlist_msg: no comma after the last entry, "}" right after it,
    # then a blank line and the closing brace.
    ids = {101: ("pve1", "lxc", 3), 100: ("pve1", "qemu", 1)}
    assert clusterfiles.vmlist_text(7, ids) == (
        '{\n"version": 7,\n"ids": {\n'
        '"100": { "node": "pve1", "type": "qemu", "version": 1 },\n'
        '"101": { "node": "pve1", "type": "lxc", "version": 3 }}\n\n}\n'
    )
    assert clusterfiles.vmlist_text(1, {}) == '{\n"version": 1\n\n}\n'
    assert clusterfiles.members_text("pve1", 2) == '{\n"nodename": "pve1",\n"version": 2\n}\n'


def test_the_files_follow_creates_destroys_and_storages(pve_node: SimNode) -> None:
    etc = pve_node.pve_etc
    assert (etc / ".vmlist").stat().st_mode & 0o777 == 0o440
    before = json.loads((etc / ".vmlist").read_text())
    create = ["pct", "create", "300", TEMPLATE, "--rootfs", "local-lvm:4"]
    assert pve_node.run(create).returncode == 0
    after = json.loads((etc / ".vmlist").read_text())
    assert after["ids"]["300"]["type"] == "lxc" and after["version"] == before["version"] + 1
    assert pve_node.run(["pct", "destroy", "300"]).returncode == 0
    assert "300" not in json.loads((etc / ".vmlist").read_text()).get("ids", {})
    add = ["pvesm", "add", "dir", "extra", "--path", "/srv/extra", "--content", "iso"]
    assert pve_node.run(add).returncode == 0
    assert (
        (etc / "storage.cfg")
        .read_text()
        .endswith("dir: extra\n\tpath /srv/extra\n\tcontent iso\n\n")
    )
    assert json.loads((etc / ".members").read_text())["nodename"] == pve_node.node
