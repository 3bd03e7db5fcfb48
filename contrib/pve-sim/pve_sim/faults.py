"""Fault knobs that fakepve's API cannot reach: failing the Nth mutating command, latency.

Guest locks (`lock: backup` ...) and config flocks are delegated to fakepve's own Python API
by the owner; this module only keeps the counters the owner consults before each command.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
