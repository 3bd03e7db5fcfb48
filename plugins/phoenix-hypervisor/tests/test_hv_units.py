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
from phoenix_hypervisor.features.firewall import CLUSTER_FW
from phoenix_hypervisor.features.zfs import zfs_bytes
from phoenix_hypervisor.hostfs import BEGIN, END, NodeFiles, with_block
from phoenix_hypervisor.model import HostSpec

from phoenix_core.config.models import Config, HypervisorConfig
from phoenix_core.errors import HostError
from phoenix_core.runlock import lock_dir
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


class Node(RecordingHost):
    """The recording host of an SSH node: it answers whether a new connection is accepted."""

    def __init__(self, accepts: bool = True) -> None:
        super().__init__()
        self.accepts = accepts
        self.new_connections = 0
        self.on(["pvesh", "get", "/cluster/firewall/options"], stdout="{}")
        self.on(["pvesh", "get", "/cluster/firewall/rules"], stdout="[]")

    def check_new_connection(self) -> None:
        self.new_connections += 1
        if not self.accepts:
            raise HostError("cannot connect to root@pve1:22: timed out")


def test_firewall_change_over_ssh_is_refused_without_the_flag() -> None:
    host = Node()
    (step,) = firewall.steps(context(host))
    changes = step.check()
    assert changes
    with pytest.raises(FeatureFailed, match="--allow-network-change"):
        step.apply(changes)
    assert host.mutations == []


def test_firewall_change_over_ssh_runs_under_a_timed_revert_of_the_whole_file() -> None:
    """Rules, options, aliases and IP sets all live in cluster.fw: the revert puts the file
    back as it was; the timer is stopped only once a new SSH connection got in."""
    host = Node()
    before = "[OPTIONS]\n\nenable: 1\n\n[RULES]\n\nIN SSH(ACCEPT)\n"
    host.files[CLUSTER_FW] = before.encode()
    (step,) = firewall.steps(context(host, ALLOW_NETWORK_CHANGE))
    step.apply(step.check())
    saved = f"{lock_dir()}/cluster.fw.before"
    assert host.files[saved] == before.encode()
    writes = [c for c in host.journal if c.argv == ("write", saved)]
    assert writes and host.modes[saved] == 0o600
    mutations = host.mutations
    revert = mutations.index(
        ("systemd-run", "--unit=phoenix-firewall-revert", "--on-active=120", "--",
         "cp", "--", saved, CLUSTER_FW)
    )  # fmt: skip
    changes = [m for m in mutations if m[:2] == ("pvesh", "set") or m[:2] == ("pvesh", "create")]
    assert changes and mutations.index(changes[0]) > revert
    assert host.new_connections == 1
    assert mutations[-1] == ("systemctl", "stop", "phoenix-firewall-revert.timer")


def test_without_a_firewall_file_the_revert_removes_the_new_one() -> None:
    host = Node()
    (step,) = firewall.steps(context(host, ALLOW_NETWORK_CHANGE))
    step.apply(step.check())
    assert host.mutations[0] == (
        "systemd-run", "--unit=phoenix-firewall-revert", "--on-active=120", "--",
        "rm", "-f", "--", CLUSTER_FW,
    )  # fmt: skip


def test_a_node_refusing_new_connections_keeps_the_revert_armed() -> None:
    host = Node(accepts=False)
    (step,) = firewall.steps(context(host, ALLOW_NETWORK_CHANGE))
    with pytest.raises(FeatureFailed, match=r"refused a new SSH connection .* undone within 120 s"):
        step.apply(step.check())
    assert ("systemctl", "stop", "phoenix-firewall-revert.timer") not in host.mutations
