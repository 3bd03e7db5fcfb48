# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""Each concern repairs only its own drift, and a rerun after the repair changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxc_support import SEED, Cli, base_ct, cli, mutations, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))


def _etc(cli: Cli, tmp_path: Path, **extra: Any) -> Path:
    ct = base_ct("drift", "10.0.8.1/24", "52:54:00:00:08:01", **extra)
    return write_lxc(tmp_path / "etc", {"800": ct})


def _converge(cli: Cli, etc: Path, *args: str) -> list[list[str]]:
    mark = cli.node.mark()
    result = cli("--config-dir", str(etc), "converge", *args, "800")
    assert result.exit_code == 0, result.output
    return mutations(cli.node.since(mark))


FIREWALL = {
    "enabled": True,
    "policy_in": "DROP",
    "rules": [
        {"type": "in", "action": "ACCEPT", "proto": "tcp", "port": "22", "comment": "ssh"},
        {"type": "in", "action": "ACCEPT", "proto": "tcp", "port": "443", "comment": "https"},
        {"type": "out", "action": "ACCEPT", "proto": "udp", "port": "53", "comment": "dns"},
    ],
}


def _rules(cli: Cli) -> list[str]:
    out = cli.node.run(
        ["pvesh", "get", "/nodes/localhost/lxc/800/firewall/rules", "--output-format", "json"]
    ).stdout
    return [r.get("comment", "") for r in json.loads(out)]


def test_firewall_is_reconciled_rule_by_rule(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(cli, tmp_path, firewall=FIREWALL)
    base = "/nodes/localhost/lxc/800/firewall/rules"
    made = [a[:3] for a in _converge(cli, etc) if a[0] == "pvesh" and a[2].startswith(base)]
    assert _rules(cli) == ["ssh", "https", "dns"]
    # Each new rule lands first (Rules.pm unshifts it): created last one first, none moved.
    assert made == [["pvesh", "create", base]] * 3
    assert "firewall=1" in cli.node.run(["pct", "config", "800"]).stdout
    assert _converge(cli, etc) == []
    cli.node.run(["pvesh", "delete", f"{base}/1"], check=True)  # https gone
    cli.node.run(
        [
            "pvesh",
            "create",
            base,
            "--type",
            "in",
            "--action",
            "DROP",
            "--comment",
            "stray",
            "--enable",
            "1",
        ],
        check=True,
    )  # a stray rule at the top
    changed = _converge(cli, etc)
    assert _rules(cli) == ["ssh", "https", "dns"]
    assert changed[0] == ["pvesh", "delete", f"{base}/0"]  # only the stray one is deleted
    assert [a[:3] for a in changed[1:]] == [
        ["pvesh", "create", base],
        ["pvesh", "set", f"{base}/0"],
    ]
    assert _converge(cli, etc) == []


def test_raw_lines_added_removed_never_duplicated(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(
        cli,
        tmp_path,
        lxc_options=["lxc.apparmor.profile=unconfined", "lxc.mount.auto:sys:rw"],
        id_maps=[{"type": "gid", "host_id": 33, "container_id": 33, "size": 1}],
    )
    _converge(cli, etc)
    conf = cli.node.conf(800)
    raw = [ln for ln in conf.read_text().splitlines() if ln.startswith("lxc.")]
    assert raw == [
        "lxc.apparmor.profile: unconfined",
        "lxc.mount.auto: sys:rw",
        "lxc.idmap: u 0 100000 65536",
        "lxc.idmap: g 0 100000 33",
        "lxc.idmap: g 33 33 1",
        "lxc.idmap: g 34 100034 65502",
    ]
    assert _converge(cli, etc) == []
    # A duplicate and a line no longer configured are both taken out; nothing else changes.
    conf.write_text(conf.read_text() + "lxc.mount.auto: sys:rw\nlxc.cap.drop: sys_admin\n")
    mark = cli.node.mark()
    assert cli("--config-dir", str(etc), "converge", "800").exit_code == 0
    assert mutations(cli.node.since(mark)) == []  # a file edit, not a Proxmox command
    assert [ln for ln in conf.read_text().splitlines() if ln.startswith("lxc.")] == raw
    assert "lxc.cap.drop" not in cli.node.run(["pct", "config", "800"]).stdout


def test_disk_grows_and_refuses_to_shrink(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(cli, tmp_path)
    _converge(cli, etc)
    bigger = _etc(cli, tmp_path, storage_size_gb=12)
    assert _converge(cli, bigger) == [["pct", "resize", "800", "rootfs", "12G"]]
    assert _converge(cli, bigger) == []
    smaller = _etc(cli, tmp_path, storage_size_gb=10)
    mark = cli.node.mark()
    result = cli("--config-dir", str(smaller), "converge", "800")
    assert result.exit_code == 1
    assert "cannot shrink" in result.output
    assert mutations(cli.node.since(mark)) == []


def test_mounts_matched_by_path_allocated_once_and_owned_through_the_id_map(
    cli: Cli, tmp_path: Path
) -> None:
    # A bind-mount source is the node's path; the simulated node keeps it in its directory.
    source = "/srv/host/logs"
    data = cli.node.dir / source.lstrip("/")
    etc = _etc(
        cli,
        tmp_path,
        id_maps=[{"type": "gid", "host_id": 33, "container_id": 33, "size": 1}],
        mount_points=[
            {
                "host_path": source,
                "container_path": "/var/log/app",
                "owner_uid": 33,
                "owner_gid": 33,
            }
        ],
        zfs_volumes=[
            {"name": "models", "pool": "quickOS-lxc-disks", "size_gb": 4, "mount_point": "/models"}
        ],
    )
    changed = _converge(cli, etc)
    assert data.is_dir()
    assert (data.stat().st_uid, data.stat().st_gid) == (100033, 33)
    sets = [a for a in changed if a[:2] == ["pct", "set"] and a[3].startswith("--mp")]
    assert sets == [
        ["pct", "set", "800", "--mp0", f"{source},mp=/var/log/app"],
        ["pct", "set", "800", "--mp1", "quickOS-lxc-disks:4,mp=/models"],
    ]
    assert _converge(cli, etc) == []
    config = cli.node.run(["pct", "config", "800"]).stdout
    assert config.count("mp=/models") == 1


@pytest.mark.parametrize(
    ("owner", "expected"),
    [({"owner_uid": 33}, (100033, 0)), ({"owner_gid": 33}, (0, 100033))],
    ids=["uid-only", "gid-only"],
)
def test_mount_owner_changes_only_the_configured_id(
    cli: Cli, tmp_path: Path, owner: dict[str, int], expected: tuple[int, int]
) -> None:
    source = "/srv/host/data"
    data = cli.node.dir / source.lstrip("/")
    data.mkdir(parents=True)
    os.chown(data, 0, 0)
    mount = {"host_path": source, "container_path": "/data", **owner}
    etc = _etc(cli, tmp_path, mount_points=[mount])
    plan = cli("--config-dir", str(etc), "plan", "800")
    wanted = "100033" if "owner_uid" in owner else ":100033"
    assert f"owner {source}: 0:0 -> {wanted}" in plan.output
    _converge(cli, etc)
    assert (data.stat().st_uid, data.stat().st_gid) == expected
    assert f"chown {wanted} {data} [" in (cli.log_dir / "phoenix_cli.log").read_text()
    assert _converge(cli, etc) == []
    assert "owner " not in cli("--config-dir", str(etc), "plan", "800").output


def test_options_changes_go_in_one_pct_set_with_only_the_differing_keys(
    cli: Cli, tmp_path: Path
) -> None:
    etc = _etc(cli, tmp_path, pct_options=["nesting=1"], boot_order=3, boot_delay=5)
    _converge(cli, etc)
    assert _converge(cli, etc) == []
    cli.node.run(
        ["pct", "set", "800", "--cores", "4", "--hostname", "renamed", "--features", "keyctl=1"],
        check=True,
    )
    assert _converge(cli, etc) == [
        ["pct", "set", "800", "--hostname", "drift", "--cores", "1", "--features", "nesting=1"]
    ]
    assert _converge(cli, etc) == []


def test_power_verbs_and_delete(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(cli, tmp_path)
    _converge(cli, etc)
    run = lambda *a: cli("--config-dir", str(etc), *a)  # noqa: E731
    assert run("stop", "800").exit_code == 0
    assert cli.node.run(["pct", "status", "800"]).stdout == "status: stopped\n"
    mark = cli.node.mark()
    assert run("stop", "800").exit_code == 0
    assert mutations(cli.node.since(mark)) == []
    assert run("start", "800").exit_code == 0
    assert cli.node.run(["pct", "status", "800"]).stdout == "status: running\n"
    mark = cli.node.mark()
    assert run("restart", "800").exit_code == 0
    assert [a[1] for a in mutations(cli.node.since(mark))] == ["shutdown", "start"]
    assert run("delete", "--yes", "800").exit_code == 0
    assert cli.node.run(["pct", "status", "800"]).returncode != 0
    destroy = [a for a in mutations(cli.node.journal()) if a[1] == "destroy"]
    assert destroy == [["pct", "destroy", "800", "--purge"]]


@pytest.mark.parametrize("verb", ["start", "stop", "restart"])
def test_power_verbs_on_a_missing_container_fail_in_a_dry_run_too(
    cli: Cli, tmp_path: Path, verb: str
) -> None:
    etc = _etc(cli, tmp_path)
    mark = cli.node.mark()
    for dry in (["--dry-run"], []):
        result = cli("--config-dir", str(etc), verb, *dry, "800")
        assert result.exit_code == 1, result.output
        assert "lxc 800 (drift) does not exist (create it first" in result.output
        assert "would change" not in result.output
    assert mutations(cli.node.since(mark)) == []


def test_a_lock_is_waited_out(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(cli, tmp_path)
    _converge(cli, etc)
    cli.node.run(["pct", "set", "800", "--memory", "2048"], check=True)
    cli.node.fail_nth_mutation(1)  # the real config-lock timeout text
    changed = _converge(cli, etc)
    assert changed == [["pct", "set", "800", "--memory", "1024"]] * 2
    assert "memory: 1024" in cli.node.run(["pct", "config", "800"]).stdout


def test_delete_refuses_while_a_dependent_exists(cli: Cli, tmp_path: Path) -> None:
    configs = {
        "800": base_ct("base", "10.0.8.1/24", "52:54:00:00:08:01", template_snapshot_name="gold"),
        "801": {
            **base_ct("child", "10.0.8.2/24", "52:54:00:00:08:02"),
            "clone_from_ctid": "800",
        },
    }
    del configs["801"]["template"]
    etc = write_lxc(tmp_path / "etc", configs)
    assert cli("--config-dir", str(etc), "converge", "801").exit_code == 0
    mark = cli.node.mark()
    result = cli("--config-dir", str(etc), "delete", "--yes", "800")
    assert result.exit_code == 2
    assert "801" in result.output
    assert mutations(cli.node.since(mark)) == []


def test_id_maps_get_their_subgid_entries_before_start(cli: Cli, tmp_path: Path) -> None:
    """lxc.idmap g 33 33 1 needs root:33:1 in the node's /etc/subgid (the strict simulator's
    pct start fails like lxc without it); phoenix adds only that line, shown in plan."""
    subgid = cli.node.dir / "etc" / "subgid"
    subgid.write_text("root:100000:65536\nbackup:200000:65536\n")
    etc = _etc(cli, tmp_path, id_maps=[{"type": "gid", "host_id": 33, "container_id": 33}])
    plan = cli("--config-dir", str(etc), "plan", "800")
    assert "/etc/subgid root:33:1: (none) -> added" in plan.output
    _converge(cli, etc)
    assert subgid.read_text() == "root:100000:65536\nbackup:200000:65536\nroot:33:1\n"
    assert (cli.node.dir / "etc" / "subuid").read_text() == "root:100000:65536\n"
    assert cli.node.run(["pct", "status", "800"]).stdout == "status: running\n"
    assert _converge(cli, etc) == []
    assert subgid.read_text().count("root:33:1") == 1
