# ruff: noqa: F811 - pytest fixtures imported from vm_support are used as arguments
"""The cloud image: downloaded by the node with its checksum verified, reused when present;
a template VM that never boots; a linked clone grown to its size."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from vm_support import Cli, cli, mutations, original, vm_node  # noqa: F401 - fixtures

URL = "https://images.example/jammy-server-cloudimg-amd64.img"
IMAGE = b"QFI\xfb" + b"\0" * 4096


def write_vms(directory: Path, vms: list[dict[str, Any]]) -> None:
    """Add VMs to the old file (its VMs stay: containers depend on 1002)."""
    path = directory / "phoenix_vm_configs.json"
    data = json.loads(path.read_text())
    data["vms"] += vms
    path.write_text(json.dumps(data, indent=2))


def template(checksum: str) -> dict[str, Any]:
    return {
        "vmid": 9100,
        "name": "jammy-template",
        "is_template": True,
        "template_image": "jammy-server-cloudimg-amd64.img",
        "template_image_url": URL,
        "template_image_checksum": checksum,
        "disk_size_gb": 10,
        "user_config": {"username": "ops", "ssh_keys": ["ssh-ed25519 AAAAC3Nza ops@desk"]},
    }


def test_download_verified_then_reused_and_a_linked_clone(cli: Cli, original: Path) -> None:
    """Two templates from the same image: the storage is listed once and the image downloaded
    once for the run (issue 19), the second template sees the first one's download."""
    node = cli.node
    node.add_remote_file(URL, IMAGE)
    digest = hashlib.sha256(IMAGE).hexdigest()
    clone = {
        "vmid": 9101,
        "name": "jammy-linked",
        "clone_from_vmid": 9100,
        "linked_clone": True,
        "disk_size_gb": 12,
        "network_config": {"ip": "10.0.0.91/24", "gw": "10.0.0.1", "searchdomain": "lab"},
        "user_data": "local:snippets/users.yaml",
    }
    second = {**template(f"sha256:{digest}"), "vmid": 9102, "name": "jammy-template-2"}
    write_vms(original, [template(f"sha256:{digest}"), clone, second])
    # The user's own user data is theirs to put on the snippets storage.
    snippets = node.dir / "var" / "lib" / "vz" / "snippets"
    snippets.mkdir(parents=True)
    (snippets / "users.yaml").write_text("#cloud-config\nusers: [default]\n")
    mark = node.mark()
    plan = cli("--config-dir", str(original), "plan", "9100")
    assert (
        "download fastData-shared-iso:iso/jammy-server-cloudimg-amd64.img (checksum verified)"
        in plan.output
    )
    assert mutations(node.since(mark)) == []
    mark = node.mark()
    first = cli("--config-dir", str(original), "converge", "9100", "9101", "9102")
    assert first.exit_code == 0, first.output
    listed = [e["argv"] for e in node.since(mark) if e["argv"][:2] == ["pvesm", "list"]]
    assert listed == [["pvesm", "list", "fastData-shared-iso", "--content", "iso"]]
    download = [a for a in mutations(node.since(mark)) if a[:2] == ["pvesh", "create"]]
    assert download == [
        [
            "pvesh", "create", "/nodes/localhost/storage/fastData-shared-iso/download-url",
            "--content", "iso", "--filename", "jammy-server-cloudimg-amd64.img", "--url", URL,
            "--checksum-algorithm", "sha256", "--checksum", digest,
        ]
    ]  # fmt: skip
    config = node.run(["qm", "config", "9100"]).stdout
    for line in (
        "template: 1",
        "agent: 1",
        "serial0: socket",
        "scsihw: virtio-scsi-pci",
        "boot: order=scsi0",
        "ciuser: ops",
        "cicustom: vendor=local:snippets/phoenix-vm-vendor.yaml",
        "sshkeys: ssh-ed25519%20AAAAC3Nza%20ops%40desk%0A",
    ):
        assert line in config.splitlines(), (line, config)
    assert "size=10G" in config
    # The template never booted: a template only boots to run scripts.
    assert not [a for a in node.since(mark) if a["argv"][:3] == ["qm", "start", "9100"]]
    vendor = node.dir / "var" / "lib" / "vz" / "snippets" / "phoenix-vm-vendor.yaml"
    assert "qemu-guest-agent" in vendor.read_text()
    clone_argv = ["qm", "clone", "9100", "9101", "--name", "jammy-linked", "--full", "0"]
    assert clone_argv in mutations(node.since(mark))
    linked = node.run(["qm", "config", "9101"]).stdout
    assert "size=12G" in linked
    assert "ipconfig0: ip=10.0.0.91/24,gw=10.0.0.1" in linked and "searchdomain: lab" in linked
    custom = "cicustom: user=local:snippets/users.yaml,vendor=local:snippets/phoenix-vm-vendor.yaml"
    assert custom in linked.splitlines()
    mark = node.mark()
    again = cli("--config-dir", str(original), "converge", "9100", "9101", "9102")
    assert again.exit_code == 0, again.output
    assert mutations(node.since(mark)) == []


def test_a_checksum_mismatch_fails_the_template_and_keeps_no_file(cli: Cli, original: Path) -> None:
    node = cli.node
    node.add_remote_file(URL, IMAGE)
    write_vms(original, [template("sha256:" + "0" * 64)])
    result = cli.subprocess("--config-dir", str(original), "converge", "9100")
    assert result.returncode == 1
    assert "the node could not download" in result.stdout and "checksum mismatch" in result.stdout
    assert "jammy" not in node.run(["pvesm", "list", "fastData-shared-iso"]).stdout
    assert node.run(["qm", "status", "9100"]).returncode != 0


def test_an_import_storage_gets_an_import_volume(cli: Cli, original: Path) -> None:
    """qemu-server refuses `import-from` an iso volume ($check_storage_access); where the
    storage holds `import` content the image is downloaded as one, named `.qcow2`
    (pve-storage $UPLOAD_IMPORT_EXT_RE_1), and imported from it."""
    node = cli.node
    node.add_remote_file(URL, IMAGE)
    node.run(["pvesm", "set", "fastData-shared-iso", "--content", "iso,vztmpl,import"], check=True)
    write_vms(original, [template("sha256:" + hashlib.sha256(IMAGE).hexdigest())])
    mark = node.mark()
    result = cli("--config-dir", str(original), "converge", "9100")
    assert result.exit_code == 0, result.output
    changed = mutations(node.since(mark))
    download = next(a for a in changed if a[:2] == ["pvesh", "create"])
    assert download[3:7] == [
        "--content",
        "import",
        "--filename",
        "jammy-server-cloudimg-amd64.qcow2",
    ]
    create = next(a for a in changed if a[:2] == ["qm", "create"])
    volid = "fastData-shared-iso:import/jammy-server-cloudimg-amd64.qcow2"
    assert f"quickOS-vm-disks:0,import-from={volid},discard=on" in create
    assert volid in node.run(["pvesm", "list", "fastData-shared-iso"]).stdout


def test_an_iso_storage_is_imported_by_absolute_path(cli: Cli, original: Path) -> None:
    """A storage without `import` (every PVE 8 as installed): an iso download, imported by
    its absolute path under the storage's template/iso/, which root may name."""
    node = cli.node
    node.add_remote_file(URL, IMAGE)
    write_vms(original, [template("sha256:" + hashlib.sha256(IMAGE).hexdigest())])
    mark = node.mark()
    result = cli("--config-dir", str(original), "converge", "9100")
    assert result.exit_code == 0, result.output
    assert (
        "`pvesm set fastData-shared-iso --content iso,vztmpl,import` makes it an import volume"
    ) in " ".join(result.output.split())
    create = next(a for a in mutations(node.since(mark)) if a[:2] == ["qm", "create"])
    path = "/fastData/shared-iso/template/iso/jammy-server-cloudimg-amd64.img"
    assert f"quickOS-vm-disks:0,import-from={path},discard=on" in create


def failed_converge(cli: Cli, original: Path, vmid: int) -> str:
    """``converge vmid``, which must fail having changed nothing: its output, one line."""
    mark = cli.node.mark()
    result = cli.subprocess("--config-dir", str(original), "converge", str(vmid))
    assert result.returncode == 1
    assert mutations(cli.node.since(mark)) == []
    return " ".join(result.stdout.split())


def test_a_storage_without_import_or_iso_names_the_fix(cli: Cli, original: Path) -> None:
    vm = {**template("sha256:" + "0" * 64), "image_storage": "fastData-shared-backups"}
    write_vms(original, [vm])
    assert (
        "VM 9100: storage 'fastData-shared-backups' cannot hold the cloud image "
        "jammy-server-cloudimg-amd64.img (content: backup; a directory storage with import or "
        "iso content is needed): enable import with `pvesm set fastData-shared-backups "
        "--content backup,import` (Proxmox VE 8.3 or later) or set image_storage"
    ) in failed_converge(cli, original, 9100)


def test_no_storage_with_snippets_names_the_fix(cli: Cli, original: Path) -> None:
    """Proxmox VE installs no storage with snippets content: with none, the vendor data has
    nowhere to go, and the error says how to enable it; nothing was changed."""
    node = cli.node
    node.add_remote_file(URL, IMAGE)
    node.run(["pvesm", "set", "local", "--content", "iso,vztmpl,backup"], check=True)
    write_vms(original, [template("sha256:" + hashlib.sha256(IMAGE).hexdigest())])
    assert (
        "VM 9100: no storage of this node holds snippets, which the cloud-init vendor data "
        "needs (Proxmox VE enables none at install): enable them on a directory storage, e.g. "
        "`pvesm set local --content iso,vztmpl,backup,snippets`, or set snippets_storage"
    ) in failed_converge(cli, original, 9100)
    vm = {**template("sha256:" + "0" * 64), "snippets_storage": "fastData-shared-iso"}
    write_vms(original, [{**vm, "vmid": 9102, "name": "other"}])
    assert (
        "VM 9102: storage 'fastData-shared-iso' holds no snippets (content: iso,vztmpl); "
        "cloud-init vendor data needs one: enable it with `pvesm set fastData-shared-iso "
        "--content iso,vztmpl,snippets` or set snippets_storage"
    ) in failed_converge(cli, original, 9102)
