# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""Issue 4's acceptance checks, against the simulator seeded for the old configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxc_support import (  # noqa: F401 - fixtures
    ACCEPTANCE_IDS,
    NODE_READS,
    SEED,
    Cli,
    base_ct,
    cli,
    mutations,
    original,
    proxmox_tools,
    write_lxc,
)

pytestmark = pytest.mark.pve_sim(seed=str(SEED))


def test_converge_then_second_converge_runs_no_mutating_command(cli: Cli, original: Path) -> None:
    node = cli.node
    first = cli("--config-dir", str(original), "converge", *ACCEPTANCE_IDS)
    assert first.exit_code == 0, first.output
    assert "4 changed" in first.output
    # Copy-Base (start_at_boot: false) ran for its build only; the others are desired running.
    for ctid in ACCEPTANCE_IDS:
        wanted = "stopped" if ctid == "900" else "running"
        assert node.run(["pct", "status", ctid]).stdout == f"status: {wanted}\n"
    mark = node.mark()
    second = cli("--config-dir", str(original), "converge", *ACCEPTANCE_IDS)
    assert second.exit_code == 0, second.output
    entries = node.since(mark)
    assert mutations(entries) == []
    assert entries, "the second converge must still read the node"
    assert "4 in sync" in second.output
    # The node read once for all four: no Proxmox tool call per in-sync guest.
    assert sorted(proxmox_tools(entries)) == NODE_READS

    # A manual change is the one drift plan shows, and converge repairs it with one pct set.
    # (101 is configured with 4096 MiB, so the manual change sets another value.)
    node.run(["pct", "set", "101", "--memory", "2048"], check=True)
    mark = node.mark()
    plan = cli.json("--config-dir", str(original), "plan", "101")
    changes = [(o["id"], c) for o in plan["outcomes"] for c in o["changes"]]
    assert len(changes) == 1, changes
    ident, change = changes[0]
    assert ident == 101
    assert (change["what"], change["from"], change["to"]) == ("memory", "2048", "4096")
    assert mutations(node.since(mark)) == []
    mark = node.mark()
    repair = cli("--config-dir", str(original), "converge", "101")
    assert repair.exit_code == 0, repair.output
    assert mutations(node.since(mark)) == [["pct", "set", "101", "--memory", "4096"]]
    # The repair: the node reads and the change; a config change leaves the guest running,
    # so its status is not asked again.
    assert sorted(proxmox_tools(node.since(mark))) == sorted(
        [*NODE_READS, ["pct", "set", "101", "--memory", "4096"]]
    )


def test_dry_run_of_a_missing_guest_prints_the_plan_and_only_reads(
    cli: Cli, original: Path
) -> None:
    node = cli.node
    mark = node.mark()
    result = cli("--config-dir", str(original), "converge", "--dry-run", "103")
    assert result.exit_code == 0, result.output
    for expected in (
        "[exists] container: (none) -> create from fastData-shared-iso:vztmpl/ubuntu-24.04",
        "[exists] container: (none) -> clone of 900 (snapshot final-form)",
        "[options] memory: (none) -> 1024",
        "[raw lxc lines] lxc.apparmor.profile: (none) -> unconfined",
        "[mounts] mount /etc/step-ca/ssl",
        "[firewall] firewall rule #6",
        "[power] power: (none) -> running",
        "[features] feature step_ca: (none) -> run",
        "[application script] application script phoenix_hypervisor_lxc_103.sh",
        "[final snapshots] snapshot final-form: (none) -> taken",
    ):
        assert expected in result.output, expected
    entries = node.since(mark)
    assert entries and mutations(entries) == []
    assert node.run(["pct", "status", "900"]).returncode != 0


def test_create_911_without_vm_plugin_exits_2_naming_vm_1002(
    pve_node: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, original: Path
) -> None:
    # phoenix-vm is installed in the workspace: blocked here, as if it were not.
    monkeypatch.setenv("PHOENIX_DISABLE_PLUGINS", "vm")
    cli = Cli(pve_node, monkeypatch, tmp_path)
    node = cli.node
    mark = node.mark()
    result = cli("--config-dir", str(original), "create", "911")
    assert result.exit_code == 2, result.output
    assert "1002" in result.output and "phoenix-vm" in result.output
    assert "901" in result.output
    assert node.since(mark) == []


def test_lxc_only_chain_created_in_order_then_confirmed(cli: Cli, tmp_path: Path) -> None:
    node = cli.node
    configs = {
        "950": base_ct("chain-tpl", "10.0.9.50/24", "52:54:00:00:09:50", is_template=True),
        "951": {
            **base_ct("chain-clone", "10.0.9.51/24", "52:54:00:00:09:51"),
            "clone_from_ctid": "950",
            "template_snapshot_name": "golden",
        },
        "952": {
            **base_ct("chain-leaf", "10.0.9.52/24", "52:54:00:00:09:52"),
            "clone_from_ctid": "951",
        },
    }
    for ct in configs.values():
        if "clone_from_ctid" in ct:
            del ct["template"]
    etc = write_lxc(tmp_path / "chain", configs)
    result = cli("--config-dir", str(etc), "create", "952")
    assert result.exit_code == 0, result.output
    made = [argv[:4] for argv in mutations(node.journal()) if argv[1] in ("create", "clone")]
    assert made == [
        [
            "pct",
            "create",
            "950",
            "fastData-shared-iso:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        ],
        ["pct", "clone", "950", "951"],
        ["pct", "clone", "951", "952"],
    ]
    assert "template: 1" in node.run(["pct", "config", "950"]).stdout
    assert node.run(["pct", "status", "950"]).stdout == "status: stopped\n"
    clone_951 = next(
        a for a in mutations(node.journal()) if a[:2] == ["pct", "clone"] and a[3] == "951"
    )
    assert "--snapname" not in clone_951  # a template is cloned as it is
    clone_952 = next(
        a for a in mutations(node.journal()) if a[:2] == ["pct", "clone"] and a[3] == "952"
    )
    assert clone_952[clone_952.index("--snapname") + 1] == "golden"

    # Again: the built dependencies are left alone, the target's configuration is confirmed.
    mark = node.mark()
    again = cli.json("--config-dir", str(etc), "create", "952")
    assert [(o["id"], o["status"]) for o in again["outcomes"]] == [
        (950, "exists"),
        (951, "exists"),
        (952, "ok"),
    ]
    assert mutations(node.since(mark)) == []


def test_missing_feature_script_fails_at_plan_time_before_any_change(
    cli: Cli, original: Path
) -> None:
    node = cli.node
    assert cli("--config-dir", str(original), "converge", "900").exit_code == 0
    (original / "features" / "lxc" / "step_ca.sh").unlink()
    plan = cli("--config-dir", str(original), "plan", "103")
    assert plan.exit_code == 1
    assert "feature script 'step_ca' not found" in plan.output
    assert str(original / "features" / "lxc" / "step_ca.sh") in plan.output
    mark = node.mark()
    result = cli("--config-dir", str(original), "converge", "103")
    assert result.exit_code == 1
    assert "step_ca" in result.output
    assert mutations(node.since(mark)) == []
    assert node.run(["pct", "status", "103"]).returncode != 0


def test_cli_as_a_subprocess_status_and_plan(cli: Cli, original: Path) -> None:
    node = cli.node
    assert cli("--config-dir", str(original), "converge", "900").exit_code == 0
    proc = cli.subprocess("--config-dir", str(original), "status", "900", "103", "--output", "json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout[proc.stdout.index("{") :])
    rows = {str(r["id"]): r for r in document["targets"]}
    assert rows["900"]["exists"] is True and rows["900"]["status"] == "stopped"
    assert rows["103"]["exists"] is False
    mark = node.mark()
    proc = cli.subprocess("--config-dir", str(original), "plan", "900")
    assert proc.returncode == 0, proc.stderr
    assert mutations(node.since(mark)) == []


def test_clone_of_a_running_source_without_snapshot_is_explained(cli: Cli, tmp_path: Path) -> None:
    node = cli.node
    configs = {
        "955": base_ct("run-tpl", "10.0.9.55/24", "52:54:00:00:09:55", is_template=True),
        "956": {
            **base_ct("run-mid", "10.0.9.56/24", "52:54:00:00:09:56"),
            "clone_from_ctid": "955",
        },
        "957": {
            **base_ct("run-leaf", "10.0.9.57/24", "52:54:00:00:09:57"),
            "clone_from_ctid": "956",
        },
    }
    for ct in ("956", "957"):
        del configs[ct]["template"]
    etc = write_lxc(tmp_path / "running", configs)
    result = cli("--config-dir", str(etc), "create", "957")
    assert result.exit_code == 1
    assert (
        "CT 956 is running and is neither a template nor has a template_snapshot_name"
        in result.output
    )
    assert not any(a[:2] == ["pct", "clone"] and a[3] == "957" for a in mutations(node.journal()))
