"""The verbs the engine runs over targets, in one table: what a manager is asked for, how the
targets are ordered, and what the engine checks first (DESIGN §6).

Everything the engine decides by verb reads this table, so a verb's behaviour is written in one
place and a new verb is one row. Imported at ``phoenix --help``: standard library and attrs.
"""

from __future__ import annotations

from typing import Literal

import attrs

#: What a manager's ``steps`` is asked for. ``create`` and ``plan`` are ``converge`` to a manager.
StepVerb = Literal["converge", "start", "stop", "restart", "delete"]

#: How a verb takes its targets:
#: ``build``: the targets and everything they require (host features, clone sources,
#: dependencies), requirements first; ``runtime``: the targets and their runtime
#: ``dependencies`` (never a clone source nor a host feature), dependencies first;
#: ``reverse``: the targets only, dependents first; ``targets``: the targets only.
Order = Literal["build", "runtime", "reverse", "targets"]


@attrs.frozen
class Verb:
    """One verb of the engine.

    ``steps`` is what the target's manager builds steps for; ``order`` how targets are taken
    (:data:`Order`); ``must_exist``: the target must exist already (a power verb); ``dry``:
    the verb never changes anything (``plan``); ``starts``: the verb starts guests, which a
    template never is; ``boots``: starts follow ``boot_order`` (:class:`~phoenix_core.boot.
    BootGate`); ``creates``: a dependency already built is left alone (``create``);
    ``guards_dependents``: refused while another existing guest depends on a target, unless
    ``--force`` (``delete``).
    """

    name: str
    steps: StepVerb
    order: Order
    must_exist: bool = False
    dry: bool = False
    starts: bool = False
    boots: bool = False
    creates: bool = False
    guards_dependents: bool = False


VERBS: dict[str, Verb] = {
    verb.name: verb
    for verb in (
        Verb("create", "converge", "build", creates=True),
        Verb("converge", "converge", "build"),
        Verb("plan", "converge", "build", dry=True),
        Verb("start", "start", "runtime", must_exist=True, starts=True, boots=True),
        Verb("stop", "stop", "reverse", must_exist=True),
        Verb("restart", "restart", "targets", must_exist=True, starts=True),
        Verb("delete", "delete", "reverse", guards_dependents=True),
    )
}


def verb_named(name: str) -> Verb:
    """The table's row for ``name``; ValueError for a verb the engine does not run."""
    try:
        return VERBS[name]
    except KeyError:
        raise ValueError(f"the engine has no verb {name!r}") from None
