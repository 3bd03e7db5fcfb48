"""The Proxmox node simulator's tools over SSH: same results as locally, exact argv, recovery.

The sshd's PATH holds the simulator's ``pct``/``qm``/``pvesm`` shims (``SetEnv PATH``), as the
issue's acceptance setup asks. The simulator's journal records the argv each tool received on
the node's side, which is what the quoting property is checked against.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoenix_core.errors import HostError
from phoenix_core.hosts.ssh import SSHHost
from tests.ssh.sshd_server import SSHServer

fixture = pytest.importorskip("pve_sim.fixture", reason="phoenix-pve-sim is not installed")

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    node = fixture.SimNode.start(tmp_path_factory.mktemp("sim"))
    yield node
    node.stop()


@pytest.fixture(scope="module")
def sim_sshd(sim, tmp_path_factory: pytest.TempPathFactory):
    server = SSHServer(tmp_path_factory.mktemp("simsshd"), path_dirs=(str(sim.bin_dir),)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sim_host(sim_sshd):
    """One connection for the property test's many examples."""
    known_hosts = sim_sshd.dir / "known_hosts"
    known_hosts.write_text(sim_sshd.known_hosts_line + "\n")
    host = SSHHost("127.0.0.1", **sim_sshd.host_options(known_hosts))
    yield host
    host.close()


def converge(host, vmid: int, memory: int) -> None:
    """A minimal converge: create the container if missing, then fix its memory."""
    if not host.query(["pct", "status", str(vmid)]).ok:
        argv = ["pct", "create", str(vmid), TEMPLATE, "--hostname", f"ct{vmid}"]
        host.change([*argv, "--storage", "local-lvm"]).check()
    config = host.query(["pct", "config", str(vmid)]).check().stdout
    if f"memory: {memory}\n" not in config:
        host.change(["pct", "set", str(vmid), "--memory", str(memory)]).check()


@pytest.mark.parametrize(
    "argv", [["pct", "list"], ["pvesm", "status"], ["pct", "status", "999"], ["qm", "list"]]
)
def test_tools_answer_over_ssh_exactly_as_locally(sim, sim_sshd, connect, argv):
    local = sim.run(argv)
    remote = connect(sim_sshd).query(argv)
    assert (remote.returncode, remote.stdout, remote.stderr) == (
        local.returncode, local.stdout, local.stderr,
    )  # fmt: skip


def test_converge_twice_second_run_changes_nothing(sim, sim_sshd, connect):
    host = connect(sim_sshd)
    converge(host, 210, 768)
    assert "memory: 768\n" in sim.run(["pct", "config", "210"]).stdout
    mark = sim.mark()
    converge(host, 210, 768)
    assert [e for e in sim.since(mark) if e["mutating"]] == []


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_config_values_reach_the_tool_as_exact_argv(sim, sim_host, value):
    """Whatever a config value holds, the node's tool receives it as one intact argument."""
    mark = sim.mark()
    argv = ["pct", "set", "999", "--description", value, "--tags", f"-{value};$(x)"]
    sim_host.change(argv)
    assert [e["argv"] for e in sim.since(mark)] == [argv]


def test_killed_sshd_mid_converge_then_rerun_reaches_the_state(sim, connect, tmp_path: Path):
    server = SSHServer(tmp_path / "sshd", path_dirs=(str(sim.bin_dir),)).start()
    try:
        host = connect(server)
        sim.set_latency(1.0)  # the create task takes a second: time to pull the plug
        threading.Timer(0.4, server.kill).start()
        with pytest.raises(HostError, match=r"connection to .* lost during `pct create 211 "):
            converge(host, 211, 640)
        sim.clear_faults()
        # The node keeps running the create task it was given (as a real node does), holding
        # the guest's lock; the rerun comes once that task is over.
        deadline = time.monotonic() + 10
        while "lock:" in sim.run(["pct", "config", "211"]).stdout and time.monotonic() < deadline:
            time.sleep(0.1)
        server.start()
        converge(connect(server), 211, 640)
        assert "memory: 640\n" in sim.run(["pct", "config", "211"]).stdout
    finally:
        sim.clear_faults()
        server.stop()


def test_the_node_snapshot_reads_every_guest_file_in_two_round_trips(sim, sim_sshd, connect):
    """``.members`` and ``.vmlist`` in one command, then every listed guest's conf and
    firewall file in one more, whatever the number of guests; a changed guest's files in one."""
    snapshot = pytest.importorskip("phoenix_pve.snapshot")
    guest = pytest.importorskip("phoenix_pve.guest")
    for vmid in (230, 231):
        sim.run(["pct", "create", str(vmid), TEMPLATE, "--storage", "local-lvm"], check=True)
    sim.run(["qm", "create", "232", "--name", "vm232"], check=True)
    sim.run(["pvesh", "set", "/nodes/localhost/lxc/231/firewall/options", "--enable", "1"])
    pve_etc = str(sim.pve_etc)
    host = connect(sim_sshd)
    node = snapshot.NodeSnapshot(host, pve_etc)
    listed = node.guests()
    assert {230, 231, 232} <= set(listed)
    files = [
        path
        for vmid, entry in sorted(listed.items())
        for path in (
            guest.BY_API[entry.type].conf_path(pve_etc, vmid),
            guest.firewall_path(pve_etc, vmid),
        )
    ]
    for path in files:
        local = Path(path).read_text() if Path(path).exists() else None
        assert node.file(path) == local
    assert "enable: 1" in node.file(guest.firewall_path(pve_etc, 231))
    assert (host.queries, host._sftp) == (2, None)
    node.forget(231, tuple(files[2:4]))
    sim.run(["pct", "set", "231", "--memory", "640"], check=True)
    assert "memory: 640\n" in node.file(files[2])
    assert (host.queries, host._sftp) == (3, None)
