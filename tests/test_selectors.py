"""Selectors on the guest verbs: --tag, --kind, --exclude, --only, and their completion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakenode import FakeNode


@pytest.fixture(autouse=True)
def _node(monkeypatch: pytest.MonkeyPatch, node: FakeNode) -> None:
    from phoenix_core.hosts.pool import HostPool

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)


@pytest.fixture
def tagged(etc: Path) -> Path:
    """The original configuration with tags: 103 ``web;ca`` (Proxmox's own spelling), 102
    ``["Web"]``, and file-wide ``["lab"]`` for every container (a default of the file)."""
    path = etc / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"]["103"]["tags"] = "web;ca"
    data["lxc_configs"]["102"]["tags"] = ["Web"]
    data["lxc_configs"]["900"]["tags"] = ["base"]
    path.write_text(json.dumps(data))
    return etc


def _planned(result: Any) -> list[Any]:
    assert result.exit_code in (0, 3), result.stderr
    return [o["id"] for o in result.json["outcomes"]]


def test_plan_by_tag_plans_the_tagged_guests_and_what_they_require(
    cli: Any, tagged: Path, node: FakeNode
) -> None:
    result = cli("--config-dir", str(tagged), "plan", "--tag", "ca", "-o", "json")
    assert _planned(result) == [900, 103]
    # Tags compare as Proxmox compares them (case-insensitively); repeated: any of them.
    result = cli(
        "--config-dir", str(tagged), "plan", "--tag", "WEB", "--tag", "nothing", "-o", "json"
    )
    assert _planned(result) == [900, 103, 102]
    assert node.mutations == []


def test_only_takes_the_targets_alone_and_refuses_a_missing_requirement(
    cli: Any, tagged: Path, node: FakeNode
) -> None:
    result = cli("--config-dir", str(tagged), "plan", "--tag", "ca", "--only", "-o", "json")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--only: 103 requires lxc 900 (Copy-Base), which does not exist" in result.stderr
    node.guests[900] = {"status": "stopped", "memory": "512", "cores": "1"}
    result = cli("--config-dir", str(tagged), "plan", "--tag", "ca", "--only", "-o", "json")
    assert _planned(result) == [103]
    assert node.mutations == []


def test_kind_and_exclude_narrow_every_target(cli: Any, tagged: Path, node: FakeNode) -> None:
    result = cli(
        "--config-dir", str(tagged), "plan", "--kind", "vm", "--exclude", "1002", "-o", "json"
    )
    planned = _planned(result)
    assert 1001 in planned and 9000 in planned and 1002 not in planned
    result = cli(
        "--config-dir", str(tagged), "status", "101", "102", "--exclude", "102", "-o", "json"
    )
    assert [t["id"] for t in result.json["targets"]] == [101]


def test_power_verbs_take_selectors_instead_of_ids(cli: Any, tagged: Path, node: FakeNode) -> None:
    node.guests[102] = {"status": "running", "memory": "512", "cores": "1"}
    node.guests[103] = {"status": "running", "memory": "512", "cores": "1"}
    result = cli("--config-dir", str(tagged), "stop", "--tag", "web", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [o["id"] for o in result.json["outcomes"]] == [102, 103]  # dependents first
    assert cli("--config-dir", str(tagged), "stop", "--exclude", "101").exit_code == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["plan", "--tag", "nope"], "no target of the configuration matches --tag nope"),
        (["plan", "101", "--kind", "vm"], "no target of 101 matches --kind vm"),
        (["plan", "--exclude", "a:b"], "--exclude 'a:b': not a target id"),
        (["plan", "--exclude", "abc"], "--exclude 'abc': not a target of the configuration"),
    ],
)
def test_a_selection_of_nothing_is_a_usage_error(
    cli: Any, tagged: Path, node: FakeNode, args: list[str], message: str
) -> None:
    result = cli("--config-dir", str(tagged), *args)
    assert result.exit_code == 2 and message in result.stderr
    assert node.journal == []


def _complete(cli: Any, monkeypatch: pytest.MonkeyPatch, etc: Path, words: str) -> list[str]:
    """What bash completion offers after ``words`` (click's completion protocol)."""
    monkeypatch.setenv("_PHOENIX_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", f"phoenix --config-dir {etc} {words}")
    monkeypatch.setenv("COMP_CWORD", str(len(words.split()) + 3 - (not words.endswith(" "))))
    result = cli()
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_completion_offers_ids_tags_and_kinds(
    cli: Any, monkeypatch: pytest.MonkeyPatch, tagged: Path
) -> None:
    assert _complete(cli, monkeypatch, tagged, "plan --tag ") == ["base", "ca", "web"]
    assert _complete(cli, monkeypatch, tagged, "stop 10") == ["101", "103", "102", "1001", "1002"]
    assert _complete(cli, monkeypatch, tagged, "status --kind ") == ["lxc", "vm"]
    assert _complete(cli, monkeypatch, tagged, "plan --exclude 90") == ["900", "901", "9000"]
