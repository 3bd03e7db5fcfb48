"""Log files, the run id on every line, the fallback directory, and masked secrets."""

from __future__ import annotations

import io
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from phoenix_core import logs
from phoenix_core.terminal import Terminal
from tests.support.fakenode import FakeNode


@pytest.fixture(autouse=True)
def _node(monkeypatch: pytest.MonkeyPatch, node: FakeNode) -> None:
    from phoenix_core.hosts.pool import HostPool

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)


def test_every_file_line_carries_the_run_id(etc: Path, cli: Any, tmp_path: Path) -> None:
    result = cli("--config-dir", str(etc), "-v", "plan", "900")
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "logs" / "phoenix_cli.log").read_text().splitlines()
    run_ids = {line.split()[2] for line in lines}
    assert len(run_ids) == 1 and re.fullmatch(r"[0-9a-f]{8}", run_ids.pop())
    manager_log = (tmp_path / "logs" / "fake-lxc-manager.log").read_text()
    assert "exists: guest: (none) -> created" in manager_log
    assert "exists: guest" not in (tmp_path / "logs" / "fake-vm-manager.log").read_text()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_log_files_are_private_and_rotated(
    etc: Path, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "ROTATION", "2 KB")
    monkeypatch.setattr(logs, "RETENTION", 2)
    directory = tmp_path / "logs"
    directory.mkdir(mode=0o755)
    (directory / "phoenix_cli.log").write_text("written by an older phoenix\n")
    (directory / "phoenix_cli.log").chmod(0o644)
    for _ in range(4):
        assert cli("--config-dir", str(etc), "-vv", "plan").exit_code == 0
    files = sorted(directory.iterdir())
    assert {_mode(f) for f in files} == {0o600}, [(f.name, oct(_mode(f))) for f in files]
    rotated = [
        f for f in files if f.name.startswith("phoenix_cli.") and f.name != "phoenix_cli.log"
    ]
    assert 1 <= len(rotated) <= 2
    # A --log-dir that already exists is the user's: its mode is left alone.
    assert _mode(directory) == 0o755


def test_a_log_dir_phoenix_creates_is_0750(etc: Path, cli: Any, tmp_path: Path) -> None:
    directory = tmp_path / "new" / "logs"
    result = cli("--log-dir", str(directory), "--config-dir", str(etc), "plan", "900")
    assert result.exit_code == 0
    assert _mode(directory) == 0o750
    assert _mode(directory / "phoenix_cli.log") == 0o600


def test_the_default_log_dir_is_tightened_to_0750(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    system = tmp_path / "var-log" / "phoenix_hypervisor"
    system.mkdir(parents=True, mode=0o755)
    monkeypatch.setattr(logs, "SYSTEM_LOG_DIR", system)
    try:
        assert logs.add_files(None, []) == system
    finally:
        logs.setup()
    assert _mode(system) == 0o750


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["config", "schema", "lxc"],
        ["config", "schema", "--help"],
        ["config", "validate"],
        ["plugins"],
        ["status", "--help"],
    ],
    ids=" ".join,
)
def test_commands_that_do_not_act_write_no_log_files(
    etc: Path, cli: Any, tmp_path: Path, args: list[str]
) -> None:
    result = cli("--config-dir", str(etc), *args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "logs").exists()


def test_unwritable_system_dir_falls_back_to_the_state_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setattr(logs, "SYSTEM_LOG_DIR", blocked / "phoenix_hypervisor")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert logs.default_log_dir() == tmp_path / "state" / "phoenix" / "log"


def test_unwritable_log_dir_costs_only_the_files(etc: Path, cli: Any, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    result = cli("--log-dir", str(blocked / "x"), "--config-dir", str(etc), "plan", "900")
    assert result.exit_code == 0
    assert "file logs disabled" in result.stderr


def test_secrets_from_the_config_never_reach_a_log(
    etc: Path, cli: Any, tmp_path: Path, node: FakeNode
) -> None:
    path = etc / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["portainer_api"]["admin_password"] = "hunter2-very-secret"
    path.write_text(json.dumps(data))
    node.fail_on[("pct", "create", "900")] = "auth failed for admin:hunter2-very-secret"
    result = cli("--config-dir", str(etc), "-v", "converge", "900")
    assert result.exit_code == 1
    everything = result.output + result.stderr
    for log in (tmp_path / "logs").iterdir():
        everything += log.read_text()
    assert f"auth failed for admin:{logs.MASK}" in result.stdout
    assert f"auth failed for admin:{logs.MASK}" in everything
    assert "hunter2-very-secret" not in everything


@pytest.fixture
def fresh_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered by the test are forgotten afterwards (short ones mask whole words)."""
    monkeypatch.setattr(logs, "_secrets", set())


def test_short_integer_and_url_secrets_are_registered_and_masked(fresh_secrets: None) -> None:
    logs.register_secrets(
        {
            "portainer": {"admin_password": "q7", "api_token": 90210, "enabled": True},
            "lxc": [{"bootstrap_ca_url": "https://ca:s3cr%40t@10.0.0.10:9000/roots"}],
        }
    )
    line = "login q7 token=90210 from https://ca:s3cr%40t@10.0.0.10:9000/roots failed"
    assert logs.scrub(line) == (
        f"login {logs.MASK} token={logs.MASK} from https://ca:{logs.MASK}@10.0.0.10:9000/roots "
        "failed"
    )
    # A short secret inside a longer word or number is not a secret there.
    assert logs.scrub("xq7 q71 q7") == f"xq7 q71 {logs.MASK}"
    # Booleans are settings, not secrets; a URL's password is masked even when not registered.
    assert logs.scrub("True ftp://u:other@h") == f"True ftp://u:{logs.MASK}@h"


def test_secrets_are_found_at_any_depth_and_nothing_else_is(fresh_secrets: None) -> None:
    logs.register_secrets(None)  # a file that could not be read
    logs.register_secrets(
        {
            "users": [{"samba_password": "pw-in-a-list"}, {"samba_password": ""}],
            "mirrors": ["https://u:url-in-a-list@mirror", "https://no-credentials/"],
            "api_token": {"value": "not-a-string-value"},
            "root_password_file": "/etc/phoenix/root.pw",
            "secret_enabled": True,
            "password_length": 3.5,
        }
    )
    assert logs._secrets == {"pw-in-a-list", "url-in-a-list"}


def test_short_and_url_secrets_never_reach_a_log_or_the_terminal(
    etc: Path, cli: Any, tmp_path: Path, node: FakeNode, fresh_secrets: None
) -> None:
    path = etc / "phoenix_hypervisor_config.json"
    data = json.loads(path.read_text())
    data["portainer_api"]["admin_password"] = "x9"
    data["portainer_api"]["url"] = "https://admin:pa55@portainer:9443"
    path.write_text(json.dumps(data))
    node.fail_on[("pct", "create", "900")] = "denied x9 at https://admin:pa55@portainer:9443"
    result = cli("--config-dir", str(etc), "-v", "converge", "900")
    assert result.exit_code == 1
    everything = result.output + result.stderr
    for log in (tmp_path / "logs").iterdir():
        everything += log.read_text()
    assert f"denied {logs.MASK} at https://admin:{logs.MASK}@portainer:9443" in result.stdout
    assert " x9 " not in everything and "pa55" not in everything


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("admin_password", True),
        ("api_token", True),
        ("password_hash", True),
        ("hf_token_file", False),
        ("name", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert logs.is_secret_key(key) is secret


def test_each_run_has_a_first_and_a_last_line_and_changes_name_their_target(
    etc: Path, cli: Any, tmp_path: Path
) -> None:
    """What changed on 900, when, by whom: the files answer it line by line."""
    assert cli("--config-dir", str(etc), "converge", "900").exit_code == 0
    lines = (tmp_path / "logs" / "phoenix_cli.log").read_text().splitlines()
    first, last = lines[0], lines[-1]
    assert re.search(
        r"run started: phoenix --log-dir \S+ --config-dir \S+ converge 900 \(user \S+", first
    )
    assert "node this machine)" in first
    assert last.endswith("run finished: exit 0; 1 changed")
    assert {line.split()[2] for line in lines} == {first.split()[2]}  # one run id
    changes = [line for line in lines if " -> " in line]
    assert changes and all(" fake-lxc 900 " in line for line in changes)
    # Neither line reaches the terminal.
    result = cli("--config-dir", str(etc), "converge", "900")
    assert "run started" not in result.stderr and "run finished" not in result.stderr


def test_quiet_hides_configuration_warnings_that_config_validate_lists(etc: Path, cli: Any) -> None:
    warning = "core_paths.lxc_config_file: /usr/local/phoenix_hypervisor/etc/phoenix_lxc_configs.json does not exist"
    assert warning in cli("--config-dir", str(etc), "plan", "900").stderr
    assert warning not in cli("--config-dir", str(etc), "-q", "plan", "900").stderr
    listed = cli("--config-dir", str(etc), "-q", "config", "validate")
    assert f"warning: phoenix_hypervisor_config.json: {warning}" in listed.stdout
    assert listed.stderr == ""


def _terminal_lines(verbosity: int) -> list[str]:
    stream = io.StringIO()
    logs.setup(verbosity=verbosity, terminal=Terminal.for_stream(stream, no_color=True))
    for _ in range(2):
        logs.logger.warning("the same warning")
        logs.config_warning("a configuration warning")
    logs.logger.debug("why a step decided")
    logs.logger.bind(command=True).debug("pct status 101 [local] rc=0 3 ms")
    logs.setup(verbosity=0, terminal=Terminal.for_stream(io.StringIO()))
    return [line.split(None, 1)[1] for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "verbosity, shown",
    [
        (-1, ["the same warning"]),
        (0, ["the same warning", "a configuration warning"]),
        (1, ["the same warning", "a configuration warning", "why a step decided"]),
        (
            2,
            [
                "the same warning",
                "a configuration warning",
                "why a step decided",
                "pct status 101 [local] rc=0 3 ms",
            ],
        ),
    ],
)
def test_verbosity_levels_are_distinct_and_a_warning_shows_once(
    verbosity: int, shown: list[str]
) -> None:
    assert _terminal_lines(verbosity) == shown
