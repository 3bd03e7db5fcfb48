# ruff: noqa: F811 - pytest fixtures imported from vm_support are used as arguments
"""A VM made by hand with ``qm create``: ``status --all`` lists it, ``import --write`` appends
its entry to the VM file's list (the other entries untouched) with ``cloud_init: false``, and
``plan --detailed-exitcode`` of it then exits 0; a clone of phoenix's template made by hand
keeps its cloud-init keys."""

from __future__ import annotations

import json
from pathlib import Path

from vm_support import Cli, cli, mutations, original, vm_node  # noqa: F401


def _plan_is_empty(cli: Cli, etc: Path, vmid: str) -> None:
    plan = cli.subprocess("--config-dir", str(etc), "plan", vmid, "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_a_vm_made_by_hand_is_imported(cli: Cli, original: Path) -> None:
    argv = [
        "qm", "create", "7100", "--name", "hand-made", "--cores", "2", "--memory", "2048",
        "--net0", "virtio,bridge=vmbr0,tag=20", "--agent", "1", "--onboot", "1",
        "--scsi0", "quickOS-vm-disks:4", "--tags", "lab", "--protection", "1",
    ]  # fmt: skip
    cli.node.run(argv, check=True)
    cli.node.run(["qm", "start", "7100"], check=True)
    listed = cli.subprocess("--config-dir", str(original), "status", "--all", "-o", "json")
    rows = {row["id"]: row for row in json.loads(listed.stdout)["targets"]}
    assert rows[7100]["managed"] is False and rows[7100]["kind"] == "vm"

    vm_file = original / "phoenix_vm_configs.json"
    before = json.loads(vm_file.read_text())
    written = cli.subprocess("--config-dir", str(original), "import", "7100", "--write")
    assert written.returncode == 0, written.stderr
    after = json.loads(vm_file.read_text())
    assert after["vms"][:-1] == before["vms"] and after["vm_defaults"] == before["vm_defaults"]
    entry = after["vms"][-1]
    assert entry["vmid"] == 7100 and entry["cloud_init"] is False
    assert entry["network_config"]["vlan_tag"] == 20 and entry["tags"] == ["lab"]
    _plan_is_empty(cli, original, "7100")


def test_a_clone_of_phoenix_template_is_imported_with_its_cloud_init(
    cli: Cli, original: Path
) -> None:
    built = cli("--config-dir", str(original), "converge", "9000")
    assert built.exit_code == 0, built.output
    cli.node.run(["qm", "clone", "9000", "7200", "--name", "ci-copy", "--full", "1"], check=True)
    cli.node.run(["qm", "start", "7200"], check=True)
    vm_file = original / "phoenix_vm_configs.json"
    written = cli.subprocess("--config-dir", str(original), "import", "7200", "--write")
    assert written.returncode == 0, written.stderr
    entry = json.loads(vm_file.read_text())["vms"][-1]
    assert "cloud_init" not in entry and entry["user_config"]["username"]
    _plan_is_empty(cli, original, "7200")
