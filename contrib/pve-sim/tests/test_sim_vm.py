"""What phoenix-vm uses of qm and the storage API, each as strict as a real node.

Sources are named per test (qemu-server, pve-storage, pve-common, qemu's qga).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from pve_sim.fixture import SimNode

IMAGE_URL = "https://cloud-images.example/noble-server-cloudimg-amd64.img"


def _create(node: SimNode, vmid: int, *extra: str) -> None:
    argv = ["qm", "create", str(vmid), "--name", f"vm{vmid}", "--memory", "1024", *extra]
    proc = node.run(argv)
    assert proc.returncode == 0, proc.stderr


def test_agent_answers_only_when_configured_and_some_time_after_start(node: SimNode) -> None:
    """qemu-server src/PVE/QemuServer/Agent.pm agent_available: "No QEMU guest agent
    configured" without `agent: 1`, "VM <id> is not running" when stopped, and "QEMU guest
    agent is not running" until qemu-ga inside the booting guest opens its channel."""
    node.set_agent_delay(0.6)
    net = ["--net0", "virtio=BC:24:11:00:00:50,bridge=vmbr0"]
    _create(node, 500, "--agent", "1", "--ipconfig0", "ip=10.0.0.50/24,gw=10.0.0.1", *net)
    assert node.run(["qm", "guest", "cmd", "500", "ping"]).stderr == "VM 500 is not running\n"
    assert node.run(["qm", "start", "500"]).returncode == 0
    early = node.run(["qm", "guest", "cmd", "500", "ping"])
    assert (early.returncode, early.stderr) == (255, "QEMU guest agent is not running\n")
    time.sleep(0.7)
    assert node.run(["qm", "guest", "cmd", "500", "ping"]).returncode == 0
    # The agent's network-get-interfaces: eth0 with net0's MAC and the cloud-init address,
    # then its IPv6 link-local one; with `ip=dhcp` a lease, stable across reads.
    listed = json.loads(node.run(["qm", "guest", "cmd", "500", "network-get-interfaces"]).stdout)
    assert [i["name"] for i in listed] == ["lo", "eth0"]
    assert listed[1]["hardware-address"] == "bc:24:11:00:00:50"
    assert [a["ip-address"] for a in listed[1]["ip-addresses"]] == [
        "10.0.0.50",
        "fe80::be24:11ff:fe00:50",
    ]
    node.run(["qm", "set", "500", "--ipconfig0", "ip=dhcp"], check=True)
    assert "10.0.0.50" in node.run(["qm", "guest", "cmd", "500", "network-get-interfaces"]).stdout
    # A restart boots the guest again: the agent is gone until it has started once more.
    node.run(["qm", "stop", "500"], check=True)
    node.run(["qm", "start", "500"], check=True)
    assert node.run(["qm", "guest", "cmd", "500", "ping"]).returncode == 255
    time.sleep(0.7)
    lease = node.run(["qm", "guest", "cmd", "500", "network-get-interfaces"]).stdout
    assert '"ip-address" : "192.0.2.' in lease
    assert lease == node.run(["qm", "guest", "cmd", "500", "network-get-interfaces"]).stdout
    # cloud-init status --long as cloud-init >= 23.4 prints a finished boot (cmd/status.py).
    long = node.run(["qm", "guest", "exec", "500", "--", "cloud-init", "status", "--long"])
    assert json.loads(long.stdout)["out-data"].splitlines()[:2] == [
        "status: done",
        "extended_status: done",
    ]
    node.set_agent_delay(0)


def test_detached_exec_then_exec_status(node: SimNode) -> None:
    """qemu-server src/PVE/CLI/qm.pm `exec`: `--synchronous 0` returns the pid at once;
    src/PVE/API2/Qemu/Agent.pm exec-status gives exited/exitcode/out-data, and qemu-ga
    (qga/commands.c guest_exec_status) forgets the pid once it reported its exit."""
    node.set_agent_delay(0)
    _create(node, 510, "--agent", "enabled=1")
    assert node.run(["qm", "start", "510"]).returncode == 0
    node.script_exec(510, "feature", rc=3, stdout="step 1\nstep 2 failed\n")
    started = node.run(["qm", "guest", "exec", "510", "--synchronous", "0", "--", "/bin/feature"])
    assert started.returncode == 0, started.stderr
    pid = json.loads(started.stdout)["pid"]
    status = node.run(["qm", "guest", "exec-status", "510", str(pid)])
    assert status.returncode == 0
    assert json.loads(status.stdout) == {
        "exitcode": 3,
        "exited": 1,
        "out-data": "step 1\nstep 2 failed\n",
    }
    again = node.run(["qm", "guest", "exec-status", "510", str(pid)])
    assert (again.returncode, again.stderr) == (255, "Agent error: Invalid parameter 'pid'\n")


def test_exec_timeouts_as_qm_takes_them(node: SimNode) -> None:
    """qemu-server src/PVE/CLI/qm.pm `exec`: `--timeout` is an integer, `0` waits without
    limit (the result, never a pid), and `--synchronous 0` refuses a `--timeout`."""
    node.set_agent_delay(0)
    _create(node, 515, "--agent", "1")
    assert node.run(["qm", "start", "515"]).returncode == 0
    node.script_exec(515, "slow", rc=0, stdout="done\n")
    waited = node.run(["qm", "guest", "exec", "515", "--timeout", "0", "--", "/bin/slow"])
    assert json.loads(waited.stdout) == {"exitcode": 0, "exited": 1, "out-data": "done\n"}
    usage = "qm guest exec <vmid> [<extra-args>] [OPTIONS]\n"
    both = ["qm", "guest", "exec", "515", "--synchronous", "0", "--timeout", "5", "--", "true"]
    refused = node.run(both)
    assert (refused.returncode, refused.stderr) == (
        255,
        "400 Parameter verification failed.\nsynchronous: needs to be set for 'timeout'\n" + usage,
    )
    fraction = node.run(["qm", "guest", "exec", "515", "--timeout", "7.5", "--", "true"])
    assert fraction.returncode == 255
    assert "timeout: type check ('integer') failed - got '7.5'" in fraction.stderr


def test_pass_stdin_writes_a_file_in_the_guest(node: SimNode) -> None:
    """qemu-server src/PVE/CLI/qm.pm `guest exec --pass-stdin`: the CLI's stdin is the
    command's input-data; a `sh -c` writing it through `base64 -d` leaves the file there."""
    node.set_agent_delay(0)
    _create(node, 520, "--agent", "1")
    assert node.run(["qm", "start", "520"]).returncode == 0
    script = 'umask 077; base64 -d > "$1" && chmod "$3" "$1" && mv -f "$1" "$2"'
    argv = ["qm", "guest", "exec", "520", "--pass-stdin", "1", "--", "sh", "-c", script, "sh"]
    argv += ["/etc/x.part", "/etc/x", "0640"]
    proc = node.run(argv, input=base64.b64encode(b"hello\n").decode())
    assert json.loads(proc.stdout)["exitcode"] == 0
    assert node.guest_path(520, "/etc/x").read_bytes() == b"hello\n"
    assert oct(node.guest_path(520, "/etc/x").stat().st_mode & 0o777) == "0o640"
    cat = node.run(["qm", "guest", "exec", "520", "--", "cat", "/etc/x"])
    assert json.loads(cat.stdout)["out-data"] == "hello\n"
    # `.` of a file and `exec "$@"`, as phoenix's private environment file is used.
    wrapper = ["sh", "-c", '. "$0" && exec "$@"', "/etc/x", "cat", "/etc/x"]
    sourced = node.run(["qm", "guest", "exec", "520", "--", *wrapper])
    assert json.loads(sourced.stdout)["out-data"] == "hello\n"
    missing = node.run(["qm", "guest", "exec", "520", "--", "sh", "-c", '. "$0"', "/nope"])
    assert json.loads(missing.stdout)["exitcode"] == 1


def test_download_url_verifies_the_checksum_and_never_overwrites(pve_node: SimNode) -> None:
    """pve-storage src/PVE/API2/Storage/Status.pm download_url through pve-common
    src/PVE/Tools.pm download_file_from_url: a bad checksum drops the download ("checksum
    mismatch: got '<got>' != expect '<expected>'"); a file already there is kept when the
    checksum matches, else refused ("refusing to override existing file '<dest>'" without a
    checksum, the mismatch ", aborting" with one); wget's failure is "download failed"."""
    node = pve_node
    data = b"qcow2 image" * 1000
    node.add_remote_file(IMAGE_URL, data)
    path = "/nodes/localhost/storage/local/download-url"
    base = ["pvesh", "create", path, "--content", "iso", "--url", IMAGE_URL]
    base += ["--filename", "noble.img", "--checksum-algorithm", "sha256"]
    bad = node.run([*base, "--checksum", "0" * 64])
    assert bad.returncode == 255
    got = hashlib.sha256(data).hexdigest()
    assert bad.stderr == f"checksum mismatch: got '{got}' != expect '{'0' * 64}'\n"
    assert "noble.img" not in node.run(["pvesm", "list", "local"]).stdout
    ok = node.run([*base, "--checksum", got])
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"downloading {IMAGE_URL} to /var/lib/vz/template/iso/noble.img\n")
    assert "local:iso/noble.img" in node.run(["pvesm", "list", "local"]).stdout
    kept = node.run([*base, "--checksum", got])
    assert kept.returncode == 0 and "no need to download" in kept.stdout
    other = node.run([*base, "--checksum", "1" * 64])
    assert other.stderr == f"checksum mismatch: got '{got}' != expect '{'1' * 64}', aborting\n"
    plain = node.run(base[:9])
    assert plain.stderr == (
        "refusing to override existing file '/var/lib/vz/template/iso/noble.img'\n"
    )
    elsewhere = ["--url", "https://nowhere.example/x.img", "--filename", "x.img"]
    missing = node.run([*base[:5], *elsewhere])
    assert missing.returncode == 255
    assert missing.stderr.startswith("download failed: command 'wget --progress=dot:giga -O ")
    assert missing.stderr.endswith("https://nowhere.example/x.img' failed: exit code 8\n")


def _download(node: SimNode, content: str, filename: str, storage: str = "local") -> Any:
    path = f"/nodes/localhost/storage/{storage}/download-url"
    argv = ["pvesh", "create", path, "--content", content, "--url", IMAGE_URL]
    return node.run([*argv, "--filename", filename])


def test_import_from_sizes_the_disk_from_its_source(pve_node: SimNode) -> None:
    """qemu-server src/PVE/API2/Qemu.pm (9.2.6) $check_drive_param and create_disks:
    `<storage>:0,import-from=<source>` only (size 0), the source an `images` or `import`
    volume or an absolute path whose size is read first; the config keeps no import-from.
    $check_storage_access refuses an iso volume (a parameter error, before any task)."""
    node = pve_node
    node.add_remote_file(IMAGE_URL, b"x" * (3 * 1024**2))
    assert _download(node, "iso", "noble.img").returncode == 0
    wrong = node.run(
        ["qm", "create", "530", "--scsi0", "local-lvm:8,import-from=local:iso/noble.img"]
    )
    assert wrong.returncode == 255
    assert wrong.stderr.startswith(
        "400 Parameter verification failed.\nscsi0: 'import-from' requires special syntax - "
        "use <storage ID>:0,import-from=<source>\n"
    )
    iso = node.run(
        ["qm", "create", "530", "--scsi0", "local-lvm:0,import-from=local:iso/noble.img"]
    )
    assert (iso.returncode, iso.stderr) == (
        255,
        "400 Parameter verification failed.\nscsi0: local:iso/noble.img has wrong type 'iso' - "
        "needs to be 'images' or 'import'\nqm create <vmid> [OPTIONS]\n",
    )
    gone = node.run(
        ["qm", "create", "530", "--scsi0", "local-lvm:0,import-from=local:import/nope.qcow2"]
    )
    assert gone.stderr == (
        "unable to create VM 530 - cannot import from 'local:import/nope.qcow2' - could not "
        "get size of local:import/nope.qcow2\n"
    )
    path = node.run(["qm", "create", "530", "--scsi0", "local-lvm:0,import-from=/no/such.img"])
    assert path.stderr == "unable to create VM 530 - could not get file size of /no/such.img\n"
    # An absolute path may be a storage's own file (root only): the iso just downloaded.
    by_path = "local-lvm:0,import-from=/var/lib/vz/template/iso/noble.img"
    _create(node, 532, "--scsi0", by_path)
    assert "scsi0: local-lvm:vm-532-disk-0,size=1G" in node.run(["qm", "config", "532"]).stdout
    # pve-storage src/PVE/API2/Storage/Status.pm download_url: `import` content, a name
    # $UPLOAD_IMPORT_EXT_RE_1 takes, stored under import/ of a storage that holds it.
    refused = _download(node, "import", "noble.qcow2")
    assert refused.stderr == "storage 'local' is not configured for content-type 'import'\n"
    node.run(["pvesm", "set", "local", "--content", "iso,vztmpl,backup,import"], check=True)
    named = _download(node, "import", "noble.img")
    assert named.stderr == (
        "400 Parameter verification failed.\nfilename: invalid filename or wrong extension\n"
    )
    got = _download(node, "import", "noble.qcow2")
    assert got.stdout.startswith(f"downloading {IMAGE_URL} to /var/lib/vz/import/noble.qcow2\n")
    assert "local:import/noble.qcow2" in node.run(["pvesm", "list", "local"]).stdout
    _create(
        node,
        530,
        "--scsihw",
        "virtio-scsi-pci",
        "--scsi0",
        "local-lvm:0,import-from=local:import/noble.qcow2,discard=on",
    )
    config = node.run(["qm", "config", "530"]).stdout
    assert "scsi0: local-lvm:vm-530-disk-0,discard=on,size=1G" in config
    assert "import-from" not in config
    # qemu-server src/PVE/API2/Qemu.pm resize_vm: "shrinking disks is not supported", inside
    # the task, and src/PVE/CLI/qm.pm `disk resize` has no $upid_exit: exit 0 all the same.
    assert node.run(["qm", "disk", "resize", "530", "scsi0", "8G"]).returncode == 0
    shrink = node.run(["qm", "disk", "resize", "530", "scsi0", "4G"])
    assert (shrink.returncode, shrink.stderr) == (0, "shrinking disks is not supported\n")
    assert "size=8G" in node.run(["qm", "config", "530"]).stdout
    # The volume grew with the drive: a full clone gets the grown size.
    node.run(["qm", "template", "530"], check=True)
    node.run(["qm", "clone", "530", "531", "--full", "1"], check=True)
    assert "size=8G" in node.run(["qm", "config", "531"]).stdout


def test_template_is_never_started_and_clones_linked_by_default(node: SimNode) -> None:
    """qemu-server src/PVE/QemuServer.pm vm_start ("you can't start a vm if it's a
    template"); src/PVE/API2/Qemu.pm clone_vm: `full` defaults to 0 for a template."""
    _create(node, 540, "--scsi0", "local-lvm:2")
    assert node.run(["qm", "template", "540"]).returncode == 0
    start = node.run(["qm", "start", "540"])
    assert (start.returncode, start.stderr) == (255, "you can't start a vm if it's a template\n")
    linked = node.run(["qm", "clone", "540", "541", "--name", "linked"])
    assert linked.stdout.startswith("create linked clone of drive scsi0"), linked.stdout


def test_cloudinit_pending_until_update_or_start(node: SimNode) -> None:
    """qemu-server src/PVE/API2/Qemu.pm cloudinit_pending / cloudinit_update: a changed
    cloud-init key is `new` until the drive is regenerated (`qm cloudinit update` or a start)."""
    _create(node, 550, "--ide2", "local-lvm:cloudinit", "--ciuser", "ops")
    assert node.run(["qm", "cloudinit", "pending", "550"]).stdout == "new ciuser: ops\n"
    assert node.run(["qm", "cloudinit", "update", "550"]).returncode == 0
    assert node.run(["qm", "cloudinit", "pending", "550"]).stdout == "cur ciuser: ops\n"
    node.run(["qm", "set", "550", "--ciuser", "admin", "--nameserver", "10.0.0.13"], check=True)
    pending = node.run(["qm", "cloudinit", "pending", "550"]).stdout.splitlines()
    assert pending == ["cur ciuser: ops", "new ciuser: admin", "new nameserver: 10.0.0.13"]
    network = node.run(["qm", "cloudinit", "dump", "550", "network"]).stdout
    assert "- type: nameserver" in network and "- '10.0.0.13'" in network
    node.set_agent_delay(0)
    assert node.run(["qm", "start", "550"]).returncode == 0
    assert "new " not in node.run(["qm", "cloudinit", "pending", "550"]).stdout
    # On a running VM a cloud-init key stays pending until the drive is regenerated, which
    # applies it (qemu-server PVE/QemuServer.pm vmconfig_update_cloudinit_drive).
    node.run(["qm", "set", "550", "--searchdomain", "lab"], check=True)
    assert "new searchdomain: lab" in node.run(["qm", "pending", "550"]).stdout
    assert "new searchdomain: lab" in node.run(["qm", "cloudinit", "pending", "550"]).stdout
    assert node.run(["qm", "cloudinit", "update", "550"]).returncode == 0
    assert "searchdomain: lab" in node.run(["qm", "config", "550", "--current"]).stdout
    assert "new " not in node.run(["qm", "pending", "550"]).stdout


def test_cicustom_snippets_must_exist_when_the_drive_is_generated(
    pve_node_factory, tmp_path: Path
) -> None:
    """qemu-server src/PVE/QemuServer/Cloudinit.pm read_cloudinit_snippets_file: a cicustom
    volume outside `snippets/` is refused, a missing file fails (pve-common src/PVE/File.pm
    file_get_contents "can't open '<path>' - ..."), at a start and at `cloudinit update`."""
    from pve_sim.seed import DEFAULT_SEED, with_local_snippets

    node = pve_node_factory(seed=with_local_snippets(DEFAULT_SEED, tmp_path))
    node.set_agent_delay(0)
    snippet = "local:snippets/vendor.yaml"
    _create(node, 560, "--ide2", "local-lvm:cloudinit", "--cicustom", f"vendor={snippet}")
    # The storage's path is the node's: in the node directory.
    path = node.dir / "var" / "lib" / "vz" / "snippets" / "vendor.yaml"
    start = node.run(["qm", "start", "560"])
    assert (start.returncode, start.stderr) == (
        255,
        "can't open '/var/lib/vz/snippets/vendor.yaml' - No such file or directory\n",
    )
    path.parent.mkdir(parents=True)
    path.write_text("#cloud-config\n")
    assert node.run(["qm", "cloudinit", "update", "560"]).returncode == 0
    assert node.run(["qm", "start", "560"]).returncode == 0
    node.run(["qm", "set", "560", "--cicustom", "vendor=local:iso/vendor.yaml"], check=True)
    wrong = node.run(["qm", "cloudinit", "update", "560"])
    assert wrong.stderr == "local:iso/vendor.yaml is not in the snippets directory\n"


def test_the_cloud_init_drive_is_named_and_every_clone_gets_its_own(node: SimNode) -> None:
    """qemu-server src/PVE/QemuServer/Drive.pm drive_is_cloudinit (`vm-<id>-cloudinit`) and
    src/PVE/API2/Qemu.pm clone_vm: the cloud-init drive is copied for every clone, linked ones
    included, never shared with the source."""
    _create(node, 570, "--scsi0", "local-lvm:2", "--ide2", "local-lvm:cloudinit")
    assert (
        "ide2: local-lvm:vm-570-cloudinit,media=cdrom" in node.run(["qm", "config", "570"]).stdout
    )
    assert node.run(["qm", "template", "570"]).returncode == 0
    node.run(["qm", "clone", "570", "571", "--name", "linked"], check=True)
    node.run(["qm", "clone", "570", "572", "--name", "full", "--full", "1"], check=True)
    for vmid in (571, 572):
        config = node.run(["qm", "config", str(vmid)]).stdout
        assert f"ide2: local-lvm:vm-{vmid}-cloudinit,media=cdrom" in config, config
    listed = node.run(["pvesm", "list", "local-lvm"]).stdout
    assert all(f"vm-{v}-cloudinit" in listed for v in (570, 571, 572)), listed
