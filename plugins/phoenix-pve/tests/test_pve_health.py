"""Health checks run where the old tool ran them: on the node, with the guest id as argument;
a check may opt into running inside the guest."""

from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_core.checks import run_check
from phoenix_core.errors import PhoenixError
from phoenix_core.testing import RecordingHost
from phoenix_pve import health, scripts
from phoenix_pve.guest import CONTAINER
from phoenix_pve.live import Live
from phoenix_pve.model import HealthCheck, LegacyHealthCheck, SuiteCase
from phoenix_pve.shell import ContainerShell, HostShell

OLD_PATH = "/usr/local/phoenix_hypervisor/bin/health_checks/check_step_ca.sh"


class Spec:
    features = ()
    application_script = None
    tests = None

    def __init__(
        self, legacy: LegacyHealthCheck | None = None, checks: tuple[HealthCheck, ...] = ()
    ) -> None:
        self.health_check = legacy
        self.health_checks = checks


@pytest.fixture
def search(tmp_path: Path) -> scripts.SearchPath:
    (tmp_path / "health_checks").mkdir()
    (tmp_path / "health_checks" / "check_step_ca.sh").write_text('pct status "$1"\n')
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "inside.sh").write_text("systemctl is-active step-ca\n")
    return scripts.SearchPath(tmp_path, "lxc")


def _run(host: RecordingHost, checks: tuple[health.Check, ...]) -> None:
    live = Live(host.on(["pct", "status"], stdout="status: running\n"), CONTAINER, 103, "/etc/pve")
    health.health(live, ContainerShell(host, 103), checks, sleep=lambda _: None)


def test_the_old_check_path_names_a_script_found_in_health_checks_and_run_on_the_host(
    search: scripts.SearchPath,
) -> None:
    checks = health.resolve(Spec(LegacyHealthCheck(OLD_PATH, retries=2)), search)
    assert checks[0].script.path == search.config_dir / "health_checks" / "check_step_ca.sh"
    assert checks[0].where == "host"
    host = RecordingHost()
    _run(host, checks)
    ran = [c for c in host.journal if c.argv[0] == "/bin/bash"]
    assert [c.argv for c in ran] == [("/bin/bash", "-s", "--", "103")]
    assert ran[0].input == 'pct status "$1"\n' and not ran[0].mutating


def test_a_check_may_run_inside_the_guest_pushed_once(search: scripts.SearchPath) -> None:
    entry = HealthCheck(name="ca", script="inside.sh", args="--quiet", where="guest")
    checks = health.resolve(Spec(checks=(entry,)), search)
    host = RecordingHost()
    _run(host, checks)
    inside = f"{scripts.RUN_DIR}/inside.sh"
    assert ("pct", "exec", "103", "--", inside, "--quiet") in [c.argv for c in host.journal]


def test_a_plain_command_runs_as_written_and_a_failure_names_the_host(
    search: scripts.SearchPath,
) -> None:
    checks = health.resolve(Spec(LegacyHealthCheck("curl -fsS http://ca:9000", retries=3)), search)
    assert checks[0].script is None
    host = RecordingHost().on(["curl"], returncode=7, stderr="connection refused\n")
    with pytest.raises(PhoenixError, match=r"failed 3 times on host fake: `curl -fsS http"):
        _run(host, checks)
    assert [c.argv[0] for c in host.journal].count("curl") == 3


@pytest.mark.parametrize(
    "spec",
    [
        Spec(LegacyHealthCheck(OLD_PATH.replace("step_ca", "nginx"))),
        Spec(checks=(HealthCheck(script="check_gone.sh"),)),
    ],
)
def test_a_missing_check_script_is_reported_naming_the_places_looked(
    spec: Spec, search: scripts.SearchPath
) -> None:
    with pytest.raises(PhoenixError, match=r"health-check script 'check_\w+\.sh' not found"):
        health.resolve(spec, search)


def test_a_node_test_runs_by_bash_without_a_guest_id(search: scripts.SearchPath) -> None:
    """What a host manager does with the hypervisor file's ``tests``: no guest, no id."""
    (search.config_dir / "tests" / "hypervisor").mkdir(parents=True)
    (search.config_dir / "tests" / "hypervisor" / "zfs.sh").write_text("zpool status -x\n")
    suites = {"system": [SuiteCase(path="hypervisor/zfs.sh", args="--pool fast", where="host")]}
    entries = health.test_cases(suites, search)
    assert [(e.key, e.name, e.suite) for e in entries] == [
        ("tests.system[0]", "hypervisor/zfs.sh", "system")
    ]
    host = RecordingHost()
    [check] = health.runnable_entries(health.Target(host), HostShell(host), entries, timeout=60)
    result = run_check("host", check)
    assert (result.result, result.suite, result.where) == ("passed", "system", "host fake")
    [ran] = host.journal
    assert ran.argv == ("timeout", "60", "/bin/bash", "-s", "--", "--pool", "fast")
    assert ran.input == "zpool status -x\n"


def test_a_missing_script_is_a_failing_check_not_a_silent_one(search: scripts.SearchPath) -> None:
    spec = Spec(checks=(HealthCheck(name="gone", script="check_gone.sh"),))
    entries = health.configured(spec, search)
    host = RecordingHost()
    live = Live(host, CONTAINER, 103, "/etc/pve")
    [check] = health.runnable_entries(
        health.Target.of(live), ContainerShell(host, 103), entries, timeout=60
    )
    result = run_check("103", check)
    assert (result.name, result.result, result.attempts) == ("gone", "failed", 1)
    assert result.reason.startswith("health-check script 'check_gone.sh' not found; looked in: ")
    assert host.journal == []
