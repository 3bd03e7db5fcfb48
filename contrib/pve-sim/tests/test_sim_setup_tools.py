"""The host tools `phoenix setup` runs: zpool, zfs, blkid, pvesm add/set/remove, pveum,
apt-get, dpkg-query, systemctl, exportfs, getent, useradd, usermod, smbpasswd, pdbedit, lspci,
nvidia-smi, modinfo, update-initramfs, visudo, curl and the NVIDIA runfile."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pve_sim.fixture import SimNode

A, B, C = "/dev/disk/by-id/nvme-A", "/dev/disk/by-id/nvme-B", "/dev/disk/by-id/nvme-C"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    seed = tmp_path_factory.mktemp("seed") / "seed.json"
    seed.write_text(
        json.dumps(
            {
                "host": {
                    "disks": {A: None, B: None, C: "ext4"},
                    "pci": [
                        {"slot": "01:00.0", "class": "0300", "vendor": "10de", "device": "2204"}
                    ],
                }
            }
        )
    )
    sim = SimNode.start(tmp_path_factory.mktemp("host"), seed=seed)
    yield sim
    sim.stop()


def test_zpool_create_list_and_refusals(host: SimNode) -> None:
    """OpenZFS cmd/zpool/zpool_vdev.c: a disk holding a filesystem needs -f ("use '-f' to
    override the following errors: ... contains a filesystem of type"), an unknown path is
    "cannot resolve path", a mirror needs two devices; zpool_main.c: `list -H` prints
    tab-separated fields without a header, an unknown pool is "cannot open 'x': no such pool"."""
    refused = host.run(["zpool", "create", "bad", C])
    assert refused.returncode == 1
    assert f"{C} contains a filesystem of type 'ext4'" in refused.stderr
    assert "use '-f' to override" in refused.stderr
    assert (
        host.run(["zpool", "create", "x", "/dev/nope"]).stderr
        == "cannot resolve path '/dev/nope'\n"
    )
    assert "at least 2" in host.run(["zpool", "create", "x", "mirror", A]).stderr
    # libzfs_pool.c zpool_valid_proplist / libzfs_util.c zprop_parse_value, zfs_nicestrtonum.
    for option, error in (
        ("ashift=13x", "invalid numeric suffix 'x'"),
        ("ashift=17", "property 'ashift' number 17 is invalid, only values between 9 and 16 "
         "are allowed."),
        ("autotrim=yes", "'autotrim' must be one of 'on | off'"),
        ("bogus=1", "invalid property 'bogus'"),
    ):  # fmt: skip
        refused = host.run(["zpool", "create", "-o", option, "x", A])
        assert (refused.returncode, refused.stderr) == (1, f"cannot create 'x': {error}\n")
    created = host.run(
        ["zpool", "create", "-o", "autotrim=on", "-O", "compression=lz4", "tank", "mirror", A, B]
    )
    assert created.returncode == 0, created.stderr
    assert host.run(["zpool", "list", "-H", "-o", "name,health"]).stdout == "tank\tONLINE\n"
    assert (
        host.run(["zpool", "list", "-H", "-o", "name", "nope"]).stderr
        == "cannot open 'nope': no such pool\n"
    )
    again = host.run(["zpool", "create", "tank2", A])
    assert "is part of active pool 'tank'" in again.stderr
    assert (
        host.run(["blkid", "-p", "-o", "export", "--", A]).stdout.splitlines()[1]
        == "TYPE=zfs_member"
    )


def test_zfs_create_get_set(host: SimNode) -> None:
    """OpenZFS cmd/zfs/zfs_main.c zfs_do_get: `-H -p -o name,property,value,source` prints
    exact numbers (zfs_nicestrtonum sizes in bytes, powers of 1024) and the source ("local",
    "default", "inherited from <ds>"); zfs_do_create: "parent does not exist", "dataset already
    exists"; a missing dataset is "cannot open 'x': dataset does not exist"."""
    if "tank" not in host.run(["zpool", "list", "-H", "-o", "name"]).stdout:
        host.run(["zpool", "create", "tank", "mirror", A, B], check=True)
    assert "parent does not exist" in host.run(["zfs", "create", "nope/ds"]).stderr
    host.run(["zfs", "create", "-o", "recordsize=16K", "-o", "quota=1.4T", "tank/ds"], check=True)
    assert "already exists" in host.run(["zfs", "create", "tank/ds"]).stderr
    got = host.run(
        [
            "zfs",
            "get",
            "-H",
            "-p",
            "-o",
            "name,property,value,source",
            "recordsize,quota,compression",
            "tank/ds",
        ]
    ).stdout.splitlines()
    assert got == [
        "tank/ds\trecordsize\t16384\tlocal",
        f"tank/ds\tquota\t{int(1.4 * 1024**4)}\tlocal",
        "tank/ds\tcompression\tlz4\tinherited from tank",
    ]
    host.run(["zfs", "set", "compression=zstd", "tank"], check=True)
    value = host.run(
        ["zfs", "get", "-H", "-p", "-o", "value,source", "compression", "tank/ds"]
    ).stdout
    assert value == "zstd\tinherited from tank\n"
    assert host.run(["zfs", "set", "recordsize=3K", "tank/ds"]).returncode == 1
    assert host.run(["zfs", "get", "-H", "quota", "tank/none"]).stderr == (
        "cannot open 'tank/none': dataset does not exist\n"
    )
    assert next(e["mutating"] for e in host.journal() if e["argv"][:2] == ["zfs", "get"]) is False


def test_blkid_probe(host: SimNode) -> None:
    """util-linux misc-utils/blkid.c: low-level probing (-p) of a device without any signature
    prints nothing and exits 2 (BLKID_EXIT_NOTFOUND); one that cannot be opened prints
    "error: DEV: ..." and exits 2; `-o export` prints KEY=value lines."""
    blank = host.run(["blkid", "-p", "-o", "export", "--", "/dev/disk/by-id/unused"])
    assert blank.returncode == 2 and "No such file" in blank.stderr
    signed = host.run(["blkid", "-p", "-o", "export", "--", C])
    assert signed.returncode == 0 and "TYPE=ext4" in signed.stdout


def test_pvesm_add_set_remove(host: SimNode) -> None:
    """pve-storage PVE/CLI/pvesm.pm: add/set/remove map to the storage config API's
    create/update/delete and print nothing; a duplicate id fails "storage ID 'x' already
    defined"."""
    assert (
        host.run(
            ["pvesm", "add", "dir", "bk", "--path", "/tank/bk", "--content", "backup"]
        ).returncode
        == 0
    )
    dup = host.run(["pvesm", "add", "dir", "bk", "--path", "/tank/bk"])
    assert dup.returncode == 255 and "already defined" in dup.stderr
    assert host.run(["pvesm", "set", "bk", "--content", "backup,iso"]).returncode == 0
    cfg = json.loads(host.run(["pvesh", "get", "/storage/bk", "--output-format", "json"]).stdout)
    assert cfg["content"] == "backup,iso"
    assert host.run(["pvesm", "remove", "bk"]).returncode == 0
    assert [e["mutating"] for e in host.journal() if e["argv"][0] == "pvesm"][-3:] == [True] * 3


def test_pvesm_add_activates_first(host: SimNode) -> None:
    """pve-storage API2/Storage/Config.pm create: the storage is activated before storage.cfg
    is written, and an activation error is "create storage failed: ..." with nothing added.
    DirPlugin activate_storage: `is_mountpoint` needs a mounted file system; NFSPlugin: the
    server must answer (check_connection, "storage 'ID' is not online"), then mount.nfs must
    mount the export (nfs-utils utils/mount/error.c texts behind "mount error: ")."""
    if "tank" not in host.run(["zpool", "list", "-H", "-o", "name"]).stdout:
        host.run(["zpool", "create", "tank", "mirror", A, B], check=True)

    def listed() -> set[str]:
        out = host.run(["pvesh", "get", "/storage", "--output-format", "json"]).stdout
        return {s["storage"] for s in json.loads(out)}

    unmounted = ["pvesm", "add", "dir", "xdir", "--path", "/nonexistent", "--is_mountpoint", "yes"]
    refused = host.run(unmounted)
    assert (refused.returncode, refused.stderr) == (
        255,
        "create storage failed: unable to activate storage 'xdir' - directory is expected to "
        "be a mount point but is not mounted: '/nonexistent'\n",
    )
    assert "xdir" not in listed()
    host.run(["zfs", "create", "tank/bk2"], check=True)
    mounted = ["pvesm", "add", "dir", "xdir", "--path", "/tank/bk2", "--is_mountpoint", "yes"]
    host.run(mounted, check=True)
    assert host.run(["zfs", "get", "-H", "-o", "value", "mounted", "tank/bk2"]).stdout == "yes\n"
    nfs = ["pvesm", "add", "nfs", "xnfs", "--export", "/tank/bk2", "--options", "vers=4.2"]
    offline = host.run([*nfs, "--server", "10.9.9.9"])
    assert offline.stderr == "create storage failed: storage 'xnfs' is not online\n"
    host.run(["apt-get", "install", "-y", "nfs-kernel-server"], check=True)
    missing = host.run([*nfs, "--server", "127.0.0.1"])
    assert missing.stderr == (
        "create storage failed: mount error: mount.nfs: mounting 127.0.0.1:/tank/bk2 failed, "
        "reason given by server: No such file or directory\n"
    )
    exports = host.dir / "etc" / "exports.d" / "x.exports"
    exports.parent.mkdir(parents=True, exist_ok=True)
    exports.write_text("/tank/bk2 10.0.0.2(rw)\n")
    host.run(["exportfs", "-ra"], check=True)
    denied = host.run([*nfs, "--server", "127.0.0.1"])
    assert "mount.nfs: access denied by server while mounting 127.0.0.1:/tank/bk2" in denied.stderr
    assert "xnfs" not in listed()
    exports.write_text("/tank/bk2 127.0.0.1(rw)\n")
    host.run(["exportfs", "-ra"], check=True)
    host.run([*nfs, "--server", "127.0.0.1"], check=True)
    config = json.loads(
        host.run(["pvesh", "get", "/storage/xnfs", "--output-format", "json"]).stdout
    )
    assert config["path"] == "/mnt/pve/xnfs"
    for storage in ("xdir", "xnfs"):
        host.run(["pvesm", "remove", storage], check=True)
    exports.unlink()
    host.run(["exportfs", "-ra"], check=True)


def test_pveum_users_and_acl(host: SimNode) -> None:
    """pve-access-control PVE/CLI/pveum.pm: `user list`/`acl list --output-format json` print
    the API's arrays (userid/enable/expire; path/type/ugid/roleid/propagate); adding an
    existing user fails "create user failed: user 'x' already exists"."""
    assert host.run(["pveum", "user", "add", "ops@pam"]).returncode == 0
    assert "already exists" in host.run(["pveum", "user", "add", "ops@pam"]).stderr
    users = json.loads(host.run(["pveum", "user", "list", "--output-format", "json"]).stdout)
    assert {u["userid"] for u in users} == {"root@pam", "ops@pam"}
    host.run(
        ["pveum", "acl", "modify", "/", "--users", "ops@pam", "--roles", "Administrator"],
        check=True,
    )
    acl = json.loads(host.run(["pveum", "acl", "list", "--output-format", "json"]).stdout)
    assert {
        "path": "/",
        "type": "user",
        "ugid": "ops@pam",
        "roleid": "Administrator",
        "propagate": 1,
    } in acl


def test_apt_dpkg_systemctl(host: SimNode) -> None:
    """dpkg src/query/main.c: `-W -f` formats ${Package} ${Version} ${db:Status-Abbrev}, an
    unknown package is "dpkg-query: no packages found matching X" with exit 1; apt-get
    (apt-private/private-install.cc, apt-pkg/cacheset.cc) "E: Unable to locate package X",
    exit 100; systemctl is-enabled exits 1 for a disabled unit, is-active 3 for an inactive one."""
    fmt = "-f=${Package}\t${db:Status-Abbrev}\t${Version}\n"
    missing = host.run(["dpkg-query", "-W", fmt, "samba"])
    assert (missing.returncode, missing.stderr) == (
        1,
        "dpkg-query: no packages found matching samba\n",
    )
    assert host.run(["apt-get", "install", "-y", "no-such-pkg"]).returncode == 100
    host.run(["apt-get", "install", "-y", "samba"], check=True)
    assert host.run(["dpkg-query", "-W", fmt, "samba"]).stdout.startswith("samba\tii \t2:4.17")
    assert host.run(["systemctl", "is-enabled", "smbd"]).stdout == "enabled\n"
    unit = host.dir / "etc" / "systemd" / "system" / "x.service"
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text("[Service]\n")
    assert host.run(["systemctl", "is-enabled", "x.service"]).returncode == 1
    assert host.run(["systemctl", "is-active", "x.service"]).returncode == 3
    host.run(["systemctl", "enable", "--now", "x.service"], check=True)
    assert host.run(["systemctl", "is-active", "x.service"]).stdout == "active\n"
    flags = {e["argv"][1]: e["mutating"] for e in host.journal() if e["argv"][0] == "systemctl"}
    assert flags == {"is-enabled": False, "is-active": False, "enable": True}


def test_exportfs_reads_exports_d(host: SimNode) -> None:
    """nfs-utils utils/exportfs/exportfs.c: `-ra` re-exports /etc/exports and
    /etc/exports.d/*.exports. support/nfs/exports.c parseopts: any of its keywords passes
    (`fsid=0`, `anonuid=`, `sec=krb5` ...), another is `FILE:LINE: unknown keyword "X"`;
    exportfs.c validate_export: a missing path is `Failed to stat PATH`. Both skip the entry,
    export the rest and exit 1 (L_ERROR sets export_errno)."""
    directory = host.dir / "etc" / "exports.d"
    directory.mkdir(parents=True, exist_ok=True)
    (host.dir / "tank" / "ds").mkdir(parents=True, exist_ok=True)
    (directory / "phoenix.exports").write_text(
        "/tank/ds 10.0.0.2(rw,sync,no_subtree_check,fsid=0,anonuid=1000,anongid=1000,sec=sys)\n"
    )
    assert host.run(["exportfs", "-ra"]).returncode == 0
    assert host.run(["exportfs", "-s"]).stdout == (
        "/tank/ds  10.0.0.2(rw,sync,no_subtree_check,fsid=0,anonuid=1000,anongid=1000,sec=sys)\n"
    )
    (directory / "bad.exports").write_text("/tank/ds 10.0.0.3(rw,bogus)\n/nowhere 10.0.0.4(rw)\n")
    bad = host.run(["exportfs", "-ra"])
    assert bad.returncode == 1
    assert f'exportfs: {directory / "bad.exports"}:1: unknown keyword "bogus"\n' in bad.stderr
    assert "exportfs: Failed to stat /nowhere: No such file or directory\n" in bad.stderr
    assert host.run(["exportfs", "-s"]).stdout.startswith("/tank/ds  10.0.0.2(")
    (directory / "bad.exports").unlink()
    assert host.run(["exportfs", "-ra"]).returncode == 0


def test_accounts_and_samba(host: SimNode) -> None:
    """shadow src/useradd.c (exit 9 E_NAME_IN_USE, 6 unknown group), glibc nss getent (exit 2
    key not found), samba source3/utils/smbpasswd.c (-s reads the password twice from stdin,
    "Failed to add entry for user X." without a Unix account) and pdbedit -L."""
    assert host.run(["getent", "passwd", "heads"]).returncode == 2
    fail = host.run(["smbpasswd", "-s", "-a", "heads"], input="pw\npw\n")
    assert fail.stderr == "Failed to add entry for user heads.\n"
    host.run(["useradd", "-m", "-s", "/bin/bash", "heads"], check=True)
    assert host.run(["useradd", "heads"]).returncode == 9
    assert host.run(["usermod", "-aG", "nosuch", "heads"]).returncode == 6
    host.run(["usermod", "-aG", "sudo", "heads"], check=True)
    assert host.run(["getent", "group", "sudo"]).stdout == "sudo:x:27:heads\n"
    assert host.run(["smbpasswd", "-s", "-a", "heads"], input="pw\npw\n").returncode == 0
    assert host.run(["pdbedit", "-L"]).stdout.startswith("heads:")
    assert "pw" not in json.dumps(host.journal())


def test_gpu_driver_initramfs_visudo(host: SimNode, tmp_path: Path) -> None:
    """pciutils lspci -n -mm (slot "class" "vendor" "device"); nvidia-smi exits 9 when it
    cannot talk to a driver; kmod modinfo "Module X not found."; the runfile installs on disk
    and the module loads at the next boot; visudo -c insists on mode 0440 (sudo
    plugins/sudoers/visudo.c check_owner "bad permissions, should be mode 0440")."""
    assert host.run(["lspci", "-n", "-mm"]).stdout == '01:00.0 "0300" "10de" "2204"\n'
    assert (
        host.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]).returncode
        == 9
    )
    assert host.run(["modinfo", "-F", "version", "nvidia"]).returncode == 1
    run = tmp_path / "NVIDIA-Linux-x86_64-580.76.05.run"
    url = "https://us.download.nvidia.com/XFree86/Linux-x86_64/580.76.05/" + run.name
    host.run(["curl", "-fsSL", "-o", str(run), url], check=True)
    assert (
        hashlib.sha256(run.read_bytes()).hexdigest()
        == hashlib.sha256((host.bin_dir / "pct").read_bytes()).hexdigest()
    )
    assert "kernel source tree" in host.run([str(run), "--silent"]).stderr
    host.run(["apt-get", "install", "-y", "proxmox-default-headers", "build-essential"], check=True)
    host.run([str(run), "--silent"], check=True)
    assert host.run(["modinfo", "-F", "version", "nvidia"]).stdout == "580.76.05\n"
    host._ctl(op="reboot")
    smi = host.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    assert smi.stdout == "580.76.05\n"
    assert host.run(["update-initramfs", "-u"]).returncode == 0
    sudoers = tmp_path / "phoenix"
    sudoers.write_text("heads ALL=(ALL:ALL) ALL\n")
    os.chmod(sudoers, 0o644)
    # Proxmox VE ships without sudo: no visudo until it is installed (bash's 127).
    missing = host.run(["visudo", "-cf", str(sudoers)])
    assert (missing.returncode, missing.stderr) == (
        127,
        "bash: line 1: visudo: command not found\n",
    )
    host.run(["apt-get", "install", "-y", "sudo"], check=True)
    assert "bad permissions" in host.run(["visudo", "-cf", str(sudoers)]).stderr
    os.chmod(sudoers, 0o440)
    assert host.run(["visudo", "-cf", str(sudoers)]).stdout == f"{sudoers}: parsed OK\n"
    sudoers.chmod(0o640)
    sudoers.write_text("heads ALL=(ALL:ALL\n")
    sudoers.chmod(0o440)
    assert host.run(["visudo", "-cf", str(sudoers)]).returncode == 1


def test_timedatectl(host: SimNode) -> None:
    """systemd timedatectl: `show -p Timezone --value` prints the zone (not mutating);
    set-timezone refuses a zone tzdata does not have, "Failed to set time zone: Invalid or not
    installed time zone 'X'" (timedated method_set_timezone), exit 1."""
    assert host.run(["timedatectl", "show", "-p", "Timezone", "--value"]).stdout == "Etc/UTC\n"
    bad = host.run(["timedatectl", "set-timezone", "Mars/Base"])
    assert bad.returncode == 1 and "Invalid or not installed time zone 'Mars/Base'" in bad.stderr
    host.run(["timedatectl", "set-timezone", "America/New_York"], check=True)
    assert host.run(["timedatectl", "show", "-p", "Timezone", "--value"]).stdout == (
        "America/New_York\n"
    )
    flags = [e["mutating"] for e in host.journal() if e["argv"][0] == "timedatectl"]
    assert flags == [False, True, True, False]


def test_fresh_node_files(host: SimNode) -> None:
    """A fresh node's files as the Proxmox VE installer leaves them: /etc/hostname, /etc/hosts
    mapping the name to the node's address (not 127.0.1.1), the enterprise repository of its
    Debian release (PVE 8: bookworm, one-line format), /etc/os-release."""
    assert (host.dir / "etc" / "hostname").read_text() == "pve1\n"
    assert " pve1.example.invalid pve1\n" in (host.dir / "etc" / "hosts").read_text()
    enterprise = host.dir / "etc" / "apt" / "sources.list.d" / "pve-enterprise.list"
    assert "bookworm pve-enterprise" in enterprise.read_text()
    assert "VERSION_CODENAME=bookworm\n" in (host.dir / "etc" / "os-release").read_text()


def test_apparmor_parser_and_update_grub(host: SimNode, tmp_path: Path) -> None:
    """apparmor parser/parser_main.c: `-r` (re)loads the profiles a file defines, which the
    kernel then lists in /sys/kernel/security/apparmor/profiles as "NAME (enforce)"; a file
    that does not parse exits 1. grub's update-grub prints its progress on stderr; after a
    reboot the kernel command line carries what a grub.d drop-in appends."""
    good = tmp_path / "p"
    good.write_text("profile test-prof flags=(attach_disconnected) {\n  mount,\n}\n")
    assert host.run(["apparmor_parser", "-r", "-W", "--", str(good)]).returncode == 0
    listing = host.dir / "sys" / "kernel" / "security" / "apparmor" / "profiles"
    assert "test-prof (enforce)\n" in listing.read_text()
    bad = tmp_path / "bad"
    bad.write_text("profile broken {\n")
    assert host.run(["apparmor_parser", "-r", str(bad)]).returncode == 1
    # lxc's profiles use @{PROC}, which only tunables/global (included by lxc-containers)
    # declares: loaded alone they fail (apparmor parser/parser_variable.c).
    lxc = host.dir / "etc" / "apparmor.d" / "lxc"
    (lxc / "lxc-extra").write_text(
        "profile lxc-extra {\n  #include <abstractions/lxc/container-base>\n}\n"
    )
    alone = host.run(["apparmor_parser", "-r", "-W", "--", str(lxc / "lxc-extra")])
    assert (alone.returncode, alone.stderr) == (
        1,
        "Found reference to variable PROC, but is never declared\n",
    )
    assert "lxc-extra (enforce)" not in listing.read_text()
    containers = str(host.dir / "etc" / "apparmor.d" / "lxc-containers")
    assert host.run(["apparmor_parser", "-r", "-W", "--", containers]).returncode == 0
    assert "lxc-extra (enforce)\n" in listing.read_text()
    assert "lxc-container-default-with-nesting (enforce)\n" in listing.read_text()
    (lxc / "lxc-extra").unlink()
    dropin = host.dir / "etc" / "default" / "grub.d" / "x.cfg"
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text('GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT iommu=pt"\n')
    assert "Generating grub configuration file" in host.run(["update-grub"]).stderr
    host._ctl(op="reboot")
    assert "iommu=pt" in (host.dir / "proc" / "cmdline").read_text().split()
    dropin.unlink()


def test_zfs_arc_limit_takes_only_values_in_range(host: SimNode, tmp_path: Path) -> None:
    """openzfs module/os/linux/zfs/arc_os.c param_set_arc_max stores any number; arc.c
    arc_tuning_update applies it only when >= 64 MiB, above arc_c_min (memory / 32) and below
    the memory; arcstats (spl-kstat.c named rows) shows the limit in use. zfs 2.2
    arc_default_max is half the memory (the PVE 8 node has 64 GiB); arc_init takes a
    modprobe.d value at the next boot."""
    gib = 1024**3
    param = host.dir / "sys" / "module" / "zfs" / "parameters" / "zfs_arc_max"
    stats = host.dir / "proc" / "spl" / "kstat" / "zfs" / "arcstats"

    def c_max() -> int:
        row = next(r for r in stats.read_text().splitlines() if r.startswith("c_max "))
        return int(row.split()[2])

    assert (host.dir / "proc" / "meminfo").read_text() == "MemTotal:       67108864 kB\n"
    assert (param.read_text(), c_max()) == ("0\n", 32 * gib)
    assert "c_min                           4    2147483648\n" in stats.read_text()
    for value in (8 * gib, 2 * gib, 64 * gib, 16 * 1024**2):  # in range, then three outside
        host.run(["tee", "--", str(param)], input=f"{value}\n", check=True)
        assert param.read_text() == f"{value}\n"
        assert c_max() == 8 * gib
    bad = host.run(["tee", str(param)], input="lots\n")
    assert (bad.returncode, bad.stderr) == (1, f"tee: {param}: Invalid argument\n")
    conf = host.dir / "etc" / "modprobe.d" / "zfs.conf"
    conf.write_text(f"options zfs zfs_arc_max={4 * gib}\n")
    host._ctl(op="reboot")
    assert (param.read_text(), c_max()) == (f"{4 * gib}\n", 4 * gib)
    conf.unlink()
    host._ctl(op="reboot")
    assert c_max() == 32 * gib


def test_a_transient_timer_runs_its_command_when_it_elapses_unless_stopped(
    host: SimNode, tmp_path: Path
) -> None:
    """systemd-run(1) (field report): with a timer option only NAME.timer starts; NAME.service
    runs the command when it elapses; `systemctl stop NAME.timer` unloads both. The restored
    cluster.fw is the datacenter firewall again (pve-firewall load_clusterfw_conf)."""
    options, rules = "/cluster/firewall/options", "/cluster/firewall/rules"
    host.run(["pvesh", "set", options, "--policy_in", "ACCEPT"], check=True)
    host.run(["pvesh", "create", rules, "--type", "in", "--action", "ACCEPT", "--proto", "tcp",
              "--dport", "22", "--comment", "ssh # in", "--enable", "1"], check=True)  # fmt: skip
    cluster = host.pve_etc / "firewall" / "cluster.fw"
    saved = host.dir / "run" / "phoenix" / "cluster.fw.before"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(cluster.read_text())
    restore = ["cp", "--", "/run/phoenix/cluster.fw.before", "/etc/pve/firewall/cluster.fw"]
    arm = ["systemd-run", "--unit=revert", "--on-active=120", "--", *restore]
    armed = host.run(arm)
    assert armed.returncode == 0, armed.stderr
    assert "Running timer as unit: revert.timer" in armed.stderr
    again = host.run(arm)
    assert again.returncode == 1
    assert "revert.timer already exists" in again.stderr
    assert host.run(["systemctl", "is-active", "revert.timer"]).stdout == "active\n"
    host.run(["pvesh", "set", options, "--policy_in", "DROP"], check=True)
    host.run(["pvesh", "delete", f"{rules}/0"], check=True)
    assert host.elapse_timers() == ["revert"]
    assert cluster.read_text() == saved.read_text()
    got = json.loads(host.run(["pvesh", "get", options, "--output-format", "json"]).stdout)
    assert got["policy_in"] == "ACCEPT"
    listed = json.loads(host.run(["pvesh", "get", rules, "--output-format", "json"]).stdout)
    assert [(r["dport"], r["comment"], r["enable"]) for r in listed] == [("22", "ssh # in", 1)]
    assert host.run(["systemctl", "is-active", "revert.timer"]).stdout == "inactive\n"
    # Stopped before it elapses: the command never runs.
    assert host.run(arm).returncode == 0
    host.run(["systemctl", "stop", "revert.timer"], check=True)
    host.run(["pvesh", "set", options, "--policy_in", "DROP"], check=True)
    assert host.elapse_timers() == []
    assert "policy_in: DROP" in cluster.read_text()
    stopped = host.run(["systemctl", "stop", "revert.timer"])
    assert stopped.returncode == 5
