"""phoenix_pve.parse and phoenix_pve.errors: parsers of the Proxmox tools' outputs and the error classifier."""

from __future__ import annotations

import pytest

from phoenix_core.hosts.base import CommandResult
from phoenix_core.testing import RecordingHost, Reply
from phoenix_pve import errors, parse
from phoenix_pve.errors import ErrorKind

CONFIG = """\
arch: amd64
cores: 2
description: web%3A front
hostname: Copy-Base
mp0: /srv/data,mp=/data
net0: name=eth0,bridge=vmbr0,firewall=1,gw=10.0.0.1,hwaddr=52:54:00:AA:BB:CC,ip=10.0.0.200/24,type=veth
rootfs: quickOS-lxc-disks:subvol-900-disk-0,size=16G
lxc.cgroup2.devices.allow: c 195:* rwm
lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file
lxc.cgroup2.devices.allow: c 243:* rwm

[pre-configured]
cores: 1
"""


def test_parse_config_keeps_raw_lines_in_order_and_stops_at_snapshots() -> None:
    parsed = parse.parse_config(CONFIG)
    assert parsed.options["rootfs"] == "quickOS-lxc-disks:subvol-900-disk-0,size=16G"
    assert parsed.options["cores"] == "2"  # the snapshot's "cores: 1" is not the current value
    assert parsed.get("description") == "web%3A front"
    assert [k for k, _ in parsed.raw] == [
        "lxc.cgroup2.devices.allow",
        "lxc.mount.entry",
        "lxc.cgroup2.devices.allow",
    ]
    assert parsed.raw[2] == ("lxc.cgroup2.devices.allow", "c 243:* rwm")


def test_parse_status() -> None:
    assert parse.parse_status("status: running\n") == "running"
    assert parse.parse_status("") is None


def test_parse_snapshot_tree_drops_current_and_reads_depth() -> None:
    text = (
        "`-> pre-configured              2026-11-25 23:17:41     no-description\n"
        " `-> final-form                 2026-11-25 23:18:00     ready for clones\n"
        "  `-> current                                           You are here!\n"
    )
    snaps = parse.parse_snapshots(text)
    assert [(s.name, s.depth) for s in snaps] == [("pre-configured", 0), ("final-form", 1)]
    assert snaps[1].taken == "2026-11-25 23:18:00"
    assert snaps[1].description == "ready for clones"


@pytest.mark.parametrize(
    "header",
    [
        "Name Type Status Total Used Available %",
        "Name Type Status Total (KiB) Used (KiB) Available (KiB) %",
    ],
)
def test_parse_pvesm_status_skips_either_header(header: str) -> None:
    text = (
        f"{header}\n"
        "local              dir     active   104857600   1024   104856576    0.00%\n"
        "nfs-off            nfs     disabled         0      0           0      N/A\n"
    )
    rows = parse.parse_pvesm_status(text)
    assert rows["local"].active and rows["local"].available == 104856576
    assert rows["nfs-off"].status == "disabled" and not rows["nfs-off"].active
    assert set(rows) == {"local", "nfs-off"}


def test_property_strings_normalise_order_booleans_sizes_and_mac_case() -> None:
    a = parse.normalize_props("name=eth0,bridge=vmbr0,firewall=1,hwaddr=52:54:00:aa:bb:cc")
    b = parse.normalize_props("hwaddr=52:54:00:AA:BB:CC,firewall=yes,bridge=vmbr0,name=eth0")
    assert a == b
    assert parse.normalize_value("16G") == parse.normalize_value("16384M")
    assert parse.normalize_value("1T") == parse.normalize_value("1TiB")


@pytest.mark.parametrize(
    ("text", "nbytes"),
    [
        # pve-common JSONSchema.pm parse_size: no unit is bytes; format_size writes a size
        # that is no KiB multiple without one (a disk imported from an odd-sized image).
        ("8", 8),
        ("2361393152", 2361393152),
        ("4K", 4096),
        ("512M", 512 << 20),
        ("32G", 32 << 30),
        ("1.5G", 3 << 29),
        ("2TiB", 2 << 40),
    ],
)
def test_size_values_read_as_proxmox_parse_size(text: str, nbytes: int) -> None:
    assert parse.size_bytes(text) == nbytes


@pytest.mark.parametrize("text", ["nonsense", "8GB", "8g", "-1G", ""])
def test_what_parse_size_refuses_is_no_size(text: str) -> None:
    assert parse.size_bytes(text) is None
    volume = parse.parse_props("local-lvm:vm-100-disk-0,size=8G", "volume")
    assert volume == {"volume": "local-lvm:vm-100-disk-0", "size": "8G"}
    assert parse.format_props(volume, ("volume",)) == "local-lvm:vm-100-disk-0,size=8G"


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("Configuration file 'nodes/pve1/lxc/999.conf' does not exist", ErrorKind.NOT_FOUND),
        ("CT 100 already exists on node 'pve1'", ErrorKind.EXISTS),
        ("CT is locked (backup)", ErrorKind.LOCKED),
        ("can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout", ErrorKind.LOCKED),
        ("wait failed - got timeout", ErrorKind.TIMEOUT),
        ("Permission check failed (/vms/100, VM.Config.Options)", ErrorKind.PERMISSION),
        (
            "400 Parameter verification failed.\nmemory: value must have a minimum value of 16\n",
            ErrorKind.VALIDATION,
        ),
        ("CT 100 already running", ErrorKind.STATE),
        ("something else broke", ErrorKind.OTHER),
    ],
)
def test_classify(stderr: str, kind: ErrorKind) -> None:
    assert errors.classify(stderr) is kind


def test_check_raises_in_plain_words_with_the_command() -> None:
    result = CommandResult(
        ["pct", "set", "100", "--memory", "1"],
        255,
        "",
        "400 Parameter verification failed.\nmemory: value must have a minimum value of 16\n"
        "pct set <vmid> [OPTIONS]\n",
    )
    with pytest.raises(errors.ProxmoxError) as info:
        errors.check(result)
    assert info.value.kind is ErrorKind.VALIDATION
    message = str(info.value)
    assert message.startswith("Proxmox rejected a parameter: `pct set 100 --memory 1` exited 255")
    assert message.endswith("memory: value must have a minimum value of 16")


def test_lock_errors_are_retried_with_growing_jittered_backoff_then_succeed() -> None:
    locked = Reply(255, stderr="CT is locked (snapshot)\n")
    host = RecordingHost().on(["pct"], [locked, locked, locked, Reply()])
    slept: list[float] = []
    result = errors.change_retrying(host, ["pct", "start", "100"], sleep=slept.append)
    assert result.ok and len(host.mutations) == 4
    # Doubling from 1 s, each wait jittered into [half, all] of its ceiling.
    for wait, ceiling in zip(slept, (1.0, 2.0, 4.0), strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_backoff_is_capped_and_jittered() -> None:
    assert errors.backoff(0, random=lambda: 1.0) == 1.0
    assert errors.backoff(3, random=lambda: 0.0) == 4.0
    assert errors.backoff(20, random=lambda: 1.0) == errors.MAX_BACKOFF


def test_lock_retries_last_the_lock_timeout_and_name_the_lock_and_its_holder() -> None:
    """A real full clone holds its source's lock (``disk``) for minutes (pve-cli.md §4)."""
    locked = Reply(255, stderr="CT is locked (disk)\n")
    host = RecordingHost().on(["pct"], [locked] * 1000)
    now = [0.0]
    with pytest.raises(errors.LockTimeout) as info:
        errors.change_retrying(
            host,
            ["pct", "clone", "900", "901"],
            lock_timeout=300,
            sleep=lambda s: now.__setitem__(0, now[0] + s),
            clock=lambda: now[0],
        )
    assert info.value.kind is ErrorKind.LOCKED
    assert now[0] == pytest.approx(300)
    # 1+2+4+...+30 jittered: about a dozen tries in five minutes, not hundreds.
    assert 8 <= len(host.mutations) <= 25
    assert str(info.value).startswith(
        "the CT is locked (disk), held by a clone copying from it, or a disk move or resize; "
        "still locked after 300 s of retries (raise --lock-timeout to wait longer): "
        "`pct clone 900 901` exited 255"
    )


def test_a_config_file_lock_names_the_file() -> None:
    locked = Reply(
        255, stderr="can't lock file '/run/lock/lxc/pve-config-100.lock' - got timeout\n"
    )
    host = RecordingHost().on(["pct"], [locked] * 3)
    with pytest.raises(errors.LockTimeout, match=r"lock file /run/lock/lxc/pve-config-100\.lock"):
        errors.change_retrying(host, ["pct", "set", "100"], lock_timeout=0, sleep=lambda _: None)
    assert len(host.mutations) == 1


def test_other_errors_are_not_retried() -> None:
    host = RecordingHost().on(
        ["pct"], [Reply(255, stderr="CT 100 already exists on node 'pve1'\n")]
    )
    with pytest.raises(errors.ProxmoxError) as info:
        errors.change_retrying(host, ["pct", "create", "100"], sleep=lambda _: None)
    assert info.value.kind is ErrorKind.EXISTS
    assert len(host.mutations) == 1
