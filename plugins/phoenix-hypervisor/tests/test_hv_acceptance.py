"""`phoenix setup` on the simulator with the old hypervisor file: dry run, convergence, a
second run that changes nothing, the safety rules, and per-feature drift repaired."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hv_support import DISKS, SAMBA_PASSWORD, configure, mutating, phoenix, start
from phoenix_hypervisor.manager import NAMES
from phoenix_hypervisor.order import ORDER

from pve_sim import conformance
from pve_sim.fixture import SimNode

FEATURE_STEPS = {
    "apt": "apt: no-subscription repository",
    "packages": "packages",
    "time": "time: zone",
    "hosts": "hosts: node name",
    "zfs": "zfs: datasets",
    "storage": "storage: datasets",
    "nfs": "nfs: exports",
    "samba": "samba: shares",
    "users": "users: account",
    "firewall": "firewall: datacenter",
    "nvidia": "nvidia: driver",
    "apparmor": "apparmor: profiles",
    "dns": "dns: dnsmasq",
}


def host_outcome(result: Any) -> dict[str, Any]:
    """The default node's host: its status as the summary counts it, every feature's changes."""
    document = json.loads(result.stdout)
    assert document["schema"] == "phoenix/run/v1"
    features = [o for o in document["outcomes"] if str(o["id"]).startswith("host")]
    statuses = {o["status"] for o in features}
    status = next(s for s in ("failed", "changed", "planned", "skipped", "ok") if s in statuses)
    return {"status": status, "changes": [c for o in features for c in o["changes"]]}


def steps_changed(outcome: dict[str, Any]) -> set[str]:
    return {c["step"] for c in outcome["changes"]}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[SimNode]:
    sim = start(tmp_path)
    yield sim
    sim.stop()


def test_feature_order_is_one_list() -> None:
    assert NAMES == ORDER
    docs = (Path(__file__).resolve().parents[3] / "docs" / "hypervisor.md").read_text()
    listed = [line.split("`")[1] for line in docs.splitlines() if line.startswith("| `")]
    assert listed[: len(ORDER)] == list(ORDER)


def test_dry_run_lists_every_feature_and_changes_nothing(node: SimNode, tmp_path: Path) -> None:
    etc = configure(tmp_path)
    mark = node.mark()
    result = phoenix(node, etc, "setup", "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    outcome = host_outcome(result)
    assert outcome["status"] == "planned"
    assert set(FEATURE_STEPS.values()) <= steps_changed(outcome)
    assert mutating(node, mark) == []
    assert not (node.dir / "etc" / "exports.d").exists()
    assert not (node.dir / "etc" / "sudoers.d" / "phoenix-phoenix_admin").exists()


def test_setup_converges_reports_reboot_and_second_run_changes_nothing(
    node: SimNode, tmp_path: Path
) -> None:
    etc = configure(tmp_path)
    first = phoenix(node, etc, "-vv", "setup", "--allow-destructive")
    assert first.returncode == 0, first.stderr
    # The Samba password, even at the most verbose, never on an argv, a log or the terminal.
    assert node.run(["pdbedit", "-L"]).stdout.startswith("heads:")
    assert SAMBA_PASSWORD not in json.dumps(node.journal())
    assert SAMBA_PASSWORD not in first.stdout + first.stderr
    for log in (tmp_path / "logs").rglob("*.log"):
        assert SAMBA_PASSWORD not in log.read_text()
    assert "reboot required (nvidia: driver 580.76.05 installed" in first.stderr
    assert not any(e["argv"][:2] == ["systemctl", "reboot"] for e in node.journal())
    # apt and packages are targets of their own: the run refreshes the lists once between them.
    apt = [e["argv"][:2] for e in node.journal() if e["argv"][0] == "apt-get"]
    assert apt == [["apt-get", "update"], ["apt-get", "install"]]
    storages = json.loads(node.run(["pvesh", "get", "/storage", "--output-format", "json"]).stdout)
    assert "quickOS-lxc-disks" in {s["storage"] for s in storages}
    mark = node.mark()
    second = phoenix(node, etc, "setup", "-o", "json")
    assert second.returncode == 0, second.stderr
    assert mutating(node, mark) == []
    assert not any(e["argv"][0] == "apt-get" for e in node.since(mark))
    assert host_outcome(second)["changes"] == []
    # Every command shape sent is in docs/pve-sim.md's conformance table, citing its source.
    assert conformance.unlisted(node.journal(), conformance.documented()) == []
    status = phoenix(node, etc, "status", "host", "-o", "json")
    target = json.loads(status.stdout)["targets"][0]
    assert target["status"] == "reboot required"
    assert target["details"]["nvidia"] == "reboot required"
    assert target["details"]["zfs"] == "in sync"
    text = phoenix(node, etc, "status", "host").stdout
    assert "  host nvidia: reboot required" in text.splitlines()


def test_allow_reboot_reboots_once(node: SimNode, tmp_path: Path) -> None:
    etc = configure(tmp_path)
    result = phoenix(node, etc, "setup", "--allow-destructive", "--allow-reboot")
    assert result.returncode == 0, result.stderr
    reboots = [e for e in node.journal() if e["argv"][:2] == ["systemctl", "reboot"]]
    assert len(reboots) == 1
    again = phoenix(node, etc, "setup", "--allow-reboot")
    assert "reboot required" not in again.stderr
    assert len([e for e in node.journal() if e["argv"][:2] == ["systemctl", "reboot"]]) == 1


def test_pool_needs_allow_destructive_other_features_still_run(
    node: SimNode, tmp_path: Path
) -> None:
    etc = configure(tmp_path)
    result = phoenix(node, etc, "setup")
    assert result.returncode == 1
    assert "pool quickOS needs a new pool on" in result.stdout
    assert "--allow-destructive" in result.stdout
    assert not any(e["argv"][0] == "zpool" and e["mutating"] for e in node.journal())
    # zfs failed; what needs it (storage, nfs, samba) was skipped, the rest ran.
    assert node.run(["getent", "passwd", "phoenix_admin"]).returncode == 0
    assert not any(e["argv"][:2] == ["pvesm", "add"] for e in node.journal())


def test_disk_with_a_signature_is_never_touched(tmp_path: Path) -> None:
    sim = start(tmp_path, {"disks": {DISKS[0]: None, DISKS[1]: "ext4", DISKS[2]: None}})
    try:
        etc = configure(tmp_path)
        result = phoenix(sim, etc, "setup", "--allow-destructive", "zfs")
        assert result.returncode == 1
        assert f"{DISKS[1]} holds ext4" in result.stdout
        blkid = sim.run(["blkid", "-p", "-o", "export", "--", DISKS[1]]).stdout
        assert "TYPE=ext4" in blkid
        # The feature failed whole: not even the pool on the blank disk was created.
        assert not [e for e in sim.journal() if e["mutating"]]
    finally:
        sim.stop()


def test_missing_samba_password_fails_that_feature_only(node: SimNode, tmp_path: Path) -> None:
    etc = configure(tmp_path, password=False)
    result = phoenix(node, etc, "setup", "--allow-destructive")
    assert result.returncode == 1
    assert "samba user heads: no password; put it in" in result.stdout
    assert node.run(["pdbedit", "-L"]).stdout == ""
    assert node.run(["getent", "passwd", "phoenix_admin"]).returncode == 0


def test_bad_configuration_is_exit_2_and_runs_nothing(node: SimNode, tmp_path: Path) -> None:
    etc = configure(tmp_path)
    path = etc / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["zfs"]["datasets"][1]["properties"] = "recordsize=16K,compresion=lz4"
    data["zfs"]["pools"][1]["disks"] = ["relative/disk"]
    path.write_text(json.dumps(data))
    mark = node.mark()
    result = phoenix(node, etc, "setup", "--dry-run")
    assert result.returncode == 2
    assert "phoenix_hypervisor_config.json" in result.stderr
    assert "zfs.datasets[1].properties" in result.stderr
    assert "'compresion'" in result.stderr
    assert "zfs.pools[1].disks[0]" in result.stderr
    assert node.since(mark) == []
    unknown = phoenix(node, etc, "setup", "zfz")
    assert unknown.returncode == 2 and "unknown feature zfz" in unknown.stderr


def test_a_guest_needs_only_its_features_and_checks_them(node: SimNode, tmp_path: Path) -> None:
    """101 and what it requires live on a storage setup makes: plan checks that feature alone
    (not zfs, which only that feature needs), fails naming what applies it, and changes
    nothing."""
    etc = configure(tmp_path)
    mark = node.mark()
    result = phoenix(node, etc, "plan", "101", "-o", "json")
    outcomes = json.loads(result.stdout)["outcomes"]
    assert [o["id"] for o in outcomes] == ["host:storage", 900, 103, 101]
    assert outcomes[0]["status"] == "failed"
    assert "run phoenix setup zfs storage, or pass --with-host" in outcomes[0]["error"]
    assert mutating(node, mark) == []


#: A container on a storage the installer made (local-lvm), from a template on ``local``.
EARLY = {
    "name": "early",
    "memory_mb": 512,
    "cores": 1,
    "template": "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
    "storage_pool": "local-lvm",
    "storage_size_gb": 4,
    "network_config": {"name": "eth0", "bridge": "vmbr0", "ip": "10.0.0.250/24", "gw": "10.0.0.1"},
    "mac_address": "52:54:00:AA:BB:D0",
    "unprivileged": True,
}


def test_converge_sets_up_the_host_then_builds_a_guest_on_its_storage(
    node: SimNode, tmp_path: Path
) -> None:
    """With consent in the file (zfs.settings.allow_destructive_operations), converge of a
    container on a fresh node refuses (nothing changed), and with --with-host sets up the
    features it needs (zfs, storage) and nothing else, then builds the container on the
    storage setup made; a second converge, which only checks them, changes nothing.

    950, on a storage the node already has, is created first (one worker: the plan's order)
    and reads the node's storages before setup adds 900's; 900, created in the same run,
    sees them (the run reads ``pvesm status`` again after a host feature changed the node)."""
    etc = configure(tmp_path)
    path = etc / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["zfs"]["settings"] = {"allow_destructive_operations": True}
    path.write_text(json.dumps(data))
    guests = etc / "phoenix_lxc_configs.json"
    lxc = json.loads(guests.read_text())
    lxc["lxc_configs"]["950"] = EARLY
    guests.write_text(json.dumps(lxc))
    mark = node.mark()
    refused = phoenix(node, etc, "converge", "900")
    assert refused.returncode == 1
    assert "phoenix setup zfs storage" in refused.stdout
    assert mutating(node, mark) == []
    mark = node.mark()
    run = ("converge", "950", "900", "--with-host", "--jobs", "1", "-o", "json")
    result = phoenix(node, etc, *run)
    assert result.returncode == 0, result.stderr
    outcomes = json.loads(result.stdout)["outcomes"]
    assert [o["id"] for o in outcomes] == [950, "host:zfs", "host:storage", 900]
    assert "rootfs: quickOS-lxc-disks:" in node.conf(900).read_text()
    storages = [e["argv"][:3] for e in node.since(mark) if e["argv"][0] in ("pvesm", "pveam")]
    added = storages.index(["pvesm", "add", "zfspool"])
    reads = [i for i, argv in enumerate(storages) if argv == ["pvesm", "status"]]
    assert len(reads) == 2 and reads[0] < added < reads[1], storages
    assert not any(e["argv"][0] == "apt-get" for e in node.journal())
    mark = node.mark()
    again = phoenix(node, etc, "converge", "900", "-o", "json")
    assert again.returncode == 0
    assert [o["id"] for o in json.loads(again.stdout)["outcomes"]] == ["host:storage", 900]
    assert mutating(node, mark) == []


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0e8Qf3xq1u4mFJ2b9c9 admin@workstation"


def test_authorized_key_and_renewal_cron(node: SimNode, tmp_path: Path) -> None:
    etc = configure(tmp_path)
    path = etc / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["users"]["ssh_public_key"] = KEY
    data["step_ca"]["renewal_command"] = "/usr/local/bin/renew-certs"
    path.write_text(json.dumps(data))
    # A fresh node has no sudo: the sudoers rule waits for the packages feature.
    alone = phoenix(node, etc, "setup", "users", "cron")
    assert alone.returncode == 1
    assert "sudo is not installed (Proxmox VE ships without it)" in alone.stdout
    assert not (node.dir / "etc" / "sudoers.d" / "phoenix-phoenix_admin").exists()
    result = phoenix(node, etc, "setup", "apt", "packages", "users", "cron")
    assert result.returncode == 0, result.stdout + result.stderr
    uid = int(node.run(["getent", "passwd", "phoenix_admin"]).stdout.split(":")[2])
    keys = node.dir / "home" / "phoenix_admin" / ".ssh" / "authorized_keys"
    assert KEY in keys.read_text().splitlines()
    assert (keys.stat().st_uid, keys.stat().st_mode & 0o777) == (uid, 0o600)
    assert (keys.parent.stat().st_mode & 0o777) == 0o700
    cron = (node.dir / "etc" / "cron.d" / "phoenix-cert-renewal").read_text()
    assert "0 * * * * root /usr/local/bin/renew-certs\n" in cron
    mark = node.mark()
    again = phoenix(node, etc, "setup", "users", "cron", "-o", "json")
    assert mutating(node, mark) == [] and host_outcome(again)["changes"] == []
    data["users"]["ssh_public_key"] = "ssh-ed25519 AAAA\nrm -rf /"
    path.write_text(json.dumps(data))
    bad = phoenix(node, etc, "setup", "--dry-run")
    assert bad.returncode == 2 and "users.ssh_public_key" in bad.stderr


# ------------------------------------------------------------------ drift, per feature


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimNode, Path]]:
    tmp = tmp_path_factory.mktemp("converged")
    sim = start(tmp)
    etc = configure(tmp, sim)
    assert phoenix(sim, etc, "setup", "--allow-destructive").returncode == 0
    yield sim, etc
    sim.stop()


def _edit(relative: str, old: str, new: str) -> Callable[[SimNode], None]:
    def edit(sim: SimNode) -> None:
        path = sim.dir / relative
        path.write_text(path.read_text().replace(old, new))

    return edit


def _run(*argv: str) -> Callable[[SimNode], None]:
    return lambda sim: sim.run(list(argv), check=True) and None


DRIFT = {
    "apparmor": (
        _edit("etc/apparmor.d/lxc/lxc-phoenix-v2", "cgroup2", "cgroup3"),
        "/etc/apparmor.d/lxc/lxc-phoenix-v2: differs -> shipped",
        [["apparmor_parser", "-r", "-W", "--", "<node>/etc/apparmor.d/lxc-containers"]],
    ),
    "time": (
        _run("timedatectl", "set-timezone", "Europe/Paris"),
        "time zone: Europe/Paris -> America/New_York",
        [["timedatectl", "set-timezone", "America/New_York"]],
    ),
    "hosts": (
        _edit("etc/hosts", "10.0.0.13 pve1", "10.0.0.14 pve1"),
        "/etc/hosts phoenix block: None -> 10.0.0.13 pve1.internal.thinkheads.ai pve1",
        [],  # a file write only
    ),
    "zfs": (
        _run("zfs", "set", "quota=1G", "quickOS/vm-disks"),
        "quickOS/vm-disks quota: 1073741824 -> 800G",
        [["zfs", "set", "quota=800G", "quickOS/vm-disks"]],
    ),
    "storage": (
        _run("pvesm", "set", "quickOS-vm-disks", "--content", "images,rootdir"),
        "storage quickOS-vm-disks content: images,rootdir -> images",
        [["pvesm", "set", "quickOS-vm-disks", "--content", "images"]],
    ),
    "nfs": (
        _edit("etc/exports.d/phoenix.exports", "10.0.0.102", "10.0.0.99"),
        "/etc/exports.d/phoenix.exports: differs -> /quickOS/vm-persistent-data",
        [["exportfs", "-ra"]],
    ),
    "samba": (
        _edit("etc/samba/phoenix-shares.conf", "writable = yes", "writable = no"),
        "/etc/samba/phoenix-shares.conf: differs",
        [["systemctl", "reload", "smbd.service"]],
    ),
    "users": (
        _edit(
            "etc/sudoers.d/phoenix-phoenix_admin", "ALL=(ALL:ALL) ALL", "ALL=(ALL) NOPASSWD: ALL"
        ),
        "/etc/sudoers.d/phoenix-phoenix_admin: differs -> sudo ALL",
        [],  # written, checked by visudo (a query) and moved into place
    ),
    "firewall": (
        _run("pvesh", "set", "/cluster/firewall/options", "--policy_in", "ACCEPT"),
        "firewall policy_in: ACCEPT -> DROP",
        [["pvesh", "set", "/cluster/firewall/options", "--policy_in", "DROP"]],
    ),
    "dns": (
        _edit("etc/dnsmasq.d/phoenix.conf", "server=1.1.1.1", "server=9.9.9.9"),
        "/etc/dnsmasq.d/phoenix.conf: differs",
        [["systemctl", "restart", "dnsmasq.service"]],
    ),
    "nvidia": (
        _edit("etc/systemd/system/nvidia-persistenced.service", "--user root", "--verbose"),
        "/etc/systemd/system/nvidia-persistenced.service: differs",
        [["systemctl", "daemon-reload"]],
    ),
    "apt": (
        _edit("etc/apt/sources.list.d/phoenix-pve-no-subscription.sources", "bookworm", "trixie"),
        "phoenix-pve-no-subscription.sources: differs -> pve-no-subscription",
        [["apt-get", "update"]],
    ),
}


def test_drift_of_every_feature_is_planned_exactly_and_repaired_with_fewest_commands(
    converged: tuple[SimNode, Path],
) -> None:
    """Every feature drifted by hand at once: one plan shows each feature's drift as its one
    change; ``setup FEATURE`` repairs that feature alone with exactly its commands while the
    others are still drifted; a last plan shows nothing left."""
    sim, etc = converged
    for change, _, _ in DRIFT.values():
        change(sim)
    plan = phoenix(sim, etc, "plan", "host", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    outcomes = json.loads(plan.stdout)["outcomes"]
    planned = {o["id"]: o["changes"] for o in outcomes if o["changes"]}
    assert sorted(planned) == sorted(f"host:{feature}" for feature in DRIFT), planned
    for feature, (_, shown, commands) in DRIFT.items():
        changes = planned[f"host:{feature}"]
        assert len(changes) == 1, (feature, changes)
        line = f"{changes[0]['what']}: {changes[0]['from']} -> {changes[0]['to']}"
        assert shown in line, feature
        mark = sim.mark()
        assert phoenix(sim, etc, "setup", feature).returncode == 0, feature
        expected = [[a.replace("<node>", str(sim.dir)) for a in argv] for argv in commands]
        assert mutating(sim, mark) == expected, feature
    after = phoenix(sim, etc, "plan", "host", "-o", "json")
    assert host_outcome(after)["changes"] == []


def test_a_storage_added_by_hand_survives(converged: tuple[SimNode, Path]) -> None:
    sim, etc = converged
    sim.run(["pvesm", "add", "dir", "mine", "--path", "/srv/mine", "--content", "iso"], check=True)
    mark = sim.mark()
    assert phoenix(sim, etc, "setup").returncode == 0
    assert not any(e["argv"][:2] == ["pvesm", "remove"] for e in sim.since(mark))
    cfg = json.loads(sim.run(["pvesh", "get", "/storage/mine", "--output-format", "json"]).stdout)
    assert cfg["path"] == "/srv/mine"


def test_smb_conf_outside_the_block_is_kept(converged: tuple[SimNode, Path]) -> None:
    sim, _ = converged
    text = (sim.dir / "etc" / "samba" / "smb.conf").read_text()
    assert text.startswith("[global]\n   workgroup = WORKGROUP\n")
    assert "# BEGIN phoenix" in text and text.rstrip().endswith("# END phoenix")
