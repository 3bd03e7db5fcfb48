"""The phoenix command line against a node over SSH: the local integration checks, remotely.

A real sshd on 127.0.0.1 whose PATH holds the Proxmox node simulator's tools stands in for the
node; phoenix reaches it with ``--host`` and the user's own ``~/.ssh`` (a temporary HOME with a
config naming the key, and a known_hosts file), exactly as a workstation user would. The sshd
runs in a mount namespace of its own whose /proc shows the simulated node's mount table
(pmxcfs at /etc/pve), so phoenix's node probe sees a node; that needs root (else skipped).
The same sshd without it is this machine, which phoenix refuses as not a node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ssh.sshd_server import SSHServer

fixture = pytest.importorskip("pve_sim.fixture", reason="phoenix-pve-sim is not installed")
pytest.importorskip("phoenix_lxc", reason="phoenix-lxc is not installed")

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "contrib" / "pve-sim" / "seeds" / "original-etc.json"
HYPERVISOR = ROOT / "contrib" / "examples" / "original-etc" / "phoenix_hypervisor_config.json"
TEMPLATE = "/fastData/shared-iso/template/cache/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"


def container(name: str, last: int, **extra: Any) -> dict[str, Any]:
    """A small container desired running (``start_at_boot``: converge starts it)."""
    return {
        "start_at_boot": True,
        "name": name,
        "memory_mb": 1024,
        "cores": 1,
        "storage_pool": "quickOS-lxc-disks",
        "storage_size_gb": 8,
        "network_config": {
            "name": "eth0",
            "bridge": "vmbr0",
            "ip": f"10.0.7.{last}/24",
            "gw": "10.0.7.1",
        },
        "mac_address": f"52:54:00:00:07:{last:02x}",
        "unprivileged": True,
        **extra,
    }


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    node = fixture.SimNode.start(tmp_path_factory.mktemp("sim"), seed=SEED)
    yield node
    node.stop()


def node_server(sim: Any, directory: Path, *, pve_etc: bool = False) -> SSHServer:
    """A started sshd whose sessions see the simulated node's tools and mount table (and with
    ``pve_etc``, its /etc/pve at /etc/pve)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a node's /proc for sshd needs root and unshare(1)")
    proc = directory / "proc"
    proc.mkdir(parents=True)
    shutil.copy(sim.dir / "proc" / "mounts", proc / "mounts")
    (proc / "self").symlink_to(proc)
    return SSHServer(
        directory / "sshd",
        path_dirs=(str(sim.bin_dir),),
        proc=proc,
        pve_etc=sim.pve_etc if pve_etc else None,
    ).start()


@pytest.fixture(scope="module")
def server(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    sshd = node_server(sim, tmp_path_factory.mktemp("sshd"))
    yield sshd
    sshd.stop()


@pytest.fixture(scope="module")
def home(server: SSHServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's HOME: ~/.ssh/config names the key, known_hosts trusts the node."""
    home = tmp_path_factory.mktemp("home")
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700)
    (ssh / "config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {server.client_key}\n  IdentitiesOnly yes\n"
    )
    (ssh / "known_hosts").write_text(server.known_hosts_line + "\n")
    return home


@pytest.fixture(scope="module")
def etc(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template, a clone of it and a clone of the clone, on the simulated node."""
    etc = tmp_path_factory.mktemp("etc")
    hypervisor = json.loads(HYPERVISOR.read_text())
    hypervisor["core_paths"] = {"lxc_config_file": "phoenix_lxc_configs.json"}
    hypervisor["pve_etc"] = str(sim.pve_etc)  # over SSH, the simulator's files are real paths
    (etc / "phoenix_hypervisor_config.json").write_text(json.dumps(hypervisor))
    guests = {
        "970": container("ssh-tpl", 70, template=TEMPLATE, is_template=True),
        "971": container("ssh-clone", 71, clone_from_ctid="970", template_snapshot_name="base"),
        "972": container("ssh-leaf", 72, clone_from_ctid="971", memory_mb=768),
    }
    (etc / "phoenix_lxc_configs.json").write_text(json.dumps({"lxc_configs": guests}))
    return etc


def invocation(
    server: SSHServer, home: Path, etc: Path, *args: str
) -> tuple[list[str], dict[str, str]]:
    """argv and environment of ``phoenix --host USER@127.0.0.1:PORT ...`` for the user at ``home``."""
    # Host setup (phoenix-hypervisor) is not what these checks are about: left out.
    env = {
        **os.environ,
        "HOME": str(home),
        "SSH_AUTH_SOCK": "",
        "PHOENIX_DISABLE_PLUGINS": "hypervisor",
        "PHOENIX_LOCK_DIR": str(home / "run-lock"),
    }
    argv = [
        str(Path(sys.executable).with_name("phoenix")),
        "--log-dir",
        str(home / "logs"),
        "--host",
        f"{server.user}@127.0.0.1:{server.port}",
        "--config-dir",
        str(etc),
        *args,
    ]
    return argv, env


def phoenix(
    server: SSHServer, home: Path, etc: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    argv, env = invocation(server, home, etc, *args)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def test_status_create_converge_and_a_second_converge_over_ssh(
    sim: Any, server: SSHServer, home: Path, etc: Path
) -> None:
    before = phoenix(server, home, etc, "status", "-o", "json")
    assert before.returncode == 0, before.stderr
    assert [(r["id"], r["exists"]) for r in json.loads(before.stdout)["targets"]] == [
        (970, False),
        (971, False),
        (972, False),
    ]

    created = phoenix(server, home, etc, "create", "972")
    assert created.returncode == 0, created.stdout + created.stderr
    made = [e["argv"][:4] for e in sim.mutating() if e["argv"][1] in ("create", "clone")]
    assert [argv[:3] for argv in made] == [
        ["pct", "create", "970"],
        ["pct", "clone", "970"],
        ["pct", "clone", "971"],
    ]

    logins = server.accepted_logins()
    mark = sim.mark()
    again = phoenix(server, home, etc, "converge")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [e["argv"] for e in sim.since(mark) if e["mutating"]] == []
    assert "converge: 3 targets: 3 in sync" in again.stdout
    assert server.accepted_logins() == logins + 1  # one connection for every command of the run

    after = json.loads(phoenix(server, home, etc, "status", "-o", "json").stdout)
    assert [(r["id"], r["exists"], r["status"]) for r in after["targets"]] == [
        (970, True, "stopped"),
        (971, True, "running"),
        (972, True, "running"),
    ]


def test_drift_is_repaired_over_ssh(sim: Any, server: SSHServer, home: Path, etc: Path) -> None:
    assert phoenix(server, home, etc, "converge", "972").returncode == 0
    sim.run(["pct", "set", "972", "--memory", "2048"], check=True)
    plan = phoenix(server, home, etc, "plan", "972")
    assert "memory: 2048 -> 768" in plan.stdout
    mark = sim.mark()
    assert phoenix(server, home, etc, "converge", "972").returncode == 0
    assert [e["argv"] for e in sim.since(mark) if e["mutating"]] == [
        ["pct", "set", "972", "--memory", "768"]
    ]


def test_this_machine_over_ssh_is_refused_as_not_a_node(
    sim: Any, etc: Path, tmp_path: Path
) -> None:
    """The same sshd without the node's mount table is this machine: not a node, exit 2,
    nothing run (the journal of the simulator, whose tools are on its PATH, stays empty)."""
    server = SSHServer(tmp_path / "sshd", path_dirs=(str(sim.bin_dir),)).start()
    try:
        home = tmp_path / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        (home / ".ssh" / "config").write_text(
            f"Host 127.0.0.1\n  IdentityFile {server.client_key}\n"
        )
        (home / ".ssh" / "known_hosts").write_text(server.known_hosts_line + "\n")
        mark = sim.mark()
        for verb in (["plan"], ["converge"], ["converge", "--dry-run"]):
            refused = phoenix(server, home, etc, *verb)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert "127.0.0.1 is not a Proxmox VE node: pmxcfs" in refused.stderr
            assert "Traceback" not in refused.stderr
        assert sim.since(mark) == []
    finally:
        server.stop()


def test_an_unknown_host_key_is_refused_and_nothing_runs(
    sim: Any, server: SSHServer, home: Path, etc: Path, tmp_path: Path
) -> None:
    stranger = tmp_path / "home"
    shutil.copytree(home, stranger)
    (stranger / ".ssh" / "known_hosts").write_text("")
    mark = sim.mark()
    result = phoenix(server, stranger, etc, "converge", "972")
    assert result.returncode == 1
    assert f"host key for [127.0.0.1]:{server.port} is not known" in result.stdout + result.stderr
    assert "--accept-new-host-keys" in result.stdout + result.stderr
    assert sim.since(mark) == []
    accepted = phoenix(server, stranger, etc, "--accept-new-host-keys", "status", "972")
    assert accepted.returncode == 0, accepted.stderr
    assert f"[127.0.0.1]:{server.port}" in (stranger / ".ssh" / "known_hosts").read_text()


def test_sshd_killed_mid_converge_then_a_rerun_converges(
    sim: Any, home: Path, etc: Path, tmp_path: Path
) -> None:
    server = node_server(sim, tmp_path)
    own_home = tmp_path / "home"
    shutil.copytree(home, own_home)
    (own_home / ".ssh" / "config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {server.client_key}\n"
    )
    (own_home / ".ssh" / "known_hosts").write_text(server.known_hosts_line + "\n")
    guests = json.loads((etc / "phoenix_lxc_configs.json").read_text())["lxc_configs"]
    guests["973"] = container("ssh-victim", 73, clone_from_ctid="970", cores=2)
    victim_etc = tmp_path / "etc"
    shutil.copytree(etc, victim_etc)
    (victim_etc / "phoenix_lxc_configs.json").write_text(json.dumps({"lxc_configs": guests}))
    try:
        sim.set_latency(1.0)
        mark = sim.mark()
        argv, env = invocation(server, own_home, victim_etc, "converge", "973")
        run = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while not any(e["mutating"] for e in sim.since(mark)) and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        out, err = run.communicate(timeout=60)
        assert run.returncode == 1, out + err
        assert "lost" in out and "973" in out
        assert "Traceback" not in err
        sim.clear_faults()
        # The command the killed run had sent still runs on the node (1 s at this latency):
        # the rerun starts once it has ended, or it would land among the rerun's own.
        sim.wait_idle()
        assert "lock:" not in sim.run(["pct", "config", "973"]).stdout
        server.start()
        rerun = phoenix(server, own_home, victim_etc, "converge", "973")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert "cores: 2\n" in sim.run(["pct", "config", "973"]).stdout
        mark = sim.mark()
        assert phoenix(server, own_home, victim_etc, "converge", "973").returncode == 0
        assert [e for e in sim.since(mark) if e["mutating"]] == []
    finally:
        sim.clear_faults()
        server.stop()
