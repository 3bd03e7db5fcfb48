# ruff: noqa: F811 - pytest fixtures imported from test_ssh_cli are used as arguments
"""The datacenter firewall changed over SSH, end to end: refused without
``--allow-network-change``; with it, ``cluster.fw`` saved on the node, a revert armed with
``systemd-run``, the change made, a **new** SSH connection proven, the revert disarmed; and
when phoenix dies between arming and disarming, or the node takes no new connection after
the change, the revert puts the file back.

The node is the simulator behind a real sshd (tests/ssh/test_ssh_cli.py), whose sessions also
see the simulated node's /etc/pve at /etc/pve (an overlay of /etc in sshd's own mount
namespace: this machine's /etc is never written). Time passes for the revert timer only when
the test says so (``SimNode.elapse_timers``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pve_sim import conformance
from tests.ssh.sshd_server import SSHServer
from tests.ssh.test_ssh_cli import HYPERVISOR, home, invocation, node_server, sim  # noqa: F401

pytest.importorskip("phoenix_hypervisor", reason="phoenix-hypervisor is not installed")

REVERT = ["systemctl", "stop", "phoenix-firewall-revert.timer"]


@pytest.fixture(scope="module")
def server(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    sshd = node_server(sim, tmp_path_factory.mktemp("sshd"), pve_etc=True)
    yield sshd
    sshd.stop()


@pytest.fixture(scope="module")
def etc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The old hypervisor file (its datacenter firewall: DROP in, ACCEPT out, global rules)."""
    etc = tmp_path_factory.mktemp("etc")
    hypervisor = json.loads(HYPERVISOR.read_text())
    hypervisor["core_paths"] = {"lxc_config_file": "phoenix_lxc_configs.json"}
    (etc / "phoenix_hypervisor_config.json").write_text(json.dumps(hypervisor))
    (etc / "phoenix_lxc_configs.json").write_text(json.dumps({"lxc_configs": {}}))
    return etc


def setup(sim: Any, server: SSHServer, home: Path, etc: Path, *flags: str) -> subprocess.Popen[str]:
    """``phoenix --host ... setup firewall FLAGS`` started, with the host manager, and the run
    lock (where the saved file goes) in the node's directory."""
    argv, env = invocation(server, home, etc, "setup", "firewall", *flags)
    env |= {"PHOENIX_DISABLE_PLUGINS": "", "PHOENIX_LOCK_DIR": str(sim.dir / "run" / "phoenix")}
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def armed(sim: Any, server: SSHServer, home: Path, etc: Path, mark: int) -> subprocess.Popen[str]:
    """``setup firewall --allow-network-change`` started, once it armed the revert."""
    run = setup(sim, server, home, etc, "--allow-network-change")
    deadline = time.monotonic() + 60
    while not any(e["argv"][0] == "systemd-run" for e in sim.since(mark)):
        assert run.poll() is None and time.monotonic() < deadline, finished(run)
        time.sleep(0.05)
    return run


def finished(run: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = run.communicate(timeout=120)
    assert "Traceback" not in err
    return run.returncode, out + err


def cluster_fw(sim: Any) -> str | None:
    path = sim.pve_etc / "firewall" / "cluster.fw"
    return path.read_text() if path.exists() else None


def test_the_firewall_over_ssh_is_guarded_reverted_and_disarmed(
    sim: Any, server: SSHServer, home: Path, etc: Path
) -> None:
    # What the operator had: options and a rule, both to be restored by a revert.
    sim.run(["pvesh", "set", "/cluster/firewall/options", "--policy_in", "ACCEPT"], check=True)
    sim.run(["pvesh", "create", "/cluster/firewall/rules", "--type", "in", "--action", "ACCEPT",
             "--proto", "tcp", "--dport", "22", "--enable", "1"], check=True)  # fmt: skip
    before = cluster_fw(sim)
    assert before is not None and "policy_in: ACCEPT" in before
    options = json.loads(sim.run(["pvesh", "get", "/cluster/firewall/options",
                                  "--output-format", "json"]).stdout)  # fmt: skip

    # Without --allow-network-change: refused, nothing changed.
    mark = sim.mark()
    code, text = finished(setup(sim, server, home, etc))
    assert code == 1, text
    assert "--allow-network-change" in text
    assert [e["argv"] for e in sim.since(mark) if e["mutating"]] == []

    # phoenix dies after arming the revert, in the middle of the change (each Proxmox tool
    # takes 2 s): the timer, left armed, puts cluster.fw back when it elapses.
    sim.set_tool_cost(2.0)
    mark = sim.mark()
    run = armed(sim, server, home, etc, mark)
    time.sleep(0.5)  # phoenix's next command, the first change, is running on the node
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=30)
    time.sleep(2.5)  # which ends there
    sim.set_tool_cost(0)
    assert cluster_fw(sim) != before
    assert sim.run(["systemctl", "is-active", "phoenix-firewall-revert.timer"]).returncode == 0
    assert sim.elapse_timers() == ["phoenix-firewall-revert"]
    assert cluster_fw(sim) == before
    rules = sim.run(["pvesh", "get", "/cluster/firewall/rules", "--output-format", "json"])
    assert [r["dport"] for r in json.loads(rules.stdout)] == ["22"]
    after = sim.run(["pvesh", "get", "/cluster/firewall/options", "--output-format", "json"])
    assert json.loads(after.stdout) == options

    # The whole change: armed, made, a new connection proven, disarmed.
    logins, mark = server.accepted_logins(), sim.mark()
    code, text = finished(setup(sim, server, home, etc, "--allow-network-change"))
    assert code == 0, text
    changes = [e["argv"] for e in sim.since(mark) if e["mutating"]]
    assert changes[0][:3] == ["systemd-run", "--unit=phoenix-firewall-revert", "--on-active=120"]
    assert changes[0][3:] == ["--", "cp", "--", f"{sim.dir}/run/phoenix/cluster.fw.before",
                              "/etc/pve/firewall/cluster.fw"]  # fmt: skip
    assert any(argv[:3] == ["pvesh", "set", "/cluster/firewall/options"] for argv in changes)
    assert changes[-1] == REVERT
    # The run's own connection and the new one that proved the node still accepts logins.
    assert server.accepted_logins() == logins + 2
    assert sim.elapse_timers() == []
    assert "policy_in: DROP" in (cluster_fw(sim) or "")

    # In sync: nothing armed, nothing changed.
    mark = sim.mark()
    code, text = finished(setup(sim, server, home, etc, "--allow-network-change"))
    assert code == 0, text
    assert [e["argv"] for e in sim.since(mark) if e["mutating"]] == []
    # Every command shape sent is in docs/pve-sim.md's conformance table, citing its source.
    assert conformance.unlisted(sim.journal(), conformance.documented()) == []


def test_a_node_refusing_new_connections_after_the_change_keeps_the_revert_armed(
    sim: Any, server: SSHServer, home: Path, etc: Path
) -> None:
    """What the guard is for: after the change the node still serves the connection phoenix
    holds but accepts no new one (here: sshd's listener is gone). setup fails saying so, the
    revert stays armed, and when it elapses the file is back."""
    sim.run(["pvesh", "set", "/cluster/firewall/options", "--policy_in", "ACCEPT"], check=True)
    before = cluster_fw(sim)
    sim.set_tool_cost(1.0)  # each change takes a second: time to take the listener away
    mark = sim.mark()
    run = armed(sim, server, home, etc, mark)
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)  # the listener only: sessions live on
    try:
        code, text = finished(run)
    finally:
        sim.set_tool_cost(0)
        server.kill()
        server.start()
    assert code == 1, text
    assert "after the firewall change the node refused a new SSH connection" in text
    assert "undone within 120 s by phoenix-firewall-revert" in text
    changes = [e["argv"] for e in sim.since(mark) if e["mutating"]]
    assert any(argv[:3] == ["pvesh", "set", "/cluster/firewall/options"] for argv in changes)
    assert REVERT not in changes
    assert cluster_fw(sim) != before
    assert sim.elapse_timers() == ["phoenix-firewall-revert"]
    assert cluster_fw(sim) == before
