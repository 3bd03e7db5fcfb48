"""Arguments a node refuses by schema are refused by the simulator, with Proxmox's texts.

The command line is parsed as pve-common src/PVE/JSONSchema.pm `get_options` does (Getopt::Long
configured from the method's schema) and checked by `PVE::JSONSchema::validate` through
src/PVE/RESTHandler.pm `handle`; the schema is Proxmox VE's API description that fakepve
vendors, the method the one each tool's cmddef names (pve_sim/cmddef.py). Every case exits
255 before anything runs and ends with the short usage line (RESTHandler.pm `cli_handler`).
"""

from __future__ import annotations

import pytest

from pve_sim.fixture import SimNode

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
CREATE = ["pct", "create", "300", TEMPLATE]
VERIFY = "400 Parameter verification failed."
PCT_CREATE = "pct create <vmid> <ostemplate> [OPTIONS]"
QM_CREATE = "qm create <vmid> [OPTIONS]"

CORPUS = {
    # JSONSchema.pm check_type: an integer that is not one.
    "wrong type": (
        [*CREATE, "--memory", "lots"],
        [VERIFY, "memory: type check ('integer') failed - got 'lots'", PCT_CREATE],
    ),
    # JSONSchema.pm check_prop: maximum (pve-container LXC/Config.pm cores: 1..8192).
    "out of range": (
        [*CREATE, "--cores", "9999"],
        [VERIFY, "cores: value must have a maximum value of 8192", PCT_CREATE],
    ),
    "out of range in a property string": (
        ["qm", "create", "400", "--net0", "virtio,bridge=vmbr0,tag=5000"],
        [
            VERIFY,
            "net0: invalid format - format error",
            "net0.tag: value must have a maximum value of 4094",
            QM_CREATE,
        ],
    ),
    # JSONSchema.pm check_prop: enum.
    "bad enum": (
        [*CREATE, "--ostype", "plan9"],
        [
            VERIFY,
            "ostype: value 'plan9' does not have a value in the enumeration 'debian, devuan, "
            "ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'",
            PCT_CREATE,
        ],
    ),
    "bad enum in a property string": (
        ["qm", "create", "400", "--scsi0", "local-lvm:1,cache=bogus"],
        [
            VERIFY,
            "scsi0: invalid format - format error",
            "scsi0.cache: value 'bogus' does not have a value in the enumeration 'none, "
            "writethrough, writeback, unsafe, directsync'",
            QM_CREATE,
        ],
    ),
    # JSONSchema.pm parse_property_string: a key the format does not have.
    "bad property key": (
        [*CREATE, "--net0", "name=eth0,bogus=1"],
        [
            VERIFY,
            "net0: invalid format - invalid key in comma-separated list property: bogus",
            PCT_CREATE,
        ],
    ),
    "missing required property key": (
        [*CREATE, "--mp0", "local-lvm:8"],
        [
            VERIFY,
            "mp0: invalid format - format error",
            "mp0.mp: property is missing and it is not optional",
            PCT_CREATE,
        ],
    ),
    # JSONSchema.pm pve_verify_disk_size, inside rootfs's format.
    "bad size in rootfs": (
        [*CREATE, "--rootfs", "local-lvm:8,size=huge"],
        [
            VERIFY,
            "rootfs: invalid format - format error",
            "rootfs.size: invalid format - value does not look like a valid disk size: huge",
            PCT_CREATE,
        ],
    ),
    # JSONSchema.pm pve_verify_startup_order.
    "bad startup": (
        [*CREATE, "--startup", "order=first"],
        [VERIFY, "startup: invalid format - unable to parse startup options", PCT_CREATE],
    ),
    # qemu-server src/PVE/QemuServer.pm ipconfig: ip is pve-ipv4-config (a CIDR, dhcp, manual).
    "ipconfig without prefix": (
        ["qm", "create", "400", "--ipconfig0", "ip=10.0.0.5"],
        [
            VERIFY,
            "ipconfig0: invalid format - format error",
            "ipconfig0.ip: invalid format - value does not look like a valid ipv4 network "
            "configuration",
            QM_CREATE,
        ],
    ),
    # The API description prints Perl patterns (`(?^:...)`): net[n].trunks in
    # pve-container src/PVE/LXC/Config.pm, features.mount.
    "perl pattern: trunks": (
        [*CREATE, "--net0", "name=eth0,trunks=10;x"],
        [
            VERIFY,
            "net0: invalid format - format error",
            "net0.trunks: value does not match the regex pattern",
            PCT_CREATE,
        ],
    ),
    "perl pattern: features mount": (
        [*CREATE, "--features", "mount=nfs/cifs"],
        [
            VERIFY,
            "features: invalid format - format error",
            "features.mount: value does not match the regex pattern",
            PCT_CREATE,
        ],
    ),
    # Formats the description only names: qemu-server QemuServer.pm $cicustom_fmt
    # ('pve-qm-cicustom', each key a pve-volume-id) ...
    "named format: cicustom": (
        ["qm", "create", "400", "--cicustom", "vendor=phoenix.yaml"],
        [
            VERIFY,
            "cicustom: invalid format - format error",
            "cicustom.vendor: invalid format - unable to parse volume ID 'phoenix.yaml'",
            QM_CREATE,
        ],
    ),
    # ... and pve-container LXC/Config.pm verify_ip_with_ll_iface ('lxc-ip-with-ll-iface-list').
    "named format: CT nameserver": (
        [*CREATE, "--nameserver", "10.0.0.1 dns.lan"],
        [
            VERIFY,
            "nameserver: invalid format - value does not look like a valid IP address",
            PCT_CREATE,
        ],
    ),
    # qemu-server src/PVE/CLI/qm.pm exec: timeout is an integer.
    "qm guest exec fractional timeout": (
        ["qm", "guest", "exec", "100", "--timeout", "7.5", "--", "true"],
        [
            VERIFY,
            "timeout: type check ('integer') failed - got '7.5'",
            "qm guest exec <vmid> [<extra-args>] [OPTIONS]",
        ],
    ),
    # pve-storage Storage/Plugin.pm content types ('pve-storage-content').
    "pvesm bad content": (
        ["pvesm", "status", "--content", "bogus"],
        [
            VERIFY,
            "content: invalid format - invalid content type 'bogus'",
            "pvesm status [OPTIONS]",
        ],
    ),
    # pve-access-control AccessControl.pm verify_username ('pve-userid').
    "pveum user without realm": (
        ["pveum", "user", "add", "admin"],
        [
            VERIFY,
            "userid: invalid format - value 'admin' does not look like a valid user name",
            "pveum user add <userid> [OPTIONS]",
        ],
    ),
    # Getopt::Long FindOption (configured by JSONSchema.pm get_options): unknown, ambiguous,
    # missing value; then "400 unable to parse option".
    "unknown option": (
        [
            "pvesh",
            "create",
            "/nodes/localhost/lxc/100/firewall/rules",
            "--type",
            "in",
            "--bogus",
            "1",
        ],
        [
            "Unknown option: bogus",
            "400 unable to parse option",
            "pvesh create <api_path> [OPTIONS]",
        ],
    ),
    "ambiguous abbreviation": (
        ["pct", "set", "100", "--ho", "x"],
        [
            "Option ho is ambiguous (hookscript, hostname)",
            "400 unable to parse option",
            "pct set <vmid> [OPTIONS]",
        ],
    ),
    "option without its value": (
        ["pct", "set", "100", "--hostname"],
        [
            "Option hostname requires an argument",
            "400 unable to parse option",
            "pct set <vmid> [OPTIONS]",
        ],
    ),
    # get_options: a boolean takes an optional value, so `--skiplock 100` reads 100 as it.
    "boolean eats the next word": (
        ["pct", "start", "--skiplock", "100"],
        ["400 unable to parse boolean option", "pct start <vmid> [OPTIONS]"],
    ),
    # get_options: arg_param.
    "too many arguments": (
        ["pct", "status", "100", "200"],
        ["400 too many arguments", "pct status <vmid> [OPTIONS]"],
    ),
    "not enough arguments": (
        ["pct", "create", "300"],
        ["400 not enough arguments", PCT_CREATE],
    ),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_refused_by_schema(node: SimNode, case: str) -> None:
    argv, expected = CORPUS[case]
    mark = node.mark()
    proc = node.run(argv)
    assert proc.returncode == 255
    lines = proc.stderr.splitlines()
    assert lines[: len(expected)] == expected
    assert node.since(mark)[0]["rc"] == 255
    assert node.run(["pct", "status", "300"]).returncode == 255  # nothing was created


def test_pvesh_path_without_handler_exits_1(node: SimNode) -> None:
    # pve-manager PVE/CLI/pvesh.pm extract_path_info.
    proc = node.run(["pvesh", "get", "/nodes/localhost/nope"])
    assert (proc.returncode, proc.stderr) == (
        1,
        "No 'get' handler defined for '/nodes/localhost/nope'\n",
    )


def test_what_a_node_accepts_still_runs(node: SimNode) -> None:
    # Abbreviations and any case are Getopt::Long's defaults; a -list option may repeat and
    # is joined with commas (JSONSchema.pm get_options); booleans take yes/no/on/off.
    create = [*CREATE, "--HOSTNAME", "ct300", "--rootf", "local-lvm:4", "--onboot", "yes"]
    assert node.run(create).returncode == 0, node.run(create).stderr
    proc = node.run(["pct", "set", "300", "--nameserver", "10.0.0.1", "--searchdomain", "lan"])
    assert proc.returncode == 0, proc.stderr
    proc = node.run(["pct", "set", "300", "--delete", "nameserver", "--delete", "searchdomain"])
    assert proc.returncode == 0, proc.stderr
    config = node.run(["pct", "config", "300"]).stdout
    assert "hostname: ct300" in config and "onboot: 1" in config
    assert "nameserver" not in config and "searchdomain" not in config
    assert node.run(["pct", "destroy", "300"]).returncode == 0
