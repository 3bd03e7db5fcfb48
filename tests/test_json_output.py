"""Every verb's ``-o json`` is one versioned document, valid against its schema in docs/json/;
``plan --detailed-exitcode`` exits 3 while changes are pending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from phoenix_core.outcome import CHANGES_PENDING
from phoenix_core.testing import schema_file
from tests.support.fakenode import FakeNode

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "json"


@pytest.fixture(autouse=True)
def _node(monkeypatch: pytest.MonkeyPatch, node: FakeNode) -> None:
    from phoenix_core.hosts.pool import HostPool

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)


def check(stdout: str, shape: str) -> dict[str, Any]:
    """The document, validated against the JSON Schema its ``schema`` names."""
    document = json.loads(stdout)
    schema = json.loads((SCHEMAS / schema_file(document, shape)).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    return document


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "101"),
        ("converge", "101"),
        ("create", "101"),
        ("--dry-run", "start", "900"),
        ("stop", "900"),
        ("restart", "900"),
        ("delete", "101", "--yes"),
        ("LetsGo", "--no-boot-delay"),
    ],
)
def test_every_run_verb_prints_a_run_document(
    cli: Any, etc: Path, node: FakeNode, args: tuple[str, ...]
) -> None:
    node.guests[900] = {"status": "stopped"}
    node.guests[101] = {"status": "stopped"}
    result = cli("--config-dir", str(etc), *args, "-o", "json")
    document = check(result.stdout, "run")
    assert document["exit_code"] == result.exit_code
    verb = args[1] if args[0] == "--dry-run" else args[0]
    assert document["verb"] == verb
    assert sum(document["counts"].values()) == len(document["outcomes"])


def test_a_failed_run_document_names_the_error(cli: Any, etc: Path, node: FakeNode) -> None:
    node.fail_on[("pct", "create", "103")] = "storage does not exist"
    result = cli("--config-dir", str(etc), "create", "101", "-o", "json")
    document = check(result.stdout, "run")
    assert result.exit_code == document["exit_code"] == 1
    failed = [o for o in document["outcomes"] if o["status"] == "failed"]
    assert [o["id"] for o in failed] == [103] and "storage does not exist" in failed[0]["error"]


def test_status_document(cli: Any, etc: Path, node: FakeNode) -> None:
    node.guests[900] = {"status": "stopped"}
    document = check(cli("--config-dir", str(etc), "status", "900", "-o", "json").stdout, "status")
    assert [(t["id"], t["status"]) for t in document["targets"]] == [(900, "stopped")]


def test_plugins_document(cli: Any) -> None:
    document = check(cli("plugins", "-o", "json").stdout, "plugins")
    assert [p["name"] for p in document["plugins"]] == ["fake"]


def test_config_validate_document_valid_and_invalid(cli: Any, etc: Path) -> None:
    valid = cli("--config-dir", str(etc), "config", "validate", "-o", "json")
    document = check(valid.stdout, "config-validate")
    assert valid.exit_code == 0 and document["valid"] and document["errors"] == []
    assert set(document["guests"]) == {"lxc", "vm"} and document["directory"] == str(etc)
    lxc = etc / "phoenix_lxc_configs.json"
    lxc.write_text(lxc.read_text().replace('"memory_mb": 4096', '"memory_mb": "lots"', 1))
    invalid = cli("--config-dir", str(etc), "config", "validate", "-o", "json")
    document = check(invalid.stdout, "config-validate")
    assert invalid.exit_code == 2 and not document["valid"]
    assert any("memory_mb" in e for e in document["errors"]), document["errors"]


def test_plan_exit_code_is_0_unless_detailed_exitcode_is_asked(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    assert cli("--config-dir", str(etc), "plan", "900").exit_code == 0
    pending = cli("--config-dir", str(etc), "plan", "900", "--detailed-exitcode", "-o", "json")
    assert pending.exit_code == CHANGES_PENDING == 3
    document = check(pending.stdout, "run")
    assert document["changes_pending"] and document["exit_code"] == CHANGES_PENDING
    assert cli("--config-dir", str(etc), "converge", "900").exit_code == 0
    in_sync = cli("--config-dir", str(etc), "plan", "900", "--detailed-exitcode")
    assert in_sync.exit_code == 0, in_sync.output


def test_detailed_exitcode_reports_a_failed_check_as_1(cli: Any, etc: Path, node: FakeNode) -> None:
    node.fail_on[("pct", "status", "103")] = "HOST"  # its check cannot reach the node
    result = cli("--config-dir", str(etc), "plan", "900", "103", "--detailed-exitcode")
    assert result.exit_code == 1, result.output
    assert "would change" in result.stdout  # 900's pending change does not hide 103's failure
