"""pvesm, pvesh, pveam, pveversion (pve-cli.md §2.4) and the owner lifecycle."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from pve_sim import cli, daemon
from pve_sim.fixture import SimNode


def test_pvesm_status_table(node: SimNode) -> None:
    lines = node.run(["pvesm", "status"]).stdout.splitlines()
    # %-<L>s %10s %10s %15s %15s %15s %8s with L = longest id + 1; the PVE 8 header (the
    # units came in PVE 9: test_sim_strict.py test_pve9_profile).
    assert lines[0] == (
        f"{'Name':<10} {'Type':>10} {'Status':>10} {'Total':>15} "
        f"{'Used':>15} {'Available':>15} {'%':>8}"
    )
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["local", "local-lvm"]
    row = lines[2].split()
    assert row[1:3] == ["lvmthin", "active"]
    assert all(field.isdigit() for field in row[3:6])
    assert re.fullmatch(r"\d+\.\d\d%", row[6])
    filtered = node.run(["pvesm", "status", "--content", "rootdir"]).stdout.splitlines()
    assert [line.split()[0] for line in filtered[1:]] == ["local-lvm"]


def test_pvesm_alloc_path_list_free(node: SimNode) -> None:
    proc = node.run(["pvesm", "alloc", "local-lvm", "500", "vm-500-disk-0", "1G"])
    assert proc.stdout == "successfully created 'local-lvm:vm-500-disk-0'\n"
    assert node.run(["pvesm", "path", "local-lvm:vm-500-disk-0"]).stdout == (
        "/dev/pve/vm-500-disk-0\n"
    )
    bad = node.run(["pvesm", "alloc", "local-lvm", "500", "bad-name", "1G"])
    assert (bad.returncode, bad.stderr) == (255, "illegal name 'bad-name' - should be 'vm-500-*'\n")
    listing = node.run(["pvesm", "list", "local", "--content", "vztmpl"]).stdout.splitlines()
    assert listing[0].split() == ["Volid", "Format", "Type", "Size", "VMID"]
    assert listing[1].split() == [
        "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
        "tzst",
        "vztmpl",
        "134217728",
    ]
    assert node.run(["pvesm", "free", "local-lvm:vm-500-disk-0"]).returncode == 0


def test_pvesh_json_and_errors(node: SimNode) -> None:
    proc = node.run(["pvesh", "get", "/nodes/localhost/storage", "--output-format", "json"])
    assert proc.returncode == 0
    assert {s["storage"] for s in json.loads(proc.stdout)} == {"local", "local-lvm"}
    nextid = node.run(["pvesh", "get", "/cluster/nextid", "--output-format", "json"])
    assert json.loads(nextid.stdout).isdigit()
    missing = node.run(["pvesh", "get", "/nodes/pve1/lxc/999/status/current"])
    assert missing.returncode == 255
    assert "does not exist" in missing.stderr


def test_pveversion_and_pveam(node: SimNode) -> None:
    assert node.run(["pveversion"]).stdout == (
        "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\n"
    )
    verbose = node.run(["pveversion", "-v"]).stdout.splitlines()
    assert verbose[0].startswith("proxmox-ve: ")
    available = node.run(["pveam", "available"]).stdout
    assert "system          debian-13-standard_13.1-2_amd64.tar.zst\n" in available
    name = "debian-13-standard_13.1-2_amd64.tar.zst"
    assert node.run(["pveam", "download", "local", name]).returncode == 0
    assert f"local:vztmpl/{name}" in node.run(["pveam", "list", "local"]).stdout


def test_cli_up_status_down_idempotent(tmp_path, capsys) -> None:
    sim_dir = tmp_path / "n"
    assert cli.main(["up", "--dir", str(sim_dir), "--node", "pve7"]) == 0
    assert capsys.readouterr().out == f"export PATH={sim_dir / 'bin'}:$PATH\n"
    assert cli.main(["status", "--dir", str(sim_dir)]) == 0
    sim = SimNode(sim_dir, daemon.status(sim_dir))
    assert sim.run(["pct", "status", "999"]).stderr == (
        "Configuration file 'nodes/pve7/lxc/999.conf' does not exist\n"
    )
    assert cli.main(["fault", "--dir", str(sim_dir), "--fail-nth", "1", "--message", "nope"]) == 0
    assert sim.run(["pvesm", "alloc", "local-lvm", "500", "vm-500-disk-0", "1G"]).stderr == "nope\n"
    assert cli.main(["down", "--dir", str(sim_dir)]) == 0
    assert cli.main(["down", "--dir", str(sim_dir)]) == 0
    assert cli.main(["status", "--dir", str(sim_dir)]) == 3
    dead = sim.run(["pct", "list"])
    assert dead.returncode == 255 and "not running" in dead.stderr


def test_journal_lines_are_whole_under_concurrency(node: SimNode) -> None:
    mark = node.mark()
    procs = [
        subprocess.Popen(["pct", "list"], env=node.env, stdout=subprocess.DEVNULL) for _ in range(8)
    ]
    for proc in procs:
        proc.wait()
    entries = node.since(mark)
    assert len(entries) == 8 and all(e["argv"] == ["pct", "list"] for e in entries)


ORIGINAL_SEED = Path(__file__).parent.parent / "seeds" / "original-etc.json"


@pytest.mark.pve_sim(seed=ORIGINAL_SEED)
def test_original_etc_seed(pve_node: SimNode) -> None:
    names = [line.split()[0] for line in pve_node.run(["pvesm", "status"]).stdout.splitlines()[1:]]
    for sid in (
        "quickOS-lxc-disks",
        "quickOS-vm-disks",
        "fastData-shared-iso",
        "fastData-shared-bulk-data",
        "fastData-shared-backups",
        "quickOS-lxc-persistent-data",
        "local",
        "local-lvm",
    ):
        assert sid in names
    template = "fastData-shared-iso:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
    proc = pve_node.run(
        [
            "pct",
            "create",
            "900",
            template,
            "--rootfs",
            "quickOS-lxc-disks:32",
            "--mp0",
            "fastData-shared-bulk-data:10,mp=/models",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        "extracting archive '/fastData/shared-iso/template/cache/"
        "ubuntu-24.04-standard_24.04-2_amd64.tar.zst'\n"
    )
    assert (
        "rootfs: quickOS-lxc-disks:subvol-900-disk-0,size=32G"
        in pve_node.run(["pct", "config", "900"]).stdout
    )
    isos = pve_node.run(["pvesm", "list", "fastData-shared-iso", "--content", "iso"]).stdout
    assert "fastData-shared-iso:iso/noble-server-cloudimg-amd64.img" in isos
