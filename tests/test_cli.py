"""The command line as users meet it: help, exit codes, output formats, the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.config import load_config
from phoenix_core.plan import boot_groups
from tests.support.fakenode import FakeNode, fake_plugins

VERBS = [
    "create",
    "converge",
    "plan",
    "start",
    "stop",
    "restart",
    "status",
    "delete",
    "LetsGo",
    "plugins",
    "config",
]


@pytest.fixture(autouse=True)
def _node(monkeypatch: pytest.MonkeyPatch, node: FakeNode) -> None:
    from phoenix_core.hosts.pool import HostPool

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)


def test_help_lists_every_verb_and_global_option(cli: Any) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for verb in VERBS:
        assert f"  {verb} " in result.stdout
    for option in (
        "--config-dir",
        "--host",
        "--dry-run",
        "--log-dir",
        "--verbose",
        "--quiet",
        "--version",
        "--keep-going",
    ):
        assert option in result.stdout


@pytest.mark.parametrize("verb", [*VERBS, "config validate", "config schema"])
def test_every_verb_has_help(cli: Any, verb: str) -> None:
    result = cli(*verb.split(), "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.stdout and len(result.stdout.splitlines()) > 3


@pytest.mark.parametrize("verb", ["create", "start", "stop", "restart", "delete"])
def test_verbs_that_need_ids_say_so(cli: Any, etc: Path, verb: str) -> None:
    result = cli("--config-dir", str(etc), verb)
    assert result.exit_code == 2
    assert f"{verb} needs at least one guest id" in result.stderr


def test_unknown_verb_and_unknown_id_exit_2(cli: Any, etc: Path) -> None:
    assert cli("frobnicate").exit_code == 2
    result = cli("--config-dir", str(etc), "start", "4242")
    assert result.exit_code == 2
    assert (
        "4242 is not defined in phoenix_lxc_configs.json or phoenix_vm_configs.json"
        in result.stderr
    )


def test_plan_prints_changes_and_changes_nothing(cli: Any, etc: Path, node: FakeNode) -> None:
    result = cli("--config-dir", str(etc), "plan", "101")
    assert result.exit_code == 0, result.stderr
    assert node.mutations == []
    assert "[exists] guest: (none) -> created" in result.stdout
    assert "plan: 3 targets: 3 would change (dry run: nothing was changed)" in result.stdout
    assert "schedule" not in result.stdout
    # With -v, the schedule the real run would follow: each action after what it requires.
    result = cli("--config-dir", str(etc), "-v", "plan", "101")
    schedule = result.stdout.split("schedule (", 1)[1].splitlines()[1:4]
    assert [line.split(";")[0].strip() for line in schedule] == [
        "900 plan",
        "103 plan after 900 plan",
        "101 plan after 900 plan, 103 plan",
    ]


def test_global_and_verb_dry_run_are_the_same(cli: Any, etc: Path, node: FakeNode) -> None:
    for args in (["--dry-run", "converge", "101"], ["converge", "101", "--dry-run"]):
        result = cli("--config-dir", str(etc), *args)
        assert result.exit_code == 0 and node.mutations == []
        assert "(dry run: nothing was changed)" in result.stdout


def test_converge_json_output_then_idempotent(cli: Any, etc: Path, node: FakeNode) -> None:
    first = json.loads(cli("--config-dir", str(etc), "converge", "101", "-o", "json").stdout)
    assert [(o["id"], o["status"]) for o in first["outcomes"]] == [
        (900, "changed"),
        (103, "changed"),
        (101, "changed"),
    ]
    count = len(node.mutations)
    second = json.loads(cli("--config-dir", str(etc), "converge", "101", "-o", "json").stdout)
    assert {o["status"] for o in second["outcomes"]} == {"ok"}
    assert len(node.mutations) == count


def test_failure_exits_1_with_a_summary(cli: Any, etc: Path, node: FakeNode) -> None:
    node.fail_on[("pct", "create", "103")] = (
        "unable to create CT 103 - storage 'quickOS-lxc-disks' does not exist"
    )
    result = cli("--config-dir", str(etc), "create", "101")
    assert result.exit_code == 1
    assert (
        "failed: lxc 103 (Step-CA): `pct create 103 --hostname Step-CA` exited 255: unable to create CT 103"
        in result.stdout
    )
    # Never attempted, and listed so, with the reason.
    assert (
        "create      101  lxc Nginx-Phoenix            skipped: dependency 103 failed"
        in result.stdout
    )
    assert "create: 3 targets: 1 FAILED, 1 changed, 1 skipped" in result.stdout


def test_status_table_and_json(cli: Any, etc: Path, node: FakeNode) -> None:
    node.guests[900] = {"status": "stopped"}
    text = cli("--config-dir", str(etc), "status", "900", "103").stdout.splitlines()
    assert text[0].split() == [
        *("ID", "KIND", "NAME", "NODE", "EXISTS", "STATUS", "LOCK", "TEMPLATE", "BUILT")
    ]
    assert text[1].split() == ["900", "lxc", "Copy-Base", "default", "yes", "stopped", "?"]
    assert text[2].split() == ["103", "lxc", "Step-CA", "default", "no", "missing"]
    records = json.loads(cli("--config-dir", str(etc), "status", "-o", "json").stdout)["targets"]
    assert len(records) == 15 and records[0]["id"] == 101


def test_delete_without_yes_off_a_terminal_changes_nothing(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    node.guests[101] = {"status": "stopped"}
    result = cli("--config-dir", str(etc), "delete", "101")
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    assert 101 in node.guests
    assert cli("--config-dir", str(etc), "delete", "101", "--yes").exit_code == 0
    assert 101 not in node.guests


def test_delete_warns_that_unread_files_cannot_be_checked_for_dependents(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    node.guests[101] = {"status": "stopped"}
    result = cli("--config-dir", str(etc), "delete", "101", "--yes", plugins=fake_plugins("lxc"))
    assert result.exit_code == 0, result.output
    assert (
        "guests in files no installed manager reads are not checked for depending on 101: "
        "phoenix_vm_configs.json is not read"
    ) in result.stderr


def test_letsgo_builds_everything_and_starts_by_boot_group(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    result = cli("--config-dir", str(etc), "LetsGo", "--no-boot-delay", "-o", "json")
    assert result.exit_code == 0, result.stderr
    outcomes = json.loads(result.stdout)["outcomes"]
    assert {o["status"] for o in outcomes} == {"changed"}
    config = load_config(etc, fake_plugins("lxc", "vm"))
    booted = {i for i, guest in config.guests.items() if guest.starts_at_boot}
    assert [o["verb"] for o in outcomes] == ["converge"] * 15 + ["start"] * len(booted)
    starts = [int(argv[2]) for argv in node.mutations if argv[1] == "start"]
    groups = boot_groups([config.guests[i] for i in sorted(config.guests)])
    assert [groups[i] for i in starts] == sorted(groups[i] for i in starts)
    # Only the guests desired running (start_at_boot) are started, each once; never the
    # VM template nor the Copy-* clone sources.
    assert 9000 not in starts and 900 not in starts and sorted(starts) == sorted(booted)


def test_config_dir_from_environment(cli: Any, etc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOENIX_CONFIG_DIR", str(etc))
    assert cli("config", "validate").exit_code == 0
    result = cli("--config-dir", str(etc / "nope"), "config", "validate")
    assert result.exit_code == 2 and "(from --config-dir) does not exist" in result.stderr


def test_the_installed_console_script(etc: Path) -> None:
    phoenix = Path(sys.executable).parent / "phoenix"
    env = {**os.environ, "PHOENIX_DISABLE_PLUGINS": "lxc,vm,hypervisor"}
    result = subprocess.run(
        [str(phoenix), "--config-dir", str(etc), "create", "911"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    # Without managers the core reads no guest file: it names each file and what reads it.
    assert result.returncode == 2
    assert (
        "911 is not defined in any guest file; phoenix_lxc_configs.json, phoenix_vm_configs.json "
        "are not read by any installed manager (install phoenix-lxc, phoenix-vm)"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    validate = subprocess.run(
        [str(phoenix), "--config-dir", str(etc), "config", "validate"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert validate.returncode == 0 and "valid (0 guests; no guests; 3 warnings)" in validate.stdout
    assert "phoenix_vm_configs.json: not read (install phoenix-vm)" in validate.stdout
    # The hypervisor file's sections are its managers': none is installed to read them.
    assert "phoenix_hypervisor_config.json: no installed manager reads domain_name" in (
        validate.stdout
    )


#: Runs phoenix with paramiko unimportable, as on a machine without the ``ssh`` extra.
WITHOUT_PARAMIKO = (
    "import sys; sys.modules['paramiko'] = None; "
    "from phoenix_core.cli import main; sys.exit(main())"
)


def test_host_without_the_ssh_extra_is_a_usage_error(etc: Path, tmp_path: Path) -> None:
    args = ["--log-dir", str(tmp_path / "logs"), "--host", "root@pve1", "--config-dir", str(etc)]
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PARAMIKO, *args, "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "install phoenix-core[ssh]" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["converge", "--jobs", "0"], {}, "Invalid value for '--jobs' / '-j'"),
        (["converge"], {"PHOENIX_JOBS": "many"}, "Invalid value for '--jobs' / '-j'"),
        (["converge", "--lock-timeout", "-1"], {}, "Invalid value for '--lock-timeout'"),
        (["converge", "--wait-lock", "soon"], {}, "Invalid value for '--wait-lock'"),
    ],
)
def test_bad_run_options_are_usage_errors_and_run_nothing(
    cli: Any,
    etc: Path,
    node: FakeNode,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = cli("--config-dir", str(etc), *args)
    assert result.exit_code == 2 and expected in result.stderr
    assert node.journal == []


def test_power_verbs_run_while_a_guest_they_do_not_touch_has_a_bad_value(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    """An operator in an incident can still stop and start guests: 103's bad value is a
    warning for ``stop 900``, an error (exit 2, nothing run) for what touches 103."""
    path = etc / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"]["103"]["memory_mb"] = "lots"
    path.write_text(json.dumps(data))
    node.guests[900] = {"status": "running", "memory": "2048", "cores": "2"}
    result = cli("--config-dir", str(etc), "stop", "900")
    assert result.exit_code == 0, result.output
    assert "103 is left alone (its configuration has errors)" in result.stderr
    assert "lxc_configs.103.memory_mb" in result.stderr
    assert node.guests[900]["status"] == "stopped"
    for args in (("start", "101"), ("stop", "103"), ("converge", "900")):
        before = len(node.journal)
        refused = cli("--config-dir", str(etc), *args)
        assert refused.exit_code == 2, (args, refused.output)
        assert "lxc_configs.103.memory_mb" in refused.stderr
        assert not [e for e in node.journal[before:] if e.mutating]


def test_plan_goes_on_past_a_requirement_whose_check_failed(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    """One plan shows every problem: 103's check fails, 101 still shows its own drift."""
    node.fail_on[("pct", "status", "103")] = "HOST"
    result = cli("--config-dir", str(etc), "plan", "101", "-o", "json")
    assert result.exit_code == 1
    outcomes = {o["id"]: o for o in result.json["outcomes"]}
    assert outcomes[103]["status"] == "failed"
    assert outcomes[101]["status"] == "planned" and outcomes[101]["changes"]
    assert outcomes[101]["note"] == "waiting on 103: its plan failed"
    text = cli("--config-dir", str(etc), "plan", "101").stdout
    assert "would change: 3 changes (waiting on 103: its plan failed)" in text
