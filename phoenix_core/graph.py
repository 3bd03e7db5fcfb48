"""Dependency order: which guests come first, and the whole cycle when there is one.

Edges run from a guest to what it ``requires`` (clone source first, then ``dependencies``
in file order), across LXC and VM alike. Traversal is an iterative depth-first post-order,
so a chain of ten thousand clones does not hit Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from phoenix_core.config.types import Id


class Graph:
    """Guests and what each requires. Ids missing from ``edges`` are leaves."""

    def __init__(self, edges: Mapping[Id, Sequence[Id]]) -> None:
        self.edges = edges

    def order(self, targets: Iterable[Id]) -> list[Id]:
        """Targets and all they require, each once, requirements first.

        Targets are taken in the order given; a target's clone source comes before its
        ``dependencies``. Assumes the graph is acyclic (see :meth:`find_cycle`).
        """
        done: set[Id] = set()
        result: list[Id] = []
        for target in targets:
            if target in done:
                continue
            stack: list[tuple[Id, int]] = [(target, 0)]
            done.add(target)
            while stack:
                node, index = stack[-1]
                children = self.edges.get(node, ())
                if index < len(children):
                    stack[-1] = (node, index + 1)
                    child = children[index]
                    if child not in done:
                        done.add(child)
                        stack.append((child, 0))
                else:
                    stack.pop()
                    result.append(node)
        return result

    def find_cycle(self) -> list[Id] | None:
        """A cycle as ``[a, b, ..., a]`` starting at its smallest id, or None."""
        state: dict[Id, int] = {}  # 1: on the current path, 2: finished
        for root in self.edges:
            if root in state:
                continue
            path: list[Id] = [root]
            iters = [iter(self.edges.get(root, ()))]
            state[root] = 1
            while path:
                child = next(iters[-1], None)
                if child is None:
                    state[path.pop()] = 2
                    iters.pop()
                elif state.get(child) == 1:
                    return _canonical(path[path.index(child) :])
                elif child not in state:
                    state[child] = 1
                    path.append(child)
                    iters.append(iter(self.edges.get(child, ())))
        return None

    def dependents(self) -> dict[Id, list[Id]]:
        """Reverse edges: for each id, the guests that require it directly."""
        reverse: dict[Id, list[Id]] = {}
        for node, children in self.edges.items():
            for child in children:
                reverse.setdefault(child, []).append(node)
        return reverse

    def reverse_order(self, targets: Sequence[Id]) -> list[Id]:
        """Only the targets, dependents before what they require (for stop and delete)."""
        wanted = set(targets)
        return [node for node in reversed(self.order(targets)) if node in wanted]


def _canonical(loop: list[Id]) -> list[Id]:
    """The cycle started at its smallest id, so one cycle always reads the same way."""
    start = loop.index(min(loop))
    rotated = loop[start:] + loop[:start]
    return [*rotated, rotated[0]]


def format_cycle(cycle: Sequence[Id]) -> str:
    return " -> ".join(str(node) for node in cycle)
