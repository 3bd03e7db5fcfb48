# ruff: noqa: F811 - pytest fixtures imported from vm_support are used as arguments
"""Issue 11's acceptance checks, against the simulator seeded for the old configuration."""

from __future__ import annotations

from pathlib import Path

from vm_support import (  # noqa: F401 - fixtures
    VM_IDS,
    Cli,
    cli,
    guest_runs,
    mutations,
    original,
    vm_node,
)

from pve_sim import conformance


def test_converge_vms_then_second_converge_runs_no_mutating_command(
    cli: Cli, original: Path
) -> None:
    node = cli.node
    first = cli("--config-dir", str(original), "converge", *VM_IDS)
    assert first.exit_code == 0, first.output
    assert node.run(["qm", "status", "1001"]).stdout == "status: running\n"
    assert "template: 1" in node.run(["qm", "config", "9000"]).stdout
    mark = node.mark()
    second = cli("--config-dir", str(original), "converge", *VM_IDS)
    assert second.exit_code == 0, second.output
    entries = node.since(mark)
    assert mutations(entries) == []
    assert guest_runs(entries) == []
    # The VMs and the containers 1001 depends on (102 and its clone sources).
    assert "converge: 6 targets: 6 in sync" in second.output

    # A manual change is the one drift plan shows, and converge repairs it with one qm set.
    node.run(["qm", "set", "1001", "--memory", "4096"], check=True)
    mark = node.mark()
    plan = cli.json("--config-dir", str(original), "plan", "1001")
    changes = [(o["id"], c) for o in plan["outcomes"] for c in o["changes"]]
    # On the running VM the hand-set memory is pending (qemu-server: no memory hotplug by
    # default), which plan shows too; converge's one qm set puts it back and clears it.
    assert [(i, c["what"], c["from"], c["to"]) for i, c in changes] == [
        (1001, "memory", "4096", "8192"),
        (1001, "pending reboot", "memory", "applied at the restart"),
    ]
    assert mutations(node.since(mark)) == []
    mark = node.mark()
    repair = cli("--config-dir", str(original), "converge", "1001")
    assert repair.exit_code == 0, repair.output
    assert mutations(node.since(mark)) == [["qm", "set", "1001", "--memory", "8192"]]


def test_feature_exiting_3_inside_the_vm_fails_that_guest_with_its_output_tail(
    cli: Cli, original: Path
) -> None:
    node = cli.node
    node.script_exec(
        1001,
        r"/bin/bash \S*/docker\.sh",
        rc=3,
        stdout="".join(f"docker line {i}\n" for i in range(1, 31)),
    )
    result = cli.subprocess("--config-dir", str(original), "converge", *VM_IDS)
    assert result.returncode == 1, result.stdout + result.stderr
    summary = result.stdout
    assert "vm 1001 (Portainer)" in summary and "exited 3" in summary
    assert "docker line 30" in summary and "docker line 21" in summary
    assert "docker line 20\n" not in summary  # the tail, not the whole output
    # 1002 clones 9000 and depends on 1001: it is not started once 1001 failed.
    assert node.run(["qm", "status", "1001"]).stdout == "status: running\n"


def test_the_whole_old_configuration_converges_then_is_in_sync(cli: Cli, original: Path) -> None:
    node = cli.node
    first = cli.subprocess("--config-dir", str(original), "converge")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "15 targets" in first.stdout
    mark = node.mark()
    second = cli.subprocess("--config-dir", str(original), "converge")
    assert second.returncode == 0, second.stdout + second.stderr
    entries = node.since(mark)
    assert mutations(entries) == []
    assert guest_runs(entries) == []
    assert "15 targets: 15 in sync" in second.stdout
    # Every command shape sent is in docs/pve-sim.md's conformance table, citing its source.
    missing = conformance.unlisted(node.journal(), conformance.documented())
    assert missing == [], "\n".join(missing)


def test_dry_run_of_missing_vms_prints_the_plan_and_only_reads(cli: Cli, original: Path) -> None:
    node = cli.node
    mark = node.mark()
    result = cli("--config-dir", str(original), "converge", "--dry-run", "9000", "1001")
    assert result.exit_code == 0, result.output
    for expected in (
        "[exists] virtual machine: (none) -> create from fastData-shared-iso:iso/noble-server-cloudimg-amd64.img",
        "[disk] disk scsi0: (none) -> 50G",
        "[template] template: (none) -> converted",
        "[exists] virtual machine: (none) -> full clone of 9000",
        "[options] memory: (none) -> 8192",
        "[cloud-init] ipconfig0: (none) -> ip=10.0.0.111/24,gw=10.0.0.1",
        "[firewall] firewall rule #1",
        "[power] power: (none) -> running",
        "[nfs volumes] nfs /persistent-storage",
        "[features] feature docker: (none) -> run",
    ):
        assert expected in result.output, expected
    entries = node.since(mark)
    assert entries and mutations(entries) == []
    assert node.run(["qm", "status", "9000"]).returncode != 0
