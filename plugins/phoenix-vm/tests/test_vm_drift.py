# ruff: noqa: F811 - pytest fixtures imported from vm_support are used as arguments
"""Cloud-init drift, changes pending a reboot, NFS volumes and the power verbs, on the
simulator: each repaired with exactly the commands it needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vm_support import (  # noqa: F401 - fixtures
    PERSIST,
    Cli,
    cli,
    edit_vm,
    guest_runs,
    mutations,
    original,
    vm_node,
)


@pytest.fixture
def built(cli: Cli, original: Path) -> Path:
    """9000 and 1001 converged (1001 without its container dependency, to stay quick)."""
    edit_vm(original, 1001, dependencies=[])
    result = cli("--config-dir", str(original), "converge", "9000", "1001")
    assert result.exit_code == 0, result.output
    return original


def test_a_cloud_init_change_is_one_set_then_one_update(cli: Cli, built: Path) -> None:
    node = cli.node
    edit_vm(
        built,
        1001,
        network_config={"ip": "10.0.0.111/24", "gw": "10.0.0.1", "nameserver": "10.0.0.53"},
    )
    mark = node.mark()
    result = cli("--config-dir", str(built), "converge", "1001")
    assert result.exit_code == 0, result.output
    assert "[cloud-init] nameserver: 10.0.0.13 -> 10.0.0.53" in result.output
    assert mutations(node.since(mark)) == [
        ["qm", "set", "1001", "--nameserver", "10.0.0.53"],
        ["qm", "cloudinit", "update", "1001"],
    ]
    assert "- '10.0.0.53'" in node.run(["qm", "cloudinit", "dump", "1001", "network"]).stdout


def test_a_drive_left_stale_is_regenerated(cli: Cli, built: Path) -> None:
    """A `qm set` whose `qm cloudinit update` never ran (here: by hand) is caught from
    `qm cloudinit pending` and finished with the update alone."""
    node = cli.node
    node.run(["qm", "set", "1001", "--searchdomain", "lab"], check=True)
    node.run(["qm", "set", "1001", "--delete", "searchdomain"], check=True)
    node.run(["qm", "set", "1001", "--ciuser", "someone"], check=True)
    node.run(["qm", "set", "1001", "--ciuser", "phoenix_user"], check=True)
    assert "new " not in node.run(["qm", "cloudinit", "pending", "1001"]).stdout
    edit_vm(built, 1001, user_config={"username": "ops"})
    node.fail_nth_mutation(2, "unable to generate cloud-init drive")  # the update fails
    failed = cli("--config-dir", str(built), "converge", "1001")
    assert failed.exit_code == 1
    assert "new ciuser: ops" in node.run(["qm", "cloudinit", "pending", "1001"]).stdout
    mark = node.mark()
    plan = cli("--config-dir", str(built), "plan", "1001")
    assert "[cloud-init] cloud-init drive: stale (ciuser) -> regenerated" in plan.output
    repair = cli("--config-dir", str(built), "converge", "1001")
    assert repair.exit_code == 0, repair.output
    assert mutations(node.since(mark)) == [["qm", "cloudinit", "update", "1001"]]


def test_changes_pending_a_reboot_are_reported_then_applied_on_request(
    cli: Cli, built: Path
) -> None:
    node = cli.node
    node.run(["qm", "set", "1001", "--cores", "6"], check=True)
    # qemu-server: cores of a running VM change at its next boot (no CPU hotplug by default).
    assert "new cores: 6" in node.run(["qm", "pending", "1001"]).stdout
    node.run(["qm", "set", "1001", "--cores", "4"], check=True)  # back: nothing pending
    edit_vm(built, 1001, cores=6)
    result = cli("--config-dir", str(built), "converge", "1001")
    assert result.exit_code == 0, result.output
    assert "cores wait(s) for a reboot; converge --restart-if-needed applies them" in result.output
    # A pending value is a change: plan shows it and --detailed-exitcode says so; status too.
    plan = cli("--config-dir", str(built), "plan", "1001", "--detailed-exitcode")
    assert plan.exit_code == 3, plan.output
    assert "pending reboot: cores -> applied at the restart" in plan.output
    status = cli("--config-dir", str(built), "status", "1001", "-o", "json")
    row = json.loads(status.stdout[status.stdout.index("{") :])["targets"][0]
    assert row["details"] == {"pending": "cores (until a restart)"}
    mark = node.mark()
    restart = cli("--config-dir", str(built), "converge", "--restart-if-needed", "1001")
    assert restart.exit_code == 0, restart.output
    assert "[pending changes] pending reboot: cores -> restarted" in restart.output
    argvs = mutations(node.since(mark))
    assert argvs[0][:3] == ["qm", "shutdown", "1001"] and argvs[1] == ["qm", "start", "1001"]
    assert "new " not in node.run(["qm", "pending", "1001"]).stdout
    mark = node.mark()
    again = cli("--config-dir", str(built), "converge", "--restart-if-needed", "1001")
    assert again.exit_code == 0 and mutations(node.since(mark)) == []


def test_nfs_volumes_fstab_line_once_mounted_and_host_directory(cli: Cli, built: Path) -> None:
    node = cli.node
    fstab = node.guest_path(1001, "/etc/fstab").read_text().splitlines()
    lines = [ln for ln in fstab if " nfs " in ln]
    assert len(lines) == 2 and lines[0].startswith(f"10.0.0.13:{PERSIST}/1001 ")
    # The host directory is the node's: in the simulated node's directory.
    assert (node.dir / PERSIST.lstrip("/") / "1001" / ".step-ca").is_dir()
    edit_vm(
        built,
        1001,
        volumes=[
            {
                "type": "nfs",
                "path": f"{PERSIST}/1001",
                "mount_point": "/persistent-storage",
                "server": "10.0.0.13",
                "options": "defaults,nofail",
            }
        ],
    )
    mark = node.mark()
    result = cli("--config-dir", str(built), "converge", "1001")
    assert result.exit_code == 0, result.output
    fstab = node.guest_path(1001, "/etc/fstab").read_text().splitlines()
    mine = [ln for ln in fstab if ln.split()[1:2] == ["/persistent-storage"]]
    assert mine == [f"10.0.0.13:{PERSIST}/1001 /persistent-storage nfs defaults,nofail 0 0"]
    assert any(
        "mountpoint" in a and "/persistent-storage" in a
        for a in guest_runs(node.since(mark)) + [e["argv"] for e in node.since(mark)]
    )


def test_power_verbs_and_delete(cli: Cli, built: Path) -> None:
    node = cli.node
    mark = node.mark()
    assert cli("--config-dir", str(built), "stop", "1001").exit_code == 0
    assert node.run(["qm", "status", "1001"]).stdout == "status: stopped\n"
    assert mutations(node.since(mark))[0][:3] == ["qm", "shutdown", "1001"]
    start = cli("--config-dir", str(built), "start", "1001")
    assert start.exit_code == 0, start.output
    started = [e["argv"] for e in node.since(mark)]
    # Ready means the agent answered, then cloud-init finished inside.
    ping = started.index(["qm", "guest", "cmd", "1001", "ping"])
    assert any("cloud-init" in a for a in started[ping:])
    asked = node.mark()
    status = cli("--config-dir", str(built), "status", "--addresses", "1001", "9000")
    assert "ADDRESSES" in status.output and "10.0.0.111" in status.output
    agent = ["qm", "guest", "cmd", "1001", "network-get-interfaces"]
    assert [e["argv"] for e in node.since(asked)].count(agent) == 1
    argv = ["--config-dir", str(built), "status", "--addresses", "1001", "-o", "json"]
    record = json.loads(cli(*argv).stdout)
    assert record["targets"][0]["addresses"] == ["10.0.0.111"]
    # Without --addresses no guest agent is asked: a status costs the same for any number of VMs.
    asked = node.mark()
    plain = json.loads(cli("--config-dir", str(built), "status", "1001", "-o", "json").stdout)
    assert plain["targets"][0]["addresses"] == [] and plain["targets"][0]["status"] == "running"
    assert not [e for e in node.since(asked) if e["argv"][:3] == ["qm", "guest", "cmd"]]
    template = cli("--config-dir", str(built), "start", "9000")
    assert (
        template.exit_code == 0 and node.run(["qm", "status", "9000"]).stdout == "status: stopped\n"
    )
    delete = cli("--config-dir", str(built), "delete", "--yes", "1001")
    assert delete.exit_code == 0, delete.output
    assert node.run(["qm", "status", "1001"]).returncode == 255
    assert ["qm", "destroy", "1001", "--purge"] in mutations(node.since(mark))


def test_cloud_init_exit_2_reboots_once_then_waits_again(cli: Cli, built: Path) -> None:
    node = cli.node
    assert cli("--config-dir", str(built), "stop", "1001").exit_code == 0
    node.script_exec(1001, r"cloud-init status --wait", rc=2, stdout="status: done\n", times=1)
    mark = node.mark()
    result = cli("--config-dir", str(built), "start", "1001")
    assert result.exit_code == 0, result.output
    assert "cloud-init asks for a reboot (exit 2); rebooting once" in result.output
    argvs = [e["argv"] for e in node.since(mark)]
    reboot = argvs.index(["qm", "reboot", "1001", "--timeout", "300"])
    after = argvs[reboot:]
    assert ["qm", "guest", "cmd", "1001", "ping"] in after
    assert sum("cloud-init" in " ".join(a) for a in argvs) == 2


def test_every_wait_is_bounded_and_named(cli: Cli, built: Path) -> None:
    node = cli.node
    edit_vm(built, 1001, ready_timeout=1)
    assert cli("--config-dir", str(built), "stop", "1001").exit_code == 0
    node.set_agent_delay(60)
    result = cli.subprocess("--config-dir", str(built), "start", "1001")
    assert result.returncode == 1
    assert (
        "VM 1001 started but did not answer `qm guest cmd 1001 ping` within 1 s: "
        "QEMU guest agent is not running"
    ) in result.stdout
    node.set_agent_delay(0)
    node.script_exec(1001, r"cloud-init status --wait", rc=1, stdout="status: error\n")
    failed = cli.subprocess("--config-dir", str(built), "restart", "1001")
    assert failed.returncode == 1
    assert "VM 1001: `cloud-init status --wait` exited 1: status: error" in failed.stdout


def test_a_resize_failing_in_its_task_is_caught_from_the_config(cli: Cli, built: Path) -> None:
    """`qm disk resize` exits 0 when its task fails (qemu-server src/PVE/CLI/qm.pm: no
    $upid_exit): here the volume is larger than the config's `size=` says, so growing the
    config's size is a shrink of the volume. phoenix reads the config back and fails."""
    node = cli.node
    volume = node.run(["qm", "config", "1001"]).stdout.split("scsi0: ")[1].split(",")[0]
    node.run(["qm", "disk", "resize", "1001", "scsi0", "60G"], check=True)
    node.run(["qm", "set", "1001", "--scsi0", f"{volume},size=10G"], check=True)
    result = cli("--config-dir", str(built), "converge", "1001")
    assert result.exit_code == 1
    assert (
        "VM 1001: `qm disk resize 1001 scsi0 32G` left scsi0 at 10G: "
        "shrinking disks is not supported"
    ) in result.output
