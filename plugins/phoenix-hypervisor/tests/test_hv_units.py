"""Pieces of the host manager on their own: marked blocks, ZFS sizes, the network-change rule
over SSH (on a recording host, which counts as remote)."""

from __future__ import annotations

from pathlib import Path

import pytest
from phoenix_hypervisor.features import (
    ALLOW_NETWORK_CHANGE,
    FeatureFailed,
    HostContext,
    firewall,
)
from phoenix_hypervisor.features.zfs import zfs_bytes
from phoenix_hypervisor.hostfs import BEGIN, END, NodeFiles, with_block
from phoenix_hypervisor.model import HostSpec

from phoenix_core.config.models import Config, HypervisorConfig
from phoenix_core.testing.host import RecordingHost
from phoenix_pve.model import Firewall, FirewallRule
from pve_sim.tool_zfs import nicestrtonum


def test_marked_block_keeps_everything_else() -> None:
    text = "[global]\n   workgroup = X\n"
    once = with_block(text, "include = a")
    assert once == f"{text}{BEGIN}\ninclude = a\n{END}\n"
    assert with_block(once + "[tail]\n", "include = b") == (
        f"{text}{BEGIN}\ninclude = b\n{END}\n[tail]\n"
    )
    assert with_block(once, "include = a") == once
    assert with_block(None, "x") == f"{BEGIN}\nx\n{END}\n"


@pytest.mark.parametrize("size", ["128K", "16K", "1M", "800G", "1.4T", "2T", "10G", "512"])
def test_zfs_sizes_compare_as_zfs_get_p_prints_them(size: str) -> None:
    """phoenix's reading of a configured size equals the simulator's zfs_nicestrtonum."""
    assert zfs_bytes(size) == nicestrtonum(size)


def context(host: RecordingHost, *flags: str) -> HostContext:
    rule = FirewallRule(type="in", action="ACCEPT", proto="tcp", port="443")
    spec = HostSpec(firewall=Firewall(enabled=True, policy_in="DROP", rules=[rule]))
    config = Config(Path("/nonexistent"), HypervisorConfig(), {}, {})
    return HostContext(host, NodeFiles(host), spec, config, frozenset(flags), remote=True)


def fake_node() -> RecordingHost:
    host = RecordingHost()
    host.on(["pvesh", "get", "/cluster/firewall/options"], stdout="{}")
    host.on(["pvesh", "get", "/cluster/firewall/rules"], stdout="[]")
    return host


def test_firewall_change_over_ssh_is_refused_without_the_flag() -> None:
    host = fake_node()
    (step,) = firewall.steps(context(host))
    changes = step.check()
    assert changes
    with pytest.raises(FeatureFailed, match="--allow-network-change"):
        step.apply(changes)
    assert host.mutations == []


def test_firewall_change_over_ssh_runs_under_a_timed_revert() -> None:
    host = fake_node()
    (step,) = firewall.steps(context(host, ALLOW_NETWORK_CHANGE))
    step.apply(step.check())
    mutations = host.mutations
    assert mutations[0] == (
        "systemd-run", "--unit=phoenix-firewall-revert", "--on-active=120", "--",
        "pvesh", "set", "/cluster/firewall/options",
        "--enable", "0", "--delete", "policy_in", "--delete", "policy_out",
    )  # fmt: skip
    assert mutations[1][:3] == ("pvesh", "set", "/cluster/firewall/options")
    assert mutations[-1] == ("systemctl", "stop", "phoenix-firewall-revert.timer")
    assert ("true",) in host.queries
