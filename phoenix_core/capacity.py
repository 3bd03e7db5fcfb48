"""Does a node have the memory for the guests a run would start? (``plan`` and ``LetsGo``
say so when it does not; ``--strict`` refuses.)

The core knows no Proxmox tool: it asks the managers of the targets, through two optional
methods of the Manager contract, ``node_facts(target, ctx)`` (the name and memory of the
target's node, read cheaply, once per node and run) and ``memory(target)`` (the bytes a guest commits while it runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:
    from phoenix_core.config.models import TargetConfig
    from phoenix_core.engine import Engine
    from phoenix_core.manager import RunContext

GIB = 1024**3


@attrs.frozen
class NodeFacts:
    """A node as Proxmox names it, and its memory in bytes."""

    name: str
    memory: int


class NodeInfo(Protocol):
    """Optional methods of a manager: what its targets' node is and what they commit."""

    def node_facts(self, target: TargetConfig, ctx: RunContext) -> NodeFacts | None:
        """The name and memory of ``target``'s node, with a query only; None: cannot tell."""
        ...

    def memory(self, target: TargetConfig) -> int | None:
        """The bytes ``target`` commits while it runs; None when unknown."""
        ...


@attrs.frozen
class Overcommit:
    """The guests that would run on a node commit more memory than it has."""

    node: str
    guests: int
    committed: int
    memory: int

    def __str__(self) -> str:
        return (
            f"the {self.guests} guests that would run on {self.node} commit "
            f"{self.committed / GIB:.1f} GiB of memory; the node has {self.memory / GIB:.1f} GiB"
        )


def node_facts(engine: Engine, target: TargetConfig) -> NodeFacts | None:
    """What ``target``'s manager reads of its node (None: it reads nothing, or cannot)."""
    manager = engine.plugins.manager(target.kind)
    read = getattr(manager, "node_facts", None)
    return None if read is None else read(target, engine.context(target))


def overcommitted(engine: Engine, guests: Iterable[TargetConfig]) -> list[Overcommit]:
    """Each node whose memory the non-template ``guests`` on it would exceed, running."""
    by_node: dict[str | None, list[tuple[TargetConfig, int]]] = {}
    for guest in guests:
        if guest.is_host or guest.is_template:
            continue
        memory = getattr(engine.plugins.manager(guest.kind), "memory", None)
        committed = None if memory is None else memory(guest)
        if committed:
            by_node.setdefault(guest.common.node, []).append((guest, committed))
    found = []
    for running in by_node.values():
        facts = node_facts(engine, running[0][0])
        total = sum(committed for _, committed in running)
        if facts is not None and facts.memory and total > facts.memory:
            found.append(Overcommit(facts.name, len(running), total, facts.memory))
    return found
