"""A run as a DAG of target actions: what runs, after what, holding what (DESIGN §4).

The engine turns a verb and its ordered targets into a :class:`Plan`; the executor
(:mod:`phoenix_core.executor`) runs it with a number of workers. The plan's order is the
order ``--jobs 1`` runs it in and the order of the summary, so one worker behaves as the
sequential engine always did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from phoenix_core.graph import Graph

if TYPE_CHECKING:
    from phoenix_core.config.models import TargetConfig
    from phoenix_core.config.types import TargetId
    from phoenix_core.manager import Resource

#: Where ``LetsGo`` puts guests without a ``boot_order`` (the old tool's default).
UNORDERED_BOOT = 999


#: An action's name in a plan: its verb and its target (``LetsGo`` has two per guest).
ActionKey = tuple[str, "TargetId"]


@attrs.frozen
class Action:
    """One verb on one target.

    ``after`` are the actions that must finish first (and succeed: an action after a failed
    one is skipped); ``resources`` what it holds while it runs; ``dependency`` that it was
    pulled in by another target rather than asked for; ``boot_group`` its place in
    ``LetsGo``'s start order (None outside ``LetsGo``); ``check_only`` that its steps are
    only checked, and drift fails it (a host part a guest needs, not applied by this run).
    """

    target: TargetConfig = attrs.field(eq=False)
    verb: str
    after: tuple[ActionKey, ...] = ()
    resources: frozenset[Resource] = frozenset()
    dependency: bool = False
    boot_group: int | None = None
    check_only: bool = False

    @property
    def id(self) -> TargetId:
        return self.target.id

    @property
    def key(self) -> ActionKey:
        return (self.verb, self.target.id)


@attrs.frozen
class Plan:
    """Actions in the order one worker runs them (every action after what it waits for)."""

    verb: str
    actions: tuple[Action, ...]

    def __len__(self) -> int:
        return len(self.actions)

    def describe(self) -> list[str]:
        """One line per action: what it waits for and what it holds (``plan``'s schedule)."""
        lines = []
        for action in self.actions:
            line = f"{action.id} {action.verb}"
            if action.boot_group is not None:
                line += f" (boot group {action.boot_group})"
            if action.check_only:
                line += " (check only)"
            if action.after:
                line += " after " + ", ".join(f"{i} {v}" for v, i in action.after)
            held = sorted(r.name for r in action.resources if not (r.shared or r.brief))
            brief = sorted(r.name for r in action.resources if r.brief)
            if held:
                line += f"; holds {', '.join(held)}"
            if brief:
                line += f"; {', '.join(brief)} while it copies or allocates"
            lines.append(line)
        return lines


#: What an action holds, asked of its manager: ``(verb, target) -> resources``.
ResourcesOf = Callable[[str, "TargetConfig"], Iterable["Resource"]]


def build_plan(
    verb: str,
    ordered: Sequence[TargetConfig],
    edges: Mapping[TargetId, Sequence[TargetId]],
    *,
    asked: Iterable[TargetId] = (),
    resources_of: ResourcesOf,
    boot_groups: Mapping[TargetId, int] | None = None,
    checked: Iterable[TargetId] | None = None,
) -> Plan:
    """The plan of ``verb`` over ``ordered`` targets.

    ``edges`` maps a target to the targets whose ``verb`` action it waits for (requirements
    for the build verbs, runtime dependencies for ``start``, dependents for ``stop`` and
    ``delete``); only those in the plan count. ``asked`` are the targets the user named (the
    others are dependencies); ``resources_of`` says what each action holds; ``checked`` are
    the targets whose steps are only checked.
    """
    present = {t.id for t in ordered}
    check_only = set(checked or ())
    wanted = set(asked)
    actions = []
    for target in ordered:
        after = tuple(dict.fromkeys((verb, e) for e in edges.get(target.id, ()) if e in present))
        held = frozenset(resources_of(verb, target))
        actions.append(
            Action(
                target,
                verb,
                after,
                held,
                dependency=bool(wanted) and target.id not in wanted,
                boot_group=None if boot_groups is None else boot_groups.get(target.id),
                check_only=target.id in check_only,
            )
        )
    return Plan(verb, tuple(actions))


def boot_groups(targets: Iterable[TargetConfig]) -> dict[TargetId, int]:
    """Each guest's effective ``boot_order``: its own, or earlier when a guest that depends
    on it at run time boots earlier, so a dependency is never started after its dependent.
    (A clone source is a build-time edge: it keeps its own order.)"""
    guests = {t.id: t for t in targets if not t.is_host}
    group = {
        i: UNORDERED_BOOT if t.common.boot_order is None else t.common.boot_order
        for i, t in guests.items()
    }
    edges = {i: [d for d in t.common.dependencies if d in guests] for i, t in guests.items()}
    # In requirements-first order walked backwards, every dependent is visited before what
    # it requires, so each guest's group is final when it is pushed down to its requirements.
    for ident in reversed(Graph(edges).order(guests)):
        for needed in edges[ident]:
            group[needed] = min(group[needed], group[ident])
    return group
