"""The template's own tests: its verb through the CLI, its observer hook on an outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from phoenix_core.cli import build
from phoenix_core.plugins import Plugins
from phoenix_hello import plugin

ETC = Path(__file__).resolve().parents[2] / "examples" / "original-etc"


@pytest.fixture
def plugins() -> Plugins:
    found = Plugins(strict=True, disabled=set())
    found.add(plugin, "hello", "phoenix-hello", "0.1.0")
    return found


def test_the_verb_greets_configured_guests(plugins: Plugins, tmp_path: Path) -> None:
    argv = ["--log-dir", str(tmp_path), "--config-dir", str(ETC), "hello", "101", "9000"]
    result = CliRunner().invoke(build(plugins), argv, obj=plugins)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "hello, lxc 101 Nginx-Phoenix",
        "hello, vm 9000 ubuntu-2404-cloud-template",
    ]


def test_the_observer_records_finished_actions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    monkeypatch.setenv(plugin.ENV_EVENTS, str(events))

    class Guest:
        id = 101

    class Outcome:
        status = "changed"
        changes = [("options", "memory")]

    plugin.phoenix_action_finished("converge", Guest(), Outcome())
    assert json.loads(events.read_text()) == {
        "verb": "converge",
        "id": 101,
        "status": "changed",
        "changes": 1,
    }
