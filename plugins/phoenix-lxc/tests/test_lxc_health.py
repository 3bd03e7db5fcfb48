# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""``phoenix health-check`` and ``phoenix test`` on containers of the simulator, the CLI run as
a subprocess: the shipped checks (each with a failing case and its reason), configured check
scripts with retries, dependencies first, test suites and their JUnit XML."""

from __future__ import annotations

import json
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxc_support import (  # noqa: F401 - fixtures
    ACCEPTANCE_IDS,
    REPO,
    SEED,
    Cli,
    base_ct,
    original,
    write_lxc,
)

from phoenix_core.testing import schema_file
from pve_sim.fixture import SimNode

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

SCHEMAS = REPO / "docs" / "json"
ADDRESSES = {"103": "10.0.9.13/24", "101": "10.0.9.11/24"}


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


def write_homelab(etc: Path) -> Path:
    """103 and 101 (which depends on 103); 101 has a nameserver, a host-side check script and
    a test suite."""
    checks = [{"name": "web", "script": "check_web.sh", "retries": 1}]
    configs = {
        "103": base_ct("ca", ADDRESSES["103"], "52:54:00:00:09:13"),
        "101": {
            **base_ct("web", ADDRESSES["101"], "52:54:00:00:09:11"),
            "network_config": {
                "name": "eth0",
                "bridge": "vmbr0",
                "ip": ADDRESSES["101"],
                "gw": "10.0.9.1",
                "nameservers": "10.0.9.1",
            },
            "dependencies": ["103"],
            "health_checks": checks,
            "tests": {
                "smoke": [
                    {"name": "answers", "path": "smoke/answers.sh", "where": "host"},
                    {"name": "inside", "path": "smoke/inside.sh"},
                ],
                "load": [{"name": "under load", "path": "load/load.sh", "where": "host"}],
            },
        },
    }
    write_lxc(etc, configs)
    _script(etc / "health_checks" / "check_web.sh", 'echo "web of CT $1 answers"\n')
    _script(etc / "tests" / "smoke" / "answers.sh", 'echo "CT $1 answers"\n')
    _script(etc / "tests" / "smoke" / "inside.sh", "true\n")
    _script(etc / "tests" / "load" / "load.sh", 'echo "slow"; echo "p99 4.2 s > 1 s"; exit 1\n')
    return etc


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    """One node for the module, the homelab converged and running once; the containers'
    address and name are what the simulated containers answer from their configuration, as a
    started container does (no scripted answers)."""
    tmp = tmp_path_factory.mktemp("lxc-health")
    node = SimNode.start(tmp / "node", seed=SEED)
    etc = write_homelab(tmp / "etc")
    with pytest.MonkeyPatch.context() as patch:
        result = Cli(node, patch, tmp)("--config-dir", str(etc), "converge", "101")
    assert result.exit_code == 0, result.output
    yield node
    node.stop()


@pytest.fixture
def cli(built: SimNode, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    """The CLI on the module's node, first put back as built: no scripted answers, 103 and
    101 running (tests stop them), so no test sees another's leftovers."""
    node = built
    node.clear_scripts()
    for ctid in ("103", "101"):
        if node.run(["pct", "status", ctid]).stdout != "status: running\n":
            node.run(["pct", "start", ctid], check=True)
    return Cli(node, monkeypatch, tmp_path)


@pytest.fixture
def homelab(cli: Cli, tmp_path: Path) -> Path:
    """The configuration the module's node was converged from, written anew for the test to
    edit."""
    return write_homelab(tmp_path / "etc")


def _document(proc: Any, shape: str) -> dict[str, Any]:
    document = json.loads(proc.stdout)
    schema = json.loads((SCHEMAS / schema_file(document, shape)).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert document["exit_code"] == proc.returncode
    return document


def _rows(document: dict[str, Any]) -> dict[tuple[int, str], dict[str, Any]]:
    return {(r["target"], r["check"]): r for r in document["results"]}


def _configure(etc: Path, ctid: str, **keys: Any) -> None:
    path = etc / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"][ctid].update(keys)
    path.write_text(json.dumps(data, indent=2))


def test_all_checks_pass_exit_0_with_the_shipped_ones_first(cli: Cli, homelab: Path) -> None:
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "-o", "json")
    document = _document(proc, "health")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [(r["target"], r["check"]) for r in document["results"]] == [
        (103, "running"),
        (103, "pct exec"),
        (103, "address"),
        (103, "dns"),
        (101, "dependencies"),
        (101, "running"),
        (101, "pct exec"),
        (101, "address"),
        (101, "dns"),
        (101, "web"),
    ]
    assert {r["result"] for r in document["results"]} == {"passed"}
    assert _rows(document)[(101, "address")]["output"] == "eth0: 10.0.9.11/24"
    web = _rows(document)[(101, "web")]
    assert web["output"] == "web of CT 101 answers" and web["where"].startswith("host ")
    text = cli.subprocess("--config-dir", str(homelab), "health-check", "101")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].split() == [
        "TARGET",
        "CHECK",
        "RESULT",
        "ATTEMPTS",
        "DURATION",
        "DETAIL",
    ]
    assert "health-check: 6 passed, 0 failed, 0 skipped" in text.stdout


def test_a_failing_check_script_exits_1_and_shows_its_output(cli: Cli, homelab: Path) -> None:
    _script(
        homelab / "health_checks" / "check_web.sh",
        'echo "GET / on CT $1"\necho "502 Bad Gateway" >&2\nexit 1\n',
    )
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.split()[:2] == ["101", "web"])
    assert "failed" in row and "exited 1: 502 Bad Gateway" in row
    assert "101 web (host " in proc.stdout
    assert "  | GET / on CT 101\n  | 502 Bad Gateway" in proc.stdout
    assert "1 failed" in proc.stdout
    assert "101 web: failed after 1 attempts: `/bin/bash -s -- 101" in proc.stderr  # and logged


def test_retries_3_passing_on_the_third_attempt_shows_3_attempts(
    cli: Cli, homelab: Path, tmp_path: Path
) -> None:
    counter = tmp_path / "attempts"
    _script(
        homelab / "health_checks" / "flaky.sh",
        'n=$(( $(cat "$2" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$2"\n'
        'echo "attempt $n"; [ "$n" -ge 3 ]\n',
    )
    flaky = {"name": "flaky", "script": "flaky.sh", "args": [str(counter)], "retries": 3}
    _configure(homelab, "101", health_checks=[{**flaky, "interval": 0}])
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101", "-o", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = _rows(_document(proc, "health"))[(101, "flaky")]
    assert (row["result"], row["attempts"], row["output"]) == ("passed", 3, "attempt 3")

    counter.unlink()
    _configure(homelab, "101", health_checks=[{**flaky, "retries": 2, "interval": 0}])
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101", "-o", "json")
    assert proc.returncode == 1
    row = _rows(_document(proc, "health"))[(101, "flaky")]
    assert (row["result"], row["attempts"], row["output"]) == ("failed", 2, "attempt 2")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_check_s_retries_ends_the_run_with_the_whole_report(
    cli: Cli, homelab: Path, tmp_path: Path, signum: int, code: int
) -> None:
    """A check retried every 30 s is waiting when cron's SIGTERM comes: the run ends at once
    with every row (the waiting check and the ones after it skipped, saying why), the JUnit
    file and 128 + the signal, not after ten minutes and not without a report."""
    started = tmp_path / "attempts"
    _script(homelab / "health_checks" / "down.sh", 'echo "attempt" >> "$2"; echo down; exit 1\n')
    down = {"name": "down", "script": "down.sh", "args": [str(started)]}
    _configure(
        homelab,
        "101",
        health_checks=[
            {**down, "retries": 20, "interval": 30},
            {"name": "web", "script": "check_web.sh"},
        ],
    )
    junit = tmp_path / "junit.xml"
    run = cli.popen("--config-dir", str(homelab), "health-check", "101", "--junit", str(junit))
    deadline = time.monotonic() + 60
    while not started.exists():
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    signalled = time.monotonic()
    run.send_signal(signum)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stdout + stderr
    assert time.monotonic() - signalled < 10, "the 30 s wait between attempts was not woken"
    assert "Traceback" not in stderr
    name = signal.Signals(signum).name
    rows = {tuple(line.split()[:2]): line for line in stdout.splitlines() if line[:3] == "101"}
    assert rows[("101", "down")].split()[2:4] == ["skipped", "1"]
    assert f"interrupted by {name} after 1 of 20 attempts" in rows[("101", "down")]
    assert f"not run: interrupted by {name}" in rows[("101", "web")], stdout
    assert stdout.rstrip().splitlines()[-1] == (
        f"interrupted by {name}: running checks were let finish, no further one was started"
    )
    assert started.read_text() == "attempt\n"
    root = ET.parse(junit).getroot()
    assert root.get("errors") == "2"


def test_a_dependency_not_running_is_reported_instead_of_the_checks(
    cli: Cli, homelab: Path
) -> None:
    cli.node.run(["pct", "stop", "103"], check=True)
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101", "-o", "json")
    assert proc.returncode == 1
    rows = _rows(_document(proc, "health"))
    gate = rows[(101, "dependencies")]
    assert gate["result"] == "failed"
    assert gate["reason"] == "dependency lxc 103 (ca) is stopped"
    others = [r for k, r in rows.items() if k != (101, "dependencies")]
    assert {r["result"] for r in others} == {"skipped"}
    assert {r["reason"] for r in others} == {"not run: dependencies failed"}


def test_a_stopped_container_fails_running_and_skips_the_rest(cli: Cli, homelab: Path) -> None:
    cli.node.run(["pct", "stop", "101"], check=True)
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101", "-o", "json")
    assert proc.returncode == 1
    rows = _rows(_document(proc, "health"))
    assert rows[(101, "running")]["reason"] == "CT 101 is stopped"
    assert rows[(101, "pct exec")]["result"] == "skipped"
    assert rows[(101, "web")]["reason"] == "not run: running failed"


@pytest.mark.parametrize(
    ("check", "pattern", "answer", "reason"),
    [
        (
            "pct exec",
            r"timeout \S+ true$",
            {"rc": 255, "stderr": "lxc-attach: 101: attach.c: failed to get init pid\n"},
            "exited 255: lxc-attach: 101: attach.c: failed to get init pid",
        ),
        (
            "address",
            r"ip -o -4 addr show dev eth0$",
            {"stdout": "2: eth0    inet 10.0.9.99/24 brd 10.0.9.255 scope global eth0\n"},
            "eth0 has 10.0.9.99/24, not 10.0.9.11/24",
        ),
        ("address", r"ip -o -4 addr", {}, "eth0 has no IPv4 address, not 10.0.9.11/24"),
        (
            "dns",
            r"getent hosts -- ",
            {"rc": 2},
            "web does not resolve: `pct exec 101 -- timeout 120 getent hosts -- web` "
            "exited 2: no output",
        ),
        (
            "dns",
            r"getent hosts -- ",
            {"stdout": "10.0.9.99       web.lab web\n"},
            "web resolves to 10.0.9.99, not 10.0.9.11",
        ),
        (
            "dns",
            r"cat /etc/resolv.conf$",
            {"stdout": "nameserver 8.8.8.8\n"},
            "/etc/resolv.conf has 8.8.8.8, not 10.0.9.1",
        ),
    ],
)
def test_each_shipped_check_fails_with_a_clear_reason(
    cli: Cli, homelab: Path, check: str, pattern: str, answer: dict[str, Any], reason: str
) -> None:
    cli.node.script_exec(101, pattern, **answer)
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101", "-o", "json")
    assert proc.returncode == 1
    row = _rows(_document(proc, "health"))[(101, check)]
    assert row["result"] == "failed"
    assert row["reason"].endswith(reason)


def test_a_check_whose_script_is_missing_is_reported_and_fails(cli: Cli, homelab: Path) -> None:
    (homelab / "health_checks" / "check_web.sh").unlink()
    validate = cli.subprocess("--config-dir", str(homelab), "config", "validate")
    assert "health_checks[0]: health-check script 'check_web.sh' not found" in validate.stdout
    proc = cli.subprocess("--config-dir", str(homelab), "health-check", "101", "-o", "json")
    assert proc.returncode == 1
    row = _rows(_document(proc, "health"))[(101, "web")]
    assert row["result"] == "failed" and row["attempts"] == 1
    assert row["reason"].startswith("health-check script 'check_web.sh' not found; looked in: ")


def test_test_suites_exit_1_on_a_failure_and_write_junit(
    cli: Cli, homelab: Path, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    args = ("--config-dir", str(homelab), "test", "101", "--junit", str(junit))
    proc = cli.subprocess(*args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "  | p99 4.2 s > 1 s" in proc.stdout
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "0")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert sorted(suites) == ["101.checks", "101.load", "101.smoke"]
    assert [c.get("name") for c in suites["101.smoke"].iter("testcase")] == ["answers", "inside"]
    assert [c.get("name") for c in suites["101.checks"].iter("testcase")] == ["dependencies"]
    load = suites["101.load"]
    assert (load.get("tests"), load.get("failures")) == ("1", "1")
    failure = load.find("testcase/failure")
    assert failure is not None and failure.get("message", "").endswith("exited 1: p99 4.2 s > 1 s")
    assert failure.text == "slow\np99 4.2 s > 1 s"

    proc = cli.subprocess(*args, "--suite", "smoke", "-o", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = _document(proc, "test")
    assert [(r["suite"], r["check"]) for r in document["results"]] == [
        (None, "dependencies"),
        ("smoke", "answers"),
        ("smoke", "inside"),
    ]
    assert _rows(document)[(101, "answers")]["output"] == "CT 101 answers"
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "0", "0")

    unknown = cli.subprocess("--config-dir", str(homelab), "test", "--suite", "nope")
    assert unknown.returncode == 2
    assert "no selected target has a test suite 'nope'" in unknown.stderr


def test_a_test_that_could_not_run_is_an_error_in_junit(
    cli: Cli, homelab: Path, tmp_path: Path
) -> None:
    cli.node.run(["pct", "stop", "103"], check=True)
    junit = tmp_path / "junit.xml"
    proc = cli.subprocess("--config-dir", str(homelab), "test", "101", "--junit", str(junit))
    assert proc.returncode == 1
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "3")
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("message") == "not run: dependencies failed"


def test_the_old_configuration_after_converge_passes_its_checks(
    pve_node: SimNode, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, original: Path
) -> None:
    """103's old singular ``health_check`` (its script found on the search path by file name,
    run on the host with the id) and every shipped check pass on the built stack, nothing
    scripted: the containers answer `ip` and `getent` from what Proxmox wrote at start. (A
    node of its own: its 101 and 103 are the old configuration's.)"""
    cli = Cli(pve_node, monkeypatch, tmp_path)
    assert cli("--config-dir", str(original), "converge", *ACCEPTANCE_IDS).exit_code == 0
    configs = json.loads((original / "phoenix_lxc_configs.json").read_text())["lxc_configs"]
    # Those desired running: Copy-Base (start_at_boot false) is stopped again after its build.
    built = [ctid for ctid in ACCEPTANCE_IDS if configs[ctid].get("start_at_boot")]
    proc = cli.subprocess("--config-dir", str(original), "health-check", *built, "-o", "json")
    document = _document(proc, "health")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _rows(document)
    assert {target for target, _ in rows} == {int(ctid) for ctid in built}
    legacy = rows[(103, "health_check")]
    assert (legacy["result"], legacy["output"]) == (
        "passed",
        "stand-in health check: CT 103 is running",
    )
    assert all(rows[(int(ctid), "address")]["result"] == "passed" for ctid in built)
    assert all(rows[(int(ctid), "dns")]["result"] == "passed" for ctid in built)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ({"path": "../outside.sh"}, "tests.smoke[0].path: must not contain empty, '.' or '..'"),
        ({"path": "ok.sh", "type": "pytest"}, "tests.smoke[0].type"),
        ({"path": "ok.sh", "where": "inside"}, "tests.smoke[0].where"),
        ({"name": "no path"}, "tests.smoke[0].path"),
    ],
)
def test_a_bad_test_entry_is_a_configuration_error_naming_its_path(
    cli: Cli, tmp_path: Path, case: dict[str, Any], problem: str
) -> None:
    ct = {**base_ct("web", "10.0.9.11/24", "52:54:00:00:09:11"), "tests": {"smoke": [case]}}
    etc = write_lxc(tmp_path / "etc", {"101": ct})
    mark = cli.node.mark()
    result = cli("--config-dir", str(etc), "test", "101")
    assert result.exit_code == 2
    assert "phoenix_lxc_configs.json" in result.output
    assert f"lxc_configs.101.{problem}" in result.output
    assert cli.node.since(mark) == []
