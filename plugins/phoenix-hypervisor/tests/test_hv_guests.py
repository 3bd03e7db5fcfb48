"""A guest verb changes guests only (issue 17): with the host manager installed, a guest
requires just the host features its configuration needs, and only checks them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hv_support import configure, mutating, phoenix, start

from phoenix_core.names import HYPERVISOR_FILE
from pve_sim.fixture import SimNode

CONTAINER = {
    "name": "web",
    "memory_mb": 512,
    "cores": 1,
    "template": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
    "storage_pool": "local-lvm",
    "storage_size_gb": 4,
    "network_config": {"name": "eth0", "bridge": "vmbr0", "ip": "10.0.9.21/24", "gw": "10.0.9.1"},
}


@pytest.fixture
def node(tmp_path: Path) -> Iterator[SimNode]:
    """The simulator's default node (a fresh install's apt sources and storages)."""
    sim = SimNode.start(tmp_path / "node")
    yield sim
    sim.stop()


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_converge_of_one_container_runs_only_guest_commands(node: SimNode, tmp_path: Path) -> None:
    """A minimal hypervisor file: converge 101 creates the container with pct (and guest
    pvesh) alone; apt, time, users, firewall and DNS are not touched, the apt sources stay
    as the installer left them, and a second converge issues no mutating command."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / HYPERVISOR_FILE).write_text(json.dumps({}))
    (etc / "phoenix_lxc_configs.json").write_text(json.dumps({"lxc_configs": {"101": CONTAINER}}))
    apt = node.dir / "etc" / "apt"
    sources = files_under(apt)
    assert any("enterprise" in name for name in sources)
    first = phoenix(node, etc, "converge", "101", "-o", "json")
    assert first.returncode == 0, first.stdout + first.stderr
    assert [o["id"] for o in json.loads(first.stdout)["outcomes"]] == [101]
    mutations = [e["argv"] for e in node.journal() if e["mutating"]]
    assert mutations and {argv[0] for argv in mutations} <= {"pct", "pvesh"}
    assert all("/lxc/101" in " ".join(argv) for argv in mutations if argv[0] == "pvesh")
    assert files_under(apt) == sources
    mark = node.mark()
    second = phoenix(node, etc, "converge", "101")
    assert second.returncode == 0, second.stdout + second.stderr
    assert [e["argv"] for e in node.since(mark) if e["mutating"]] == []


def test_dns_records_follow_the_configuration_not_the_installed_managers(tmp_path: Path) -> None:
    """The VMs' records are written by a phoenix without phoenix-vm too (issue 17): the same
    file either way, so installing or removing a manager never rewrites it."""
    sim = start(tmp_path)
    try:
        etc = configure(tmp_path, sim)
        without_vm = {"PHOENIX_DISABLE_PLUGINS": "vm"}
        first = phoenix(sim, etc, "setup", "apt", "packages", "dns", env=without_vm)
        assert first.returncode == 0, first.stdout + first.stderr
        conf = (sim.dir / "etc" / "dnsmasq.d" / "phoenix.conf").read_text().splitlines()
        assert "host-record=portainer.internal.thinkheads.ai,10.0.0.111" in conf
        assert "host-record=drphoenix.internal.thinkheads.ai,10.0.0.102" in conf
        mark = sim.mark()
        again = phoenix(sim, etc, "setup", "dns")
        assert again.returncode == 0, again.stdout + again.stderr
        assert mutating(sim, mark) == []
    finally:
        sim.stop()
