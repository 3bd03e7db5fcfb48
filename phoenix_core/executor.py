"""Runs a :class:`~phoenix_core.plan.Plan` with up to ``jobs`` actions at once (DESIGN §4).

An action starts when every action it waits for has succeeded and none of the resources
it holds is held by a running action (``shared`` holds excepted); it keeps them until it
ends. A resource needed for one operation only is taken through the action's
:class:`Lease` just before it and given back just after (a clone holds its source while
the clone command runs).
Among the actions that could start, ``LetsGo``'s boot groups go first, then (with more
than one worker) the action most work waits on (:func:`critical_rank`), then the plan's
order, which alone decides with one worker. One worker stays free for an earlier action that only waits for a resource, so a
chain of clones from one source is not starved by independent work.

After a failure nothing new starts (unless ``keep_going``); actions after a failed one, and
every action the stop left out, are skipped and say so. After SIGINT/SIGTERM nothing new starts; the running actions finish or
fail at their next command, and every action not started is listed as skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from phoenix_core import interrupt
from phoenix_core.manager import Resource
from phoenix_core.outcome import Outcome
from phoenix_core.plan import Action, ActionKey, Plan

#: How often the scheduler looks at signals while it waits for a running action.
POLL = 0.2

#: Runs one action; the lease it is given takes and gives back resources as it goes.
Perform = Callable[[Action, "Lease"], Outcome]
#: A ``skipped`` outcome for an action that did not run, with why.
Skip = Callable[[Action, str], Outcome]


class _Holds:
    """Resources held by running actions: exclusive holders and shared-hold counts."""

    def __init__(self) -> None:
        self.exclusive: dict[str, ActionKey] = {}
        self.shared: dict[str, int] = {}

    def free(self, resources: frozenset[Resource]) -> bool:
        return all(
            r.name not in self.exclusive and (r.shared or not self.shared.get(r.name))
            for r in resources
        )

    def take(self, owner: ActionKey, resources: frozenset[Resource]) -> None:
        for r in resources:
            if r.shared:
                self.shared[r.name] = self.shared.get(r.name, 0) + 1
            else:
                self.exclusive[r.name] = owner

    def give_back(self, resource: Resource) -> None:
        if resource.shared:
            self.shared[resource.name] -= 1
        else:
            del self.exclusive[resource.name]


def _at_start(action: Action) -> frozenset[Resource]:
    """What an action takes when it starts: all it declared but its ``brief`` holds."""
    return frozenset(r for r in action.resources if not r.brief)


def critical_rank(plan: Plan) -> dict[ActionKey, int]:
    """How much work hangs on each action, to start the critical path first.

    The length of the longest chain of actions waiting on it, plus, for each resource it
    holds that an action of the plan builds (a clone's source), how many other actions hold
    it too: they form a chain behind that build, so the source and its clones go before
    independent work. (A storage held briefly for a download that may never happen adds
    nothing.)
    """
    built = {r.name for a in plan.actions for r in a.resources if not (r.shared or r.brief)}
    holders: dict[str, int] = {}
    for action in plan.actions:
        for resource in action.resources:
            if resource.name in built and not resource.shared:
                holders[resource.name] = holders.get(resource.name, 0) + 1
    height = {a.key: 1 for a in plan.actions}
    for action in reversed(plan.actions):  # dependents come later in the plan
        for needed in action.after:
            if needed in height:
                height[needed] = max(height[needed], height[action.key] + 1)
    return {
        a.key: height[a.key] + sum(holders.get(r.name, 1) - 1 for r in a.resources if not r.shared)
        for a in plan.actions
    }


class Executor:
    """One plan's run: ``perform`` does an action, ``skip`` records one that did not run."""

    def __init__(
        self,
        perform: Perform,
        skip: Skip,
        *,
        jobs: int,
        keep_going: bool,
        abandon: Callable[[Action], None] | None = None,
        past_failures: bool = False,
    ) -> None:
        self.perform = perform
        #: A dry run: an action after a failed one still runs (its checks change nothing),
        #: so one ``plan`` shows every problem; its outcome says what it waits on.
        self.past_failures = past_failures
        #: Actions run past a failure, with the failure (the first one up the chain).
        self._waiting: dict[ActionKey, ActionKey] = {}
        self.skip = skip
        #: Told of every action that will not run at all (skipped, or dropped after a failure).
        self.abandon = abandon or (lambda _action: None)
        self.jobs = max(1, jobs)
        self.keep_going = keep_going
        self._cond = threading.Condition()
        self._holds = _Holds()
        self._held: dict[ActionKey, set[Resource]] = {}
        self._outcomes: dict[ActionKey, Outcome] = {}
        self._running: set[ActionKey] = set()
        #: Failed, or skipped because something they wait for failed.
        self._broken: set[ActionKey] = set()
        #: The first failure: without ``keep_going`` it stops the run, and is named in what
        #: the stop left out.
        self._first_failure: ActionKey | None = None

    def run(self, plan: Plan) -> list[Outcome]:
        """Every outcome in plan order: an action that did not run is listed as skipped with
        why (a failure it waits for, the failure that stopped the run, a signal)."""
        order = {a.key: i for i, a in enumerate(plan.actions)}
        rank = critical_rank(plan) if self.jobs > 1 else dict.fromkeys(order, 0)
        pending = sorted(
            plan.actions,
            key=lambda a: (a.boot_group or 0, -rank[a.key], order[a.key]),
        )
        with self._cond:
            while pending or self._running:
                pending = self._launch(pending)
                if not self._running:
                    break
                self._cond.wait(POLL)
        return [self._outcomes[k] for k in sorted(self._outcomes, key=order.__getitem__)]

    # -- scheduling (called with the lock held) ---------------------------------------------
    def _launch(self, pending: list[Action]) -> list[Action]:
        """Start what can start now; return what is still pending."""
        signum = interrupt.received()
        if signum is not None:
            for action in pending:
                self.abandon(action)
                self._outcomes[action.key] = self.skip(
                    action, f"not started: {interrupt.describe(signum)}"
                )
            return []
        waiting_for_resource = False
        left = []
        for action in pending:
            blocker = next((a for a in action.after if a in self._broken), None)
            if blocker is not None and self.past_failures:
                self._waiting[action.key] = self._waiting.get(blocker, blocker)
            elif blocker is not None:
                verb, ident = blocker
                why = f"{verb} failed" if ident == action.id else f"dependency {ident} failed"
                self._outcomes[action.key] = self.skip(action, why)
                self._broken.add(action.key)
                self.abandon(action)
                continue
            if self._first_failure is not None and not (self.keep_going or self.past_failures):
                verb, ident = self._first_failure
                self._outcomes[action.key] = self.skip(
                    action,
                    f"not attempted: the run stopped when {verb} {ident} failed "
                    "(--keep-going goes on with what does not depend on it)",
                )
                self.abandon(action)
                continue
            ready = all(a in self._outcomes for a in action.after)
            slots = self.jobs - len(self._running) - (1 if waiting_for_resource else 0)
            free = self._holds.free(_at_start(action))
            if ready and slots > 0 and free:
                self._start(action)
                continue
            if ready and not free and self.jobs > 1:
                waiting_for_resource = True
            left.append(action)
        return left

    def _start(self, action: Action) -> None:
        self._running.add(action.key)
        self._held[action.key] = set(_at_start(action))
        self._holds.take(action.key, _at_start(action))
        worker = threading.Thread(
            target=self._work, args=(action,), name=f"phoenix-{action.id}", daemon=True
        )
        worker.start()

    # -- in the worker -------------------------------------------------------------------------
    def _work(self, action: Action) -> None:
        try:
            outcome = self.perform(action, Lease(self, action.key))
        except BaseException as exc:  # a dead worker would leave the run waiting forever
            outcome = escaped(action, exc)
        with self._cond:
            for resource in self._held.pop(action.key):
                self._holds.give_back(resource)
            self._running.discard(action.key)
            self._outcomes[action.key] = outcome
            failure = self._waiting.get(action.key)
            if failure is not None:
                verb, ident = failure
                waiting = f"waiting on {ident}: its {verb} failed"
                outcome.note = f"{outcome.note}; {waiting}" if outcome.note else waiting
                self._broken.add(action.key)
            if outcome.status == "failed":
                self._broken.add(action.key)
                self._first_failure = self._first_failure or action.key
            self._cond.notify_all()


def escaped(action: Action, exc: BaseException) -> Outcome:
    """The failed outcome of an action whose ``perform`` raised instead of answering: the
    run still ends, and its summary says what went wrong (``perform`` normally turns its
    errors into outcomes itself; this is the guarantee when it does not)."""
    from phoenix_core.logs import logger, scrub

    logger.opt(exception=exc).debug("traceback")
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    target = action.target
    return Outcome(target.id, target.kind, target.name, action.verb, "failed", error=scrub(detail))


class Lease:
    """What one running action holds beyond what it started with: a resource it needs for
    one operation only (a clone's source, a storage during a download) is taken right
    before and given back right after, so the action's other work overlaps with others'."""

    def __init__(self, executor: Executor, key: ActionKey) -> None:
        self._executor = executor
        self._key = key

    def acquire(self, resource: Resource) -> None:
        """Wait until ``resource`` is free, then hold it (until :meth:`release` or the end)."""
        ex = self._executor
        with ex._cond:
            if resource in ex._held[self._key]:
                return
            while not ex._holds.free(frozenset({resource})):
                interrupt.check(f"waiting for {resource.name}")
                ex._cond.wait(POLL)
            ex._holds.take(self._key, frozenset({resource}))
            ex._held[self._key].add(resource)

    def release(self, resource: Resource) -> None:
        """Give ``resource`` back before the action ends."""
        ex = self._executor
        with ex._cond:
            if resource in ex._held[self._key]:
                ex._held[self._key].discard(resource)
                ex._holds.give_back(resource)
                ex._cond.notify_all()
