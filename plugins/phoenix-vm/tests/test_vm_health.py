"""``phoenix health-check`` and ``phoenix test`` on VM 1001 of the old configuration, converged on
the simulator, the CLI run as a subprocess: the checks phoenix-vm ships pass, and each fails with
a clear reason when the VM is stopped, its agent is silent, cloud-init is not done or failed, or
its address is not the configured one; configured checks and test suites run as a container's."""

from __future__ import annotations

import json
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from vm_support import AGENT_DELAY, REPO, Cli, copy_original, edit_vm, mutations, node_seed

from pve_sim.fixture import SimNode

SHIPPED = ["running", "guest agent", "cloud-init", "address"]
#: What `cloud-init status --long` prints in a guest whose first boot finished (cloud-init 24.1).
DONE = (
    "status: done\nextended_status: done\nboot_status_code: enabled-by-generator\n"
    "detail: DataSourceNoCloud [seed=/dev/sr0]\nerrors: []\nrecoverable_errors: {}\n"
)
CLOUD_INIT = r"cloud-init status --long$"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimNode, Path]]:
    """One node for the module: 1001 (and what it depends on) converged once from the old
    configuration. Nothing is scripted: the simulated cloud image answers `cloud-init status
    --long` and the agent's interfaces as a booted one does."""
    tmp = tmp_path_factory.mktemp("vm-health")
    node = SimNode.start(tmp / "node", seed=node_seed(tmp))
    node.set_agent_delay(AGENT_DELAY)
    etc = copy_original(tmp)
    with pytest.MonkeyPatch.context() as patch:
        result = Cli(node, patch, tmp)("--config-dir", str(etc), "converge", "1001")
    assert result.exit_code == 0, result.output
    yield node, etc
    node.stop()


def restore(node: SimNode) -> None:
    """Undo on the shared node what a test of this module may leave: scripted answers, a silent
    agent, 1001 stopped. Done before each test, so no test sees another's leftovers."""
    node.clear_scripts()
    node.set_agent_delay(AGENT_DELAY)  # the agent answers this long after the VM's start
    if node.run(["qm", "status", "1001"]).stdout != "status: running\n":
        node.run(["qm", "start", "1001"], check=True)
    deadline = time.monotonic() + 30
    while node.run(["qm", "guest", "cmd", "1001", "ping"]).returncode != 0:
        assert time.monotonic() < deadline, "the guest agent of 1001 does not answer"
        time.sleep(AGENT_DELAY / 4)


@pytest.fixture
def cli(built: tuple[SimNode, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    restore(built[0])
    return Cli(built[0], monkeypatch, tmp_path)


@pytest.fixture
def converged(built: tuple[SimNode, Path], cli: Cli, tmp_path: Path) -> Path:
    """A copy of the configuration 1001 was converged from, for the test to edit."""
    return Path(shutil.copytree(built[1], tmp_path / "etc"))


def test_the_simulated_image_answers_as_cloud_init_does(cli: Cli, converged: Path) -> None:
    argv = ["qm", "guest", "exec", "1001", "--", "cloud-init", "status", "--long"]
    answer = json.loads(cli.node.run(argv).stdout)
    assert (answer["exitcode"], answer["out-data"]) == (0, DONE)


def _check(cli: Cli, etc: Path, *args: str) -> tuple[int, dict[tuple[int, str], dict[str, Any]]]:
    """``phoenix health-check 1001 -o json``: its exit code and rows by (target, check), the
    document valid against its schema."""
    proc = cli.subprocess("--config-dir", str(etc), "health-check", "1001", *args, "-o", "json")
    document = json.loads(proc.stdout)
    schema = json.loads((REPO / "docs" / "json" / "health.v2.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["exit_code"] == proc.returncode, proc.stderr
    return proc.returncode, {(r["target"], r["check"]): r for r in document["results"]}


def _results(rows: dict[tuple[int, str], dict[str, Any]]) -> list[tuple[str, str]]:
    return [(check, row["result"]) for (_, check), row in rows.items()]


def test_a_converged_vm_passes_every_shipped_check_and_only_reads(
    cli: Cli, converged: Path
) -> None:
    mark = cli.node.mark()
    code, rows = _check(cli, converged)
    assert code == 0, rows
    assert _results(rows) == [("dependencies", "passed")] + [(c, "passed") for c in SHIPPED]
    assert rows[(1001, "address")]["output"] == "10.0.0.111/24"
    assert rows[(1001, "guest agent")]["where"] == "host"
    assert rows[(1001, "cloud-init")]["where"] == "VM 1001"
    assert mutations(cli.node.since(mark)) == []

    table = cli.subprocess("--config-dir", str(converged), "health-check", "1001")
    assert table.returncode == 0, table.stdout + table.stderr
    assert "health-check: 5 passed, 0 failed, 0 skipped" in table.stdout


def test_a_stopped_vm_fails_running_and_skips_the_rest(cli: Cli, converged: Path) -> None:
    cli.node.run(["qm", "stop", "1001"], check=True)
    code, rows = _check(cli, converged)
    assert code == 1
    assert rows[(1001, "running")]["reason"] == "VM 1001 is stopped"
    for name in SHIPPED[1:]:
        assert rows[(1001, name)]["result"] == "skipped"
        assert rows[(1001, name)]["reason"] == "not run: running failed"


def test_a_silent_guest_agent_fails_with_its_error_and_skips_the_guest_checks(
    cli: Cli, converged: Path
) -> None:
    node = cli.node
    node.set_agent_delay(3600)  # the VM boots again, its agent never answers
    node.run(["qm", "stop", "1001"], check=True)
    node.run(["qm", "start", "1001"], check=True)
    code, rows = _check(cli, converged)
    assert code == 1
    assert rows[(1001, "running")]["result"] == "passed"
    agent = rows[(1001, "guest agent")]
    assert agent["result"] == "failed"
    assert agent["reason"].startswith("guest agent does not answer: `")
    assert "qm guest cmd 1001 ping" in agent["reason"]
    assert agent["reason"].endswith("QEMU guest agent is not running")
    assert rows[(1001, "cloud-init")]["reason"] == "not run: guest agent failed"
    assert rows[(1001, "address")]["result"] == "skipped"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"stdout": "status: running\nextended_status: running\ndetail: DataSourceNoCloud\n"},
            "cloud-init is not done: status running",
        ),
        (
            {
                "rc": 1,
                "stdout": "status: error\nextended_status: error - done\n"
                "detail: DataSourceNoCloud [seed=/dev/sr0]\nerrors:\n"
                "\t- ('ssh_authkey_fingerprints', KeyError('phoenix_user'))\n"
                "recoverable_errors: {}\n",
            },
            "cloud-init error - done: ('ssh_authkey_fingerprints', KeyError('phoenix_user'))",
        ),
        (
            {
                "rc": 2,
                "stdout": "status: done\nextended_status: degraded done\n"
                "detail: DataSourceNoCloud [seed=/dev/sr0]\nerrors: []\nrecoverable_errors:\n"
                "WARNING:\n\t- Failed at merging in cloud config part from p-01\n",
            },
            "cloud-init degraded done: Failed at merging in cloud config part from p-01",
        ),
    ],
    ids=["running", "error", "degraded"],
)
def test_cloud_init_not_done_or_failed_fails_with_what_it_says(
    cli: Cli, converged: Path, answer: dict[str, Any], reason: str
) -> None:
    cli.node.script_exec(1001, CLOUD_INIT, **answer)
    code, rows = _check(cli, converged)
    assert code == 1
    assert rows[(1001, "cloud-init")]["result"] == "failed"
    assert rows[(1001, "cloud-init")]["reason"] == reason
    assert rows[(1001, "address")]["result"] == "passed"  # not required: still checked


def test_an_address_other_than_the_configured_one_fails(cli: Cli, converged: Path) -> None:
    net = {"ip": "10.0.0.112/24", "gw": "10.0.0.1", "nameserver": "10.0.0.13"}
    edit_vm(converged, 1001, network_config=net)
    code, rows = _check(cli, converged)
    assert code == 1
    assert rows[(1001, "address")]["reason"] == "VM 1001 has 10.0.0.111/24, not 10.0.0.112/24"
    # dhcp: no address to expect, no address check
    edit_vm(converged, 1001, network_config={"ip": "dhcp"})
    code, rows = _check(cli, converged)
    assert code == 0, rows
    assert (1001, "address") not in rows


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)


def test_configured_checks_and_test_suites_of_a_vm_run(
    cli: Cli, converged: Path, tmp_path: Path
) -> None:
    _script(converged / "health_checks" / "check_portainer.sh", 'echo "portainer of VM $1"\n')
    _script(converged / "tests" / "smoke" / "api.sh", 'echo "API of VM $1 down"; exit 1\n')
    _script(converged / "tests" / "smoke" / "inside.sh", "true\n")
    edit_vm(
        converged,
        1001,
        health_checks=[{"name": "portainer", "script": "check_portainer.sh"}],
        tests={
            "smoke": [
                {"name": "api", "path": "smoke/api.sh", "where": "host"},
                {"name": "inside", "path": "smoke/inside.sh"},
            ]
        },
    )
    code, rows = _check(cli, converged)
    assert code == 0, rows
    assert list(rows)[-1] == (1001, "portainer")
    assert rows[(1001, "portainer")]["output"] == "portainer of VM 1001"

    junit = tmp_path / "report.xml"
    proc = cli.subprocess(
        "--config-dir", str(converged), "test", "1001", "--suite", "smoke", "--junit", str(junit)
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    smoke = suites["1001.smoke"]
    assert (smoke.get("tests"), smoke.get("failures")) == ("2", "1")
    failed = smoke.find("testcase[@name='api']/failure")
    assert failed is not None and "API of VM 1001 down" in (failed.text or "")
    # The guest-side test was pushed into the VM through its agent and passed.
    assert smoke.find("testcase[@name='inside']/failure") is None
