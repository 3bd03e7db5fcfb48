"""The container settings admins use (tags, description, time zone, devices, IPv6, search
domain, protection, root password and keys) as pct takes and shows them (pve_sim/ctsetup.py
cites the sources)."""

from __future__ import annotations

import hashlib

from pve_sim.fixture import SimNode

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


def _create(node: SimNode, vmid: int, *extra: str, **kwargs: object) -> str:
    base = ["pct", "create", str(vmid), TEMPLATE, "--rootfs", "local-lvm:4"]
    proc = node.run([*base, *extra], **kwargs)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_settings_show_in_pct_config(node: SimNode) -> None:
    _create(
        node,
        410,
        "--tags",
        "web;Prod,web",
        "--timezone",
        "Europe/Berlin",
        "--dev0",
        "/dev/dri/renderD128,gid=44",
        "--description",
        "media server\n50% full",
        "--searchdomain",
        "lan.example",
        "--protection",
        "1",
        "--net0",
        "name=eth0,bridge=vmbr0,ip=10.1.0.5/24,gw=10.1.0.1,ip6=fd00::5/64,gw6=fd00::1",
    )
    config = node.run(["pct", "config", "410"]).stdout.splitlines()
    # pve-guest-common GuestHelpers.pm get_unique_tags: sorted, lower-cased, unique, ';'-joined.
    assert "tags: prod;web" in config
    assert "timezone: Europe/Berlin" in config
    assert "dev0: /dev/dri/renderD128,gid=44" in config
    # pct.pm `config` prints the description through PVE::Tools::encode_text.
    assert "description: media server%0A50%25 full" in config
    assert "searchdomain: lan.example" in config
    assert "protection: 1" in config
    net0 = next(line for line in config if line.startswith("net0:"))
    assert "ip6=fd00::5/64" in net0 and "gw6=fd00::1" in net0


def test_time_zone_must_be_in_zone_tab(node: SimNode) -> None:
    _create(node, 411)
    for zone in ("host", "UTC", "America/New_York"):
        assert node.run(["pct", "set", "411", "--timezone", zone]).returncode == 0
    proc = node.run(["pct", "set", "411", "--timezone", "Mars/Base"])
    assert proc.returncode == 255
    assert proc.stderr.splitlines() == [
        "400 Parameter verification failed.",
        "timezone: invalid format - invalid time zone 'Mars/Base'",
        "pct set <vmid> [OPTIONS]",
    ]


def test_a_device_must_exist_on_the_node(node: SimNode) -> None:
    _create(node, 412)
    proc = node.run(["pct", "set", "412", "--dev0", "/dev/dri/renderD129"])
    assert (proc.returncode, proc.stderr) == (255, "Device /dev/dri/renderD129 does not exist\n")
    (node.dir / "dev" / "not-a-device").write_text("regular file\n")
    proc = node.run(["pct", "set", "412", "--dev0", "/dev/not-a-device"])
    assert (proc.returncode, proc.stderr) == (255, "/dev/not-a-device is not a device\n")
    ok = node.run(["pct", "set", "412", "--dev0", "path=/dev/fuse,mode=0666,deny-write=1,uid=5"])
    assert ok.returncode == 0, ok.stderr
    assert (
        "dev0: path=/dev/fuse,mode=0666,deny-write=1,uid=5\n"
        in node.run(["pct", "config", "412"]).stdout
    )


def test_password_is_read_from_stdin_and_never_stored(node: SimNode, tmp_path) -> None:
    keys = tmp_path / "keys.pub"
    keys.write_text("ssh-ed25519 AAAAC3Nza test@example\n")
    _create(
        node,
        413,
        "--password",
        "--ssh-public-keys",
        str(keys),
        input="s3cret-pw\ns3cret-pw\n",
    )
    shadow = node.guest_path(413, "/etc/shadow").read_text()
    assert shadow.startswith("root:$6$pvesim$" + hashlib.sha256(b"s3cret-pw").hexdigest() + ":")
    authorized = node.guest_path(413, "/root/.ssh/authorized_keys")
    assert authorized.read_text() == keys.read_text()
    assert "s3cret-pw" not in node.run(["pct", "config", "413"]).stdout
    assert "s3cret-pw" not in (node.dir / "journal.jsonl").read_text()
    assert all("s3cret-pw" not in p.read_text() for p in node.conf(413).parent.iterdir())


def test_password_prompts_fail_like_pty_pm(node: SimNode) -> None:
    base = ["pct", "create", "414", TEMPLATE, "--rootfs", "local-lvm:4", "--password"]
    proc = node.run(base, input="only-once\n")
    assert (proc.returncode, proc.stderr) == (255, "EOF while reading password\n")
    proc = node.run(base, input="first-one\nsecond-one\n")
    assert (proc.returncode, proc.stderr) == (255, "passwords do not match\n")
    assert node.run(["pct", "status", "414"]).returncode == 255


def test_qm_set_stores_tags_like_get_unique_tags(node: SimNode) -> None:
    # qemu-server API2/Qemu.pm update_vm: $conf->{pending}->{tags} = get_unique_tags(...).
    assert node.run(["qm", "create", "415", "--name", "vm415"]).returncode == 0
    assert node.run(["qm", "set", "415", "--tags", "Web,db;web"]).returncode == 0
    assert "tags: db;web\n" in node.run(["qm", "config", "415"]).stdout
