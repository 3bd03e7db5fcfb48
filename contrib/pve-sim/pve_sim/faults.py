"""Fault knobs that fakepve's API cannot reach: failing the Nth mutating command, latency,
the start-up cost of a Proxmox tool.

Guest locks (`lock: backup` ...) and config flocks are delegated to fakepve's own Python API
by the owner; this module only keeps the counters the owner consults before each command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The Perl command-line tools of a node: each invocation starts Perl and loads the PVE
#: modules before it does anything. All are `#!/usr/bin/perl` scripts: pve-container src/pct,
#: qemu-server src/bin/qm, pve-storage src/bin/pvesm, pve-access-control src/pveum,
#: pve-manager bin/pvesh, bin/pveam and bin/pveversion, pve-firewall src/pve-firewall.
#: ``--tool-cost`` charges that start-up to these, not to host tools (zpool, systemctl ...)
#: nor to file reads.
PROXMOX_TOOLS = frozenset(
    {"pct", "qm", "pvesh", "pvesm", "pveum", "pveam", "pveversion", "pve-firewall"}
)


@dataclass
class MutationFault:
    """Fail the nth mutating command from now (1 = the next one) with message."""

    nth: int
    message: str | None = None


@dataclass
class Faults:
    """Pending faults of one node."""

    mutations: list[MutationFault] = field(default_factory=list)
    latency: float = 0.0
    #: Seconds every Proxmox tool invocation waits before it runs (its Perl start-up).
    tool_cost: float = 0.0

    def start_up(self, tool: str) -> float:
        """The start-up cost of running ``tool``."""
        return self.tool_cost if tool in PROXMOX_TOOLS else 0.0

    def next_mutation(self) -> MutationFault | None:
        """Count one mutating command; the fault that fires on it, if any."""
        fired = None
        for fault in self.mutations:
            fault.nth -= 1
            if fault.nth == 0 and fired is None:
                fired = fault
        self.mutations = [f for f in self.mutations if f.nth > 0]
        return fired

    def clear(self) -> None:
        self.mutations.clear()
        self.latency = 0.0
        self.tool_cost = 0.0
