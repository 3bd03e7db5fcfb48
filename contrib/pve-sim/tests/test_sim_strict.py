"""The simulator is strict where Proxmox is strict: each test cites the source it follows."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable

from pve_sim.fixture import SimNode


def test_pmxcfs_refuses_chmod_other_than_0640(node: SimNode, create_ct: Callable) -> None:
    # pve-cluster src/pmxcfs/pmxcfs.c cfs_fuse_chmod: -EPERM unless the mode is 0640. A plain
    # directory cannot refuse, so the next command fails for the writer (pmxcfs.py).
    create_ct(node, 400)
    conf = node.conf(400)
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640  # the simulator's own writes
    os.chmod(conf, 0o600)  # what a temp file chmodded 0600 (the old ssh write) leaves
    refused = node.run(["pct", "config", "400"])
    assert refused.returncode == 255
    assert "to 0600: Operation not permitted" in refused.stderr
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640  # pmxcfs never let it change
    assert node.run(["pct", "config", "400"]).returncode == 0
    os.chmod(conf, 0o640)  # the one mode pmxcfs accepts
    assert node.run(["pct", "config", "400"]).returncode == 0


def test_start_needs_subgid_for_idmap(node: SimNode, create_ct: Callable) -> None:
    # lxc src/lxc/conf.c lxc_map_ids runs newuidmap/newgidmap even as root; shadow
    # src/newgidmap.c verify_range allows only ranges root owns in /etc/subgid; pve-container
    # src/PVE/LXC.pm vm_start then dies "startup for container '<id>' failed" (exit 255).
    assert (node.dir / "etc" / "subgid").read_text() == "root:100000:65536\n"
    create_ct(node, 401, "--unprivileged", "1")
    conf = node.conf(401)
    maps = [
        "lxc.idmap: u 0 100000 65536",
        "lxc.idmap: g 0 100000 33",
        "lxc.idmap: g 33 33 1",
        "lxc.idmap: g 34 100034 65502",
    ]
    conf.write_text(conf.read_text() + "\n".join(maps) + "\n")
    failed = node.run(["pct", "start", "401"])
    assert failed.returncode == 255
    assert failed.stderr == "startup for container '401' failed\n"
    assert 'newgidmap: gid range [33-34) -> [33-34) not allowed"' in failed.stdout
    assert node.run(["pct", "status", "401"]).stdout == "status: stopped\n"
    with open(node.dir / "etc" / "subgid", "a") as fh:
        fh.write("root:33:1\n")
    assert node.run(["pct", "start", "401"]).returncode == 0


def test_snapshot_and_template_refuse_bind_mounts(node: SimNode, create_ct: Callable) -> None:
    # pve-guest-common AbstractConfig.pm snapshot_prepare + pve-container LXC/Config.pm
    # has_feature: a bind mount has no storage, so no snapshot feature (exit 255).
    create_ct(node, 402, "--mp0", "/srv/data,mp=/data")
    snap = node.run(["pct", "snapshot", "402", "s1"])
    assert (snap.returncode, snap.stderr) == (255, "snapshot feature is not available\n")
    # LXC.pm template_create fails inside the task; pct's template has no $upid_exit: exit 0.
    tpl = node.run(["pct", "template", "402"])
    assert (tpl.returncode, tpl.stderr) == (
        0,
        "Template feature is not available for '/srv/data'\n",
    )
    assert "template:" not in node.run(["pct", "config", "402"]).stdout


def test_clone_copies_and_destroy_removes_firewall(node: SimNode, create_ct: Callable) -> None:
    # pve-container API2/LXC.pm clone_vm: PVE::Firewall::clone_vmfw_conf; destroy_vm:
    # remove_vmfw_conf.
    create_ct(node, 403)
    base = "/nodes/localhost/lxc/{}/firewall"
    node.run(["pvesh", "set", base.format(403) + "/options", "--enable", "1"], check=True)
    node.run(
        ["pvesh", "create", base.format(403) + "/rules", "--type", "in", "--action", "ACCEPT"],
        check=True,
    )
    assert node.run(["pct", "clone", "403", "404"]).returncode == 0
    rules = node.run(["pvesh", "get", base.format(404) + "/rules", "--output-format", "json"])
    assert '"action":"ACCEPT"' in rules.stdout
    assert node.run(["pct", "destroy", "404"]).returncode == 0
    create_ct(node, 404)
    rules = node.run(["pvesh", "get", base.format(404) + "/rules", "--output-format", "json"])
    assert rules.stdout == "[]\n"


def test_pveam_list_and_download_failures(node: SimNode) -> None:
    # pve-manager PVE/CLI/pveam.pm index: die "Storage does not support templates!".
    listing = node.run(["pveam", "list", "local-lvm"])
    assert (listing.returncode, listing.stderr) == (255, "Storage does not support templates!\n")
    # API2/Nodes.pm apl_download checks the storage before its worker: exit 255.
    name = "debian-13-standard_13.1-2_amd64.tar.zst"
    pre = node.run(["pveam", "download", "local-lvm", name])
    assert (pre.returncode, pre.stderr) == (255, "storage 'local-lvm' does not support templates\n")


def test_exec_needs_the_program(node: SimNode, create_ct: Callable, tmp_path) -> None:
    # lxc src/lxc/attach.c lxc_attach_run_command: execvp ENOENT -> 127, ENOEXEC -> 126.
    create_ct(node, 405)
    node.run(["pct", "start", "405"], check=True)
    missing = node.run(["pct", "exec", "405", "--", "/opt/check.sh"])
    assert missing.returncode == 127
    assert missing.stderr.endswith('No such file or directory - Failed to exec "/opt/check.sh"\n')
    script = tmp_path / "check.sh"
    script.write_text("#!/bin/sh\ntrue\n")
    node.run(["pct", "push", "405", str(script), "/opt/check.sh", "--perms", "0755"], check=True)
    assert node.run(["pct", "exec", "405", "--", "/opt/check.sh"]).returncode == 0
    plain = tmp_path / "plain"
    plain.write_text("no shebang\n")
    node.run(["pct", "push", "405", str(plain), "/opt/plain", "--perms", "0755"], check=True)
    assert node.run(["pct", "exec", "405", "--", "/opt/plain"]).returncode == 126
    wrapped = ["timeout", "10", "env", "A=1", "bash", "/var/lib/none.sh"]
    gone = node.run(["pct", "exec", "405", "--", *wrapped])
    assert (gone.returncode, gone.stderr) == (
        127,
        "bash: /var/lib/none.sh: No such file or directory\n",
    )
    for base in (["sh", "-c", "true"], ["mkdir", "-p", "/x"], ["timeout", "5", "true"]):
        assert node.run(["pct", "exec", "405", "--", *base]).returncode == 0
    assert node.run(["pct", "exec", "405", "--", "nosuchprogram"]).returncode == 127


def test_invalid_raw_keys_warn_and_drop(node: SimNode, create_ct: Callable) -> None:
    # pve-container src/PVE/LXC/Config.pm parse_pct_config: keys outside $valid_lxc_conf_keys
    # (and the cgroup/cgroup2/prlimit/sysctl prefixes) warn on every command and are dropped.
    create_ct(node, 406)
    conf = node.conf(406)
    conf.write_text(conf.read_text() + "lxc.bogus.key: 1\nlxc.cgroup2.devices.allow: a\n")
    shown = node.run(["pct", "config", "406"])
    assert shown.stderr == "vm 406 - unable to parse config: lxc.bogus.key: 1\n"
    assert "lxc.bogus.key" not in shown.stdout
    assert "lxc.cgroup2.devices.allow: a" in shown.stdout
    status = node.run(["pct", "status", "406"])
    assert status.stderr == "vm 406 - unable to parse config: lxc.bogus.key: 1\n"
    # A command that writes the config back writes it without the dropped line.
    assert node.run(["pct", "set", "406", "--memory", "256"]).returncode == 0
    assert "lxc.bogus.key" not in conf.read_text()


def test_unknown_option_is_getopt_error(node: SimNode, template: str) -> None:
    # pve-common src/PVE/JSONSchema.pm get_options: Getopt::Long, then
    # "400 unable to parse option" and the usage; exit 255.
    proc = node.run(["pct", "create", "407", template, "--bogus", "1"])
    assert proc.returncode == 255
    assert proc.stderr.splitlines()[:2] == ["Unknown option: bogus", "400 unable to parse option"]


def test_non_ascii_mount_values(node: SimNode, create_ct: Callable) -> None:
    # Perl passes argument bytes through; the owner must neither crash nor lose the node.
    create_ct(node, 408)
    utf8 = node.run(["pct", "set", "408", "--mp0", "/srv/dätä,mp=/mnt/ü"])
    assert utf8.returncode == 0
    assert "mp0: /srv/dätä,mp=/mnt/ü" in node.run(["pct", "config", "408"]).stdout
    argv = [b"pct", b"set", b"408", b"--mp1", b"/srv/\xe9,mp=/mnt/x"]
    raw = subprocess.run(argv, env=node.env, capture_output=True, check=False)
    assert b"internal error" not in raw.stderr
    assert node.run(["pct", "status", "408"]).returncode == 0


def test_pve8_profile_is_the_default(node: SimNode, template: str) -> None:
    # pve-container 5.2.x API2/LXC.pm create_vm: unprivileged defaults to 0.
    assert node.run(["pct", "create", "409", template, "--rootfs", "local-lvm:4"]).returncode == 0
    assert "unprivileged" not in node.run(["pct", "config", "409"]).stdout
    assert node.run(["pct", "start", "409"]).returncode == 0
    clone = node.run(["pct", "clone", "409", "410", "--full", "1"])
    assert clone.stderr == "Cannot do full clones on a running container without snapshots\n"
    assert node.run(["pveversion", "-v"]).stdout.count("pve-container: 5.2.6") == 1


def test_pve9_profile(pve_node_factory) -> None:
    nine = pve_node_factory(pve=9)
    assert nine.run(["pveversion"]).stdout.startswith("pve-manager/9.0.10/")
    assert "Total (KiB)" in nine.run(["pvesm", "status"]).stdout.splitlines()[0]
    tpl = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
    assert nine.run(["pct", "create", "100", tpl, "--rootfs", "local-lvm:4"]).returncode == 0
    assert "unprivileged: 1" in nine.run(["pct", "config", "100"]).stdout
