"""qm conformance: pve-cli.md §2.3."""

from __future__ import annotations

import json

from pve_sim.fixture import SimNode


def _create(node: SimNode, vmid: int, *extra: str) -> None:
    proc = node.run(
        [
            "qm",
            "create",
            str(vmid),
            "--name",
            f"vm{vmid}",
            "--memory",
            "2048",
            "--scsi0",
            "local-lvm:32",
            "--net0",
            "virtio,bridge=vmbr0",
            *extra,
        ]
    )
    assert proc.returncode == 0, proc.stderr


def test_status_and_list(pve_node: SimNode) -> None:
    missing = pve_node.run(["qm", "status", "999"])
    assert missing.returncode == 255
    assert missing.stderr == "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist\n"
    empty = pve_node.run(["qm", "list"])
    assert (empty.returncode, empty.stdout) == (0, "")
    _create(pve_node, 400)
    assert pve_node.run(["qm", "status", "400"]).stdout == "status: stopped\n"
    rows = pve_node.run(["qm", "list"]).stdout.splitlines()
    assert (
        rows[0] == "      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID       "
    )
    assert (
        rows[1] == "       400 vm400                stopped    2048              32.00 0         "
    )
    assert pve_node.run(["qm", "start", "400"]).returncode == 0
    again = pve_node.run(["qm", "start", "400"])
    assert (again.returncode, again.stderr) == (255, "VM 400 already running\n")
    assert pve_node.run(["qm", "status", "400"]).stdout == "status: running\n"
    assert pve_node.run(["qm", "stop", "400"]).returncode == 0
    assert pve_node.run(["qm", "stop", "400"]).returncode == 0  # no error when already stopped


def test_config_merges_pending_and_masks_password(node: SimNode) -> None:
    _create(
        node, 410, "--ciuser", "admin", "--cipassword", "secret", "--ide2", "local-lvm:cloudinit"
    )
    assert node.run(["qm", "start", "410"]).returncode == 0
    assert node.run(["qm", "set", "410", "--memory", "4096"]).returncode == 0
    config = node.run(["qm", "config", "410"]).stdout.splitlines()
    assert "memory: 4096" in config
    assert "cipassword: **********" in config
    assert "digest" not in "".join(config)
    assert "memory: 2048" in node.run(["qm", "config", "410", "--current"]).stdout.splitlines()
    pending = node.run(["qm", "pending", "410"]).stdout.splitlines()
    assert [p for p in pending if "memory" in p] == ["cur memory: 2048", "new memory: 4096"]


def test_guest_agent_and_exec(node: SimNode) -> None:
    node.set_agent_delay(0)
    _create(node, 420)
    no_agent = node.run(["qm", "guest", "cmd", "420", "ping"])
    assert (no_agent.returncode, no_agent.stderr) == (255, "No QEMU guest agent configured\n")
    assert node.run(["qm", "set", "420", "--agent", "enabled=1"]).returncode == 0
    stopped = node.run(["qm", "guest", "exec", "420", "--", "true"])
    assert stopped.stderr == "VM 420 is not running\n"
    assert node.run(["qm", "start", "420"]).returncode == 0
    ping = node.run(["qm", "agent", "420", "ping"])
    assert (ping.returncode, ping.stdout) == (0, "")
    node.script_exec(420, "^cloud-init status", rc=2, stdout="status: error\n")
    proc = node.run(["qm", "guest", "exec", "420", "--", "cloud-init", "status"])
    # The CLI exits 0 even when the guest command failed (pve-cli.md §2.3).
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"exitcode": 2, "exited": 1, "out-data": "status: error\n"}
    assert '"exitcode" : 2' in proc.stdout


def test_snapshot_template_clone_destroy(node: SimNode) -> None:
    _create(node, 430)
    assert node.run(["qm", "snapshot", "430", "s1"]).returncode == 0
    assert node.run(["qm", "listsnapshot", "430"]).stdout.startswith("`-> s1 ")
    refused = node.run(["qm", "template", "430"])
    assert refused.stderr == "unable to create template, because VM contains snapshots\n"
    assert node.run(["qm", "delsnapshot", "430", "s1"]).returncode == 0
    assert node.run(["qm", "template", "430"]).returncode == 0
    clone = node.run(["qm", "clone", "430", "431", "--name", "c1", "--full", "1"])
    assert clone.returncode == 0, clone.stderr
    assert clone.stdout.startswith("create full clone of drive scsi0 (local-lvm:base-430-disk-0")
    assert node.conf(431, "qemu").exists()
    assert node.run(["qm", "destroy", "431"]).returncode == 0
    assert not node.conf(431, "qemu").exists()


def test_drives_are_stored_as_print_drive_prints_them(node: SimNode) -> None:
    """qemu-server $check_drive_param writes a drive through print_drive (pve-common
    JSONSchema.pm print_property_string): the volume first, the other properties sorted; so
    does resize_vm, whose size= is format_size's."""
    _create(node, 435, "--scsi1", "local-lvm:1,ssd=1,discard=on,cache=writeback")
    node.run(["qm", "set", "435", "--ide2", "media=cdrom,file=none"], check=True)
    node.run(["qm", "disk", "resize", "435", "scsi1", "+512M"], check=True)
    config = node.run(["qm", "config", "435"]).stdout.splitlines()
    assert "scsi1: local-lvm:vm-435-disk-1,cache=writeback,discard=on,size=1536M,ssd=1" in config
    assert "ide2: none,media=cdrom" in config


def test_resize_and_disk_import(node: SimNode, tmp_path) -> None:
    _create(node, 440)
    assert node.run(["qm", "resize", "440", "scsi0", "+2G"]).returncode == 0
    assert "scsi0: local-lvm:vm-440-disk-0,size=34G" in node.run(["qm", "config", "440"]).stdout
    # resize_vm fails inside its task, and qm's `disk resize` has no $upid_exit: exit 0.
    shrink = node.run(["qm", "resize", "440", "scsi0", "10G"])
    assert (shrink.returncode, shrink.stderr) == (0, "shrinking disks is not supported\n")
    missing = node.run(["qm", "disk", "resize", "440", "scsi5", "+1G"])
    assert (missing.returncode, missing.stderr) == (0, "disk 'scsi5' does not exist\n")
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * 4096)
    proc = node.run(["qm", "disk", "import", "440", str(image), "local-lvm"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"importing disk '{image}' to VM 440 ..."
    assert (
        proc.stdout.splitlines()[-1]
        == "unused0: successfully imported disk 'local-lvm:vm-440-disk-1'"
    )
    missing = node.run(["qm", "importdisk", "440", "/nope.img", "local-lvm"])
    assert (missing.returncode, missing.stderr) == (
        255,
        "/nope.img: non-existent or non-regular file\n",
    )


def test_cloudinit_dump_and_update(node: SimNode) -> None:
    _create(node, 450, "--ciuser", "ops", "--ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1")
    assert node.run(["qm", "cloudinit", "update", "450"]).returncode == 0
    user = node.run(["qm", "cloudinit", "dump", "450", "user"]).stdout
    assert user.startswith("#cloud-config\n") and "user: ops\n" in user
    network = node.run(["qm", "cloudinit", "dump", "450", "network"]).stdout
    assert "address: '10.0.0.5/24'" in network and "gateway: '10.0.0.1'" in network
