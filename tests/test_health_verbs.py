"""``phoenix health-check`` and ``phoenix test`` in the core, with a third-party style manager
that adds the optional ``checks``/``tests`` methods: retries, required checks, dependencies
first, the thread pool, the JSON documents and the JUnit XML."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from phoenix_core.checks import Attempt, Check, CheckResult, HealthChecks, run_check, run_checks
from phoenix_core.commands.health import junit
from phoenix_core.config.models import TargetConfig
from phoenix_core.errors import PhoenixError
from phoenix_core.manager import RunContext
from phoenix_core.plugins import Plugins
from phoenix_core.testing import schema_file
from tests.support.fakenode import FakeManager, FakeNode, fake_plugins

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "json"


def _scripted(answers: Sequence[bool]) -> Check:
    """A check answering ``answers`` in turn."""
    left = list(answers)
    return Check(
        name="scripted",
        attempt=lambda: Attempt(left.pop(0), f"line 1\nanswer {len(left)}", "said no"),
        retries=len(answers),
        interval=2.5,
    )


def test_a_check_is_retried_until_it_passes_sleeping_its_interval() -> None:
    slept: list[float] = []
    result = run_check("101", _scripted([False, False, True]), slept.append)
    assert (result.result, result.attempts, result.reason) == ("passed", 3, "")
    assert slept == [2.5, 2.5]
    assert result.output == "line 1\nanswer 0"


def test_a_check_failing_every_retry_keeps_the_last_reason_and_output() -> None:
    result = run_check("101", _scripted([False, False]), lambda _: None)
    assert (result.result, result.attempts, result.reason) == ("failed", 2, "said no")
    assert result.output == "line 1\nanswer 0"


def test_an_error_raised_by_an_attempt_is_a_failed_attempt() -> None:
    def attempt() -> Attempt:
        raise PhoenixError("pct exec refused")

    result = run_check("101", Check(name="x", attempt=attempt, retries=0), lambda _: None)
    assert (result.result, result.attempts, result.reason) == ("failed", 1, "pct exec refused")


def test_a_failed_required_check_skips_the_later_ones() -> None:
    gate = Check(name="running", attempt=lambda: Attempt(False, reason="stopped"), required=True)
    later = Check(name="web", attempt=lambda: pytest.fail("must not run"))
    results = run_checks("101", [gate, later], lambda _: None)
    assert [(r.name, r.result, r.reason) for r in results] == [
        ("running", "failed", "stopped"),
        ("web", "skipped", "not run: running failed"),
    ]


def test_output_keeps_the_last_ten_lines() -> None:
    lines = "\n".join(f"line {i}" for i in range(25))
    result = run_check("1", Check(name="x", attempt=lambda: Attempt(True, lines)))
    assert result.output.splitlines() == [f"line {i}" for i in range(15, 25)]


class CheckingManager(FakeManager):
    """A manager that adds checks: each guest's ``fake_checks`` key maps names to results, a
    ``barrier`` check waits for another target's (proving they run at the same time)."""

    barrier = threading.Barrier(2, timeout=5)

    def checks(self, guest: TargetConfig, ctx: RunContext) -> list[Check]:
        return [
            self._check(name, answer) for name, answer in guest.raw.get("fake_checks", {}).items()
        ]

    def tests(self, guest: TargetConfig, ctx: RunContext) -> list[Check]:
        return [
            Check(name=name, attempt=self._answer(answer), suite=suite)
            for suite, cases in guest.raw.get("fake_tests", {}).items()
            for name, answer in cases.items()
        ]

    def _check(self, name: str, answer: Any) -> Check:
        return Check(name=name, attempt=self._answer(answer), where="fake")

    def _answer(self, answer: Any) -> Any:
        if answer == "barrier":
            return lambda: Attempt(self.barrier.wait() >= 0, "met")
        return lambda: Attempt(answer == "pass", f"said {answer}", f"answered {answer}")


def _plugins() -> Plugins:
    return fake_plugins(factory=CheckingManager)


@pytest.fixture(autouse=True)
def _node(monkeypatch: pytest.MonkeyPatch, node: FakeNode) -> None:
    from phoenix_core.hosts.pool import HostPool

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)


def _configure(etc: Path, ctid: str, **keys: Any) -> None:
    path = etc / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"][ctid].update(keys)
    path.write_text(json.dumps(data, indent=2))


def _document(stdout: str, shape: str) -> dict[str, Any]:
    document = json.loads(stdout)
    schema = json.loads((SCHEMAS / schema_file(document, shape)).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    return document


def test_the_manager_contract_is_optional_and_checkable() -> None:
    assert isinstance(CheckingManager(), HealthChecks)
    assert not isinstance(FakeManager(), HealthChecks)


def test_health_check_exit_codes_and_document(cli: Any, etc: Path, node: FakeNode) -> None:
    node.guests[103] = {"status": "running"}
    node.guests[101] = {"status": "running"}
    _configure(etc, "103", fake_checks={"ca": "pass"})
    _configure(etc, "101", fake_checks={"web": "pass", "tls": "fail"})
    plugins = _plugins()
    ok = cli("--config-dir", str(etc), "health-check", "103", "-o", "json", plugins=plugins)
    assert ok.exit_code == 0, ok.output
    document = _document(ok.stdout, "health")
    assert document["counts"] == {"passed": 1, "failed": 0, "skipped": 0}
    bad = cli("--config-dir", str(etc), "health-check", "101", "103", "-o", "json", plugins=plugins)
    assert bad.exit_code == 1
    document = _document(bad.stdout, "health")
    assert [(r["target"], r["check"], r["result"]) for r in document["results"]] == [
        (103, "ca", "passed"),
        (101, "dependencies", "passed"),
        (101, "web", "passed"),
        (101, "tls", "failed"),
    ]
    assert document["results"][-1]["reason"] == "answered fail"


def test_health_check_writes_junit_for_cron_and_ci(
    cli: Any, etc: Path, node: FakeNode, tmp_path: Path
) -> None:
    node.guests[101] = {"status": "running"}
    node.guests[103] = {"status": "running"}
    _configure(etc, "101", fake_checks={"web": "pass", "tls": "fail"})
    report = tmp_path / "health.xml"
    result = cli(
        "--config-dir", str(etc), "health-check", "101", "--junit", str(report), plugins=_plugins()
    )
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert (root.get("name"), root.get("tests"), root.get("failures")) == (
        "phoenix health-check",
        "3",
        "1",
    )
    assert [s.get("name") for s in root] == ["101.checks"]


def test_a_dependency_that_is_not_running_is_reported_first(
    cli: Any, etc: Path, node: FakeNode
) -> None:
    node.guests[103] = {"status": "stopped"}
    node.guests[101] = {"status": "running"}
    _configure(etc, "101", fake_checks={"web": "pass"})
    result = cli("--config-dir", str(etc), "health-check", "101", plugins=_plugins())
    assert result.exit_code == 1
    assert "dependency lxc 103 (Step-CA) is stopped" in result.stdout
    assert "not run: dependencies failed" in result.stdout


def test_targets_are_checked_side_by_side_up_to_jobs(cli: Any, etc: Path, node: FakeNode) -> None:
    for ctid in ("101", "102"):
        node.guests[int(ctid)] = {"status": "running"}
        _configure(etc, ctid, fake_checks={"meet": "barrier"})
    node.guests[103] = {"status": "running"}
    CheckingManager.barrier = threading.Barrier(2, timeout=5)
    args = ("--config-dir", str(etc), "health-check", "101", "102")
    assert cli(*args, "--jobs", "2", plugins=_plugins()).exit_code == 0
    CheckingManager.barrier = threading.Barrier(2, timeout=0.2)
    alone = cli(*args, "--jobs", "1", "-o", "json", plugins=_plugins())
    assert alone.exit_code == 1  # one at a time, the first waits for a partner in vain
    rows = _document(alone.stdout, "health")["results"]
    first = next(r for r in rows if r["check"] == "meet")
    assert (first["target"], first["reason"]) == (101, "internal error: BrokenBarrierError: ")


def test_without_checks_nothing_fails(cli: Any, etc: Path) -> None:
    result = cli("--config-dir", str(etc), "health-check", "101")
    assert result.exit_code == 0
    assert "health-check: no target has health checks" in result.stdout


def test_test_suite_selection_json_and_junit(
    cli: Any, etc: Path, node: FakeNode, tmp_path: Path
) -> None:
    node.guests[103] = {"status": "running"}
    _configure(etc, "103", fake_tests={"smoke": {"up": "pass"}, "load": {"p99": "fail"}})
    report = tmp_path / "out" / "junit.xml"
    report.parent.mkdir()
    args = ("--config-dir", str(etc), "test", "103", "--junit", str(report), "-o", "json")
    result = cli(*args, plugins=_plugins())
    assert result.exit_code == 1
    assert _document(result.stdout, "test")["counts"] == {"passed": 1, "failed": 1, "skipped": 0}
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    smoke = cli(*args, "--suite", "smoke", plugins=_plugins())
    assert smoke.exit_code == 0
    assert [r["check"] for r in _document(smoke.stdout, "test")["results"]] == ["up"]


def test_junit_counts_failures_and_errors_per_suite(tmp_path: Path) -> None:
    def result(name: str, state: str, suite: str) -> CheckResult:
        return CheckResult(
            target="101",
            name=name,
            result=state,  # type: ignore[arg-type]
            attempts=1,
            duration=0.5,
            output="out <&>" if state != "passed" else "",
            reason=f"{name} {state}",
            suite=suite,
        )

    path = tmp_path / "junit.xml"
    junit(
        [
            result("a", "passed", "smoke"),
            result("b", "failed", "smoke"),
            result("c", "skipped", "load"),
        ],
        path,
    )
    root = ET.parse(path).getroot()
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("errors")) for s in root] == [
        ("101.smoke", "2", "1", "0"),
        ("101.load", "1", "0", "1"),
    ]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("time")) == (
        "3",
        "1",
        "1",
        "1.500",
    )
    failure = root.find("testsuite/testcase[@name='b']/failure")
    assert failure is not None and (failure.get("message"), failure.text) == ("b failed", "out <&>")
