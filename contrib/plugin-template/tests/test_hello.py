"""The template's own tests. They use only pytest and the fixtures phoenix-core installs
(``phoenix_core.testing``): copy the template anywhere and they still run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.testing import RecordingHost, Reply
from phoenix_core.testing.plugin import PhoenixCli
from phoenix_hello import plugin

CONFIG = "phoenix_hello_configs.json"
MOTD = {"name": "motd", "path": "/srv/hello/motd", "message": "welcome"}


@pytest.fixture
def phoenix_plugins() -> list[Any]:
    """The plugins phoenix_cli runs with: this one alone."""
    return [plugin]


@pytest.fixture
def etc(phoenix_config_dir: Callable[..., Path]) -> Path:
    return phoenix_config_dir(files={CONFIG: {"greetings": {"120": MOTD}}})


@pytest.fixture
def node(phoenix_host: RecordingHost) -> RecordingHost:
    """The fake node, with `test -d DIR` answering whether `mkdir` created DIR."""

    def is_directory(argv: tuple[str, ...]) -> Reply:
        made = ("mkdir", "-p", "--", argv[2]) in phoenix_host.mutations
        return Reply(0 if made else 1)

    return phoenix_host.on(["test", "-d"], is_directory)


def test_plan_shows_the_message_and_changes_nothing(
    phoenix_cli: PhoenixCli, node: RecordingHost, etc: Path
) -> None:
    result = phoenix_cli("plan", "-o", "json", config_dir=etc)
    assert result.exit_code == 0, result.output
    [outcome] = result.json["outcomes"]
    assert (outcome["id"], outcome["kind"], outcome["status"]) == (120, "hello", "planned")
    assert outcome["changes"] == [
        {"step": "directory", "what": "directory", "from": None, "to": "/srv/hello"},
        {"step": "message", "what": "message", "from": None, "to": "welcome"},
    ]
    assert node.mutations == []


def test_converge_writes_the_file_once(
    phoenix_cli: PhoenixCli, node: RecordingHost, etc: Path
) -> None:
    first = phoenix_cli("converge", config_dir=etc)
    assert first.exit_code == 0, first.output
    assert node.mutations == [("mkdir", "-p", "--", "/srv/hello"), ("write", "/srv/hello/motd")]
    assert node.files["/srv/hello/motd"] == b"welcome\n"
    second = phoenix_cli("converge", "120", config_dir=etc)
    assert second.exit_code == 0, second.output
    assert len(node.mutations) == 2  # in sync: no mutating command


def test_drift_is_repaired(phoenix_cli: PhoenixCli, node: RecordingHost, etc: Path) -> None:
    node.files["/srv/hello/motd"] = b"hi\n"
    node.on(["test", "-d", "/srv/hello"])
    result = phoenix_cli("converge", "-o", "json", config_dir=etc)
    [outcome] = result.json["outcomes"]
    assert outcome["changes"] == [
        {"step": "message", "what": "message", "from": "hi", "to": "welcome"}
    ]
    assert node.mutations == [("write", "/srv/hello/motd")]


def test_a_typo_names_file_path_and_nearest_key_and_runs_nothing(
    phoenix_cli: PhoenixCli, phoenix_host: RecordingHost, phoenix_config_dir: Callable[..., Path]
) -> None:
    typo = {"name": "motd", "path": "/srv/hello/motd", "mesage": "welcome"}
    etc = phoenix_config_dir(files={CONFIG: {"greetings": {"120": typo}}})
    result = phoenix_cli("converge", config_dir=etc)
    assert result.exit_code == 2
    assert f'{CONFIG}: greetings.120.mesage: unknown key (did you mean "message"?)' in result.stderr
    assert phoenix_host.journal == []


def test_the_hypervisor_file_section_it_owns_signs_every_greeting(
    phoenix_cli: PhoenixCli, node: RecordingHost, phoenix_config_dir: Callable[..., Path]
) -> None:
    etc = phoenix_config_dir(
        {"hello": {"signature": "-- the admins"}}, files={CONFIG: {"greetings": {"120": MOTD}}}
    )
    result = phoenix_cli("converge", config_dir=etc)
    assert result.exit_code == 0, result.output
    assert node.files["/srv/hello/motd"] == b"welcome\n-- the admins\n"


def test_a_bad_value_in_its_section_names_the_hypervisor_file(
    phoenix_cli: PhoenixCli, phoenix_host: RecordingHost, phoenix_config_dir: Callable[..., Path]
) -> None:
    etc = phoenix_config_dir(
        {"hello": {"signatur": "x"}}, files={CONFIG: {"greetings": {"120": MOTD}}}
    )
    result = phoenix_cli("converge", config_dir=etc)
    assert result.exit_code == 2
    assert (
        'phoenix_hypervisor_config.json: hello.signatur: unknown key (did you mean "signature"?)'
        in result.stderr
    )
    assert phoenix_host.journal == []


def test_a_relative_path_is_refused(
    phoenix_cli: PhoenixCli, phoenix_config_dir: Callable[..., Path]
) -> None:
    relative = {**MOTD, "path": "motd"}
    etc = phoenix_config_dir(files={CONFIG: {"greetings": {"120": relative}}})
    result = phoenix_cli("plan", config_dir=etc)
    assert result.exit_code == 2
    assert f"{CONFIG}: greetings.120.path: expected an absolute path, got 'motd'" in result.stderr


def test_dependencies_are_converged_first(
    phoenix_cli: PhoenixCli, node: RecordingHost, phoenix_config_dir: Callable[..., Path]
) -> None:
    banner = {
        "name": "banner",
        "path": "/srv/hello/banner",
        "message": "hi",
        "dependencies": ["121"],
    }
    issue = {"name": "issue", "path": "/srv/hello/issue", "message": "hey"}
    etc = phoenix_config_dir(files={CONFIG: {"greetings": {"120": banner, "121": issue}}})
    result = phoenix_cli("plan", "120", "-o", "json", config_dir=etc)
    assert [o["id"] for o in result.json["outcomes"]] == [121, 120]


def test_delete_removes_the_file(phoenix_cli: PhoenixCli, node: RecordingHost, etc: Path) -> None:
    node.files["/srv/hello/motd"] = b"welcome\n"
    result = phoenix_cli("delete", "120", "--yes", config_dir=etc)
    assert result.exit_code == 0, result.output
    assert node.mutations == [("rm", "-f", "--", "/srv/hello/motd")]


def test_the_verb_greets_configured_guests(phoenix_cli: PhoenixCli, etc: Path) -> None:
    result = phoenix_cli("hello", config_dir=etc)
    assert (result.exit_code, result.stdout) == (0, "hello, hello 120 motd\n"), result.output


def test_the_observer_records_finished_actions(
    phoenix_cli: PhoenixCli,
    node: RecordingHost,
    etc: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv(plugin.ENV_EVENTS, str(events))
    phoenix_cli("converge", config_dir=etc)
    phoenix_cli("converge", config_dir=etc)
    assert [json.loads(line) for line in events.read_text().splitlines()] == [
        {"verb": "converge", "id": 120, "status": "changed", "changes": 2},
        {"verb": "converge", "id": 120, "status": "ok", "changes": 0},
    ]


def test_health_check_says_whether_the_file_greets(
    phoenix_cli: PhoenixCli, node: RecordingHost, etc: Path
) -> None:
    missing = phoenix_cli("health-check", "-o", "json", config_dir=etc)
    assert missing.exit_code == 1
    [row] = missing.json["results"]
    assert (row["check"], row["result"], row["reason"]) == (
        "greets",
        "failed",
        "/srv/hello/motd is missing",
    )
    assert phoenix_cli("converge", config_dir=etc).exit_code == 0
    healthy = phoenix_cli("health-check", "120", "-o", "json", config_dir=etc)
    assert healthy.exit_code == 0, healthy.output
    assert healthy.json["counts"] == {"passed": 1, "failed": 0, "skipped": 0}
