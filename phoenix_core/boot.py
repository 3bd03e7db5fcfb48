"""``LetsGo``'s start order: guests start by boot group, each group after the one before it
has started and its ``boot_delay`` has passed (DESIGN §6).

A manager starts a guest inside the gate's :meth:`BootGate.turn`, during provisioning as
well as in the final start, so the order holds even when a guest must run to be set up. A
group may start once every guest of the groups before it has either started (its start
returned; for a guest with work inside, once it answered) or will not start in this run
(its last action ended, failed or was skipped). Guests of one group start together; a
started guest's ``boot_delay`` holds back the later groups, as the old tool's sleep after
each start did.

One exception keeps the gate from waiting for itself: a guest that must be built before an
earlier-group guest (its clone source, say) and runs while it is set up does not wait for
the guests that require it, since they cannot start before it is built.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from phoenix_core import interrupt
from phoenix_core.config.types import TargetId

#: How often a waiting start looks at signals.
POLL = 0.2


class BootGate:
    """Tracks which guests of which boot group are still to start."""

    def __init__(
        self,
        groups: Mapping[TargetId, int],
        delays: Mapping[TargetId, int],
        requires: Mapping[TargetId, Sequence[TargetId]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.groups = dict(groups)
        self.delays = dict(delays)
        self.requires = requires
        self._needs: dict[TargetId, frozenset[TargetId]] = {}
        self._clock = clock
        self._cond = threading.Condition()
        self._unsettled = set(groups)
        #: No start of a later group before this time (the last start plus its boot_delay).
        self._not_before: dict[int, float] = {}

    @contextlib.contextmanager
    def turn(self, ident: TargetId, *, building: bool) -> Iterator[None]:
        """Wait until ``ident``'s group may start, run the block (the start), then count it
        as started: a later group waits for the start to have returned.

        ``building``: the start is part of ``ident``'s build, which the guests that require
        it wait for, so they are not waited for in turn."""
        self._wait(ident, building)
        try:
            yield
        finally:
            self._started(ident)

    def _wait(self, ident: TargetId, building: bool) -> None:
        group = self.groups.get(ident)
        if group is None:
            return
        with self._cond:
            while True:
                interrupt.check(f"starting {ident}")
                earlier = any(
                    self.groups[g] < group and not (building and ident in self.needs(g))
                    for g in self._unsettled
                )
                ready_at = max((t for g, t in self._not_before.items() if g < group), default=0.0)
                now = self._clock()
                if not earlier and now >= ready_at:
                    return
                self._cond.wait(POLL if earlier else min(POLL, ready_at - now))

    def _started(self, ident: TargetId) -> None:
        group = self.groups.get(ident)
        if group is None:
            return
        with self._cond:
            delay = self.delays.get(ident, 0)
            if delay:
                until = self._clock() + delay
                self._not_before[group] = max(self._not_before.get(group, 0.0), until)
            self._unsettled.discard(ident)
            self._cond.notify_all()

    def needs(self, ident: TargetId) -> frozenset[TargetId]:
        """Everything ``ident`` requires, directly or not (computed once per guest)."""
        if ident not in self._needs:
            seen: set[TargetId] = set()
            stack = list(self.requires.get(ident, ()))
            while stack:
                needed = stack.pop()
                if needed not in seen:
                    seen.add(needed)
                    stack.extend(self.requires.get(needed, ()))
            self._needs[ident] = frozenset(seen)
        return self._needs[ident]

    def settle(self, ident: TargetId) -> None:
        """``ident`` will not start (again) in this run: later groups need not wait for it."""
        with self._cond:
            self._unsettled.discard(ident)
            self._cond.notify_all()
