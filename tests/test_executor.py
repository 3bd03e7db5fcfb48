"""The executor and the boot gate on their own: resources, failures, order, workers."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

from phoenix_core.boot import BootGate
from phoenix_core.config.models import GuestCommon, TargetConfig
from phoenix_core.executor import Executor, Lease
from phoenix_core.manager import Resource
from phoenix_core.outcome import Outcome
from phoenix_core.plan import Action, Plan, boot_groups


def guest(ident: int, **common: Any) -> TargetConfig:
    return TargetConfig(
        ident, "lxc", Path("f.json"), f"$.{ident}", GuestCommon(f"g{ident}", **common), {}
    )


def action(
    ident: int, *after: int, holds: tuple[str, ...] = (), group: int | None = None
) -> Action:
    resources = frozenset({Resource.guest(ident), *(Resource(n) for n in holds)})
    return Action(
        guest(ident), "converge", tuple(("converge", a) for a in after), resources, boot_group=group
    )


class Recorder:
    """Performs actions by sleeping; records when each ran and what it held."""

    def __init__(self, seconds: float = 0.05, fail: frozenset[int] = frozenset()) -> None:
        self.seconds = seconds
        self.fail = fail
        self.spans: dict[int, tuple[float, float]] = {}
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0

    def perform(self, act: Action, lease: Lease) -> Outcome:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        started = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.spans[act.id] = (started, time.monotonic())
        status = "failed" if act.id in self.fail else "changed"
        return Outcome(act.id, "lxc", act.target.name, act.verb, status)

    def skip(self, act: Action, note: str) -> Outcome:
        return Outcome(act.id, "lxc", act.target.name, act.verb, "skipped", note=note)

    def overlap(self, a: int, b: int) -> bool:
        (s1, e1), (s2, e2) = self.spans[a], self.spans[b]
        return s1 < e2 and s2 < e1


def run(
    plan: list[Action],
    rec: Recorder,
    jobs: int,
    keep_going: bool = False,
    past_failures: bool = False,
) -> list[Outcome]:
    executor = Executor(
        rec.perform, rec.skip, jobs=jobs, keep_going=keep_going, past_failures=past_failures
    )
    return executor.run(Plan("converge", tuple(plan)))


def test_independent_actions_run_together_up_to_jobs() -> None:
    rec = Recorder(0.2)
    outcomes = run([action(i) for i in range(1, 9)], rec, jobs=4)
    assert rec.most == 4
    assert [o.id for o in outcomes] == list(range(1, 9))  # the summary is in plan order


def test_one_job_runs_in_plan_order_one_at_a_time() -> None:
    rec = Recorder(0.01)
    run([action(3), action(1), action(2, 1)], rec, jobs=1)
    assert rec.most == 1
    assert sorted(rec.spans, key=lambda i: rec.spans[i][0]) == [3, 1, 2]


def test_actions_holding_one_resource_never_overlap() -> None:
    rec = Recorder(0.05)
    clones = [action(i, 900, holds=("guest:900",)) for i in range(901, 906)]
    run([action(900), *clones, action(1), action(2)], rec, jobs=8)
    for a in range(901, 906):
        assert rec.spans[a][0] >= rec.spans[900][1]
        for b in range(a + 1, 906):
            assert not rec.overlap(a, b)
    assert rec.overlap(1, 2)


def test_shared_holds_exclude_only_exclusive_ones() -> None:
    rec = Recorder(0.05)
    plan = [
        Action(guest(1), "converge", (), frozenset({Resource("node:pve")})),  # host setup
        Action(guest(2), "converge", (), frozenset({Resource("node:pve", shared=True)})),
        Action(guest(3), "converge", (), frozenset({Resource("node:pve", shared=True)})),
    ]
    run(plan, rec, jobs=4)
    assert not rec.overlap(1, 2) and not rec.overlap(1, 3) and rec.overlap(2, 3)


def test_a_resource_taken_for_one_operation_is_held_only_for_it() -> None:
    """Clones of one source overlap in all but the clone command itself."""
    spans: dict[int, tuple[float, float]] = {}
    held: dict[int, tuple[float, float]] = {}

    def perform(act: Action, lease: Lease) -> Outcome:
        started = time.monotonic()
        time.sleep(0.1)  # checks before the clone
        lease.acquire(Resource("guest:900"))
        taken = time.monotonic()
        time.sleep(0.1)  # the clone
        lease.release(Resource("guest:900"))
        held[act.id] = (taken, time.monotonic())
        time.sleep(0.1)  # the rest of the build
        spans[act.id] = (started, time.monotonic())
        return Outcome(act.id, "lxc", "x", "converge", "changed")

    executor = Executor(perform, Recorder().skip, jobs=4, keep_going=False)
    executor.run(Plan("converge", tuple(action(i) for i in (1, 2, 3))))
    windows = sorted(held.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(windows))
    # ... while the rest of each action ran alongside the others.
    assert spans[1][0] < spans[2][1] and spans[2][0] < spans[1][1]


def test_after_a_failure_dependents_are_skipped_and_nothing_new_starts() -> None:
    rec = Recorder(0.02, fail=frozenset({1}))
    outcomes = run([action(1), action(2, 1), action(3)], rec, jobs=1)
    # What the stop left out is listed, each with its reason.
    assert [(o.id, o.status, o.note) for o in outcomes] == [
        (1, "failed", None),
        (2, "skipped", "dependency 1 failed"),
        (
            3,
            "skipped",
            "not attempted: the run stopped when converge 1 failed "
            "(--keep-going goes on with what does not depend on it)",
        ),
    ]
    assert 3 not in rec.spans

    rec = Recorder(0.02, fail=frozenset({1}))
    outcomes = run([action(1), action(2, 1), action(4, 2), action(3)], rec, jobs=1, keep_going=True)
    assert [(o.id, o.status, o.note) for o in outcomes] == [
        (1, "failed", None),
        (2, "skipped", "dependency 1 failed"),
        (4, "skipped", "dependency 2 failed"),
        (3, "changed", None),
    ]


def test_a_dry_run_goes_on_past_a_failure_and_says_what_waits_on_it() -> None:
    rec = Recorder(0.01, fail=frozenset({1}))
    plan = [action(1), action(2, 1), action(4, 2), action(3)]
    outcomes = run(plan, rec, jobs=2, keep_going=False, past_failures=True)
    waiting = "waiting on 1: its converge failed"
    assert [(o.id, o.status, o.note) for o in outcomes] == [
        (1, "failed", None),
        (2, "changed", waiting),
        (4, "changed", waiting),
        (3, "changed", None),
    ]


def test_an_action_that_raises_is_its_own_failed_outcome_and_the_run_ends() -> None:
    """A worker that dies must not leave the scheduler waiting for it forever."""

    def perform(act: Action, lease: Lease) -> Outcome:
        if act.id == 1:
            raise RuntimeError("cannot reach the node")
        return Outcome(act.id, "lxc", act.target.name, act.verb, "changed")

    done: list[list[Outcome]] = []
    executor = Executor(perform, Recorder().skip, jobs=2, keep_going=True)
    plan = Plan("converge", (action(1), action(2, 1), action(3)))
    worker = threading.Thread(target=lambda: done.append(executor.run(plan)), daemon=True)
    worker.start()
    worker.join(10)
    assert done, "the run never ended"
    assert [(o.id, o.status, o.error or o.note) for o in done[0]] == [
        (1, "failed", "RuntimeError: cannot reach the node"),
        (2, "skipped", "dependency 1 failed"),
        (3, "changed", None),
    ]


def test_a_worker_is_kept_for_an_action_waiting_on_a_resource() -> None:
    """Clones of one source form a chain; independent work must not take every worker."""
    rec = Recorder(0.05)
    clones = [action(i, holds=("guest:900",)) for i in range(901, 904)]
    others = [action(i) for i in range(1, 7)]
    run([*clones, *others], rec, jobs=2)
    # While a clone waits for the source, the spare worker stays free for it: each clone
    # starts when the one before ends, before any independent work.
    assert max(rec.spans[i][0] for i in (901, 902, 903)) <= min(
        rec.spans[i][0] for i in range(1, 7)
    )


def test_boot_groups_pull_runtime_dependencies_forward_not_clone_sources() -> None:
    source = guest(900, boot_order=9)
    app = guest(101, boot_order=1, dependencies=[103])
    db = guest(103, boot_order=5)
    clone = TargetConfig(
        102, "lxc", Path("f"), "$", GuestCommon("c", boot_order=2), {}, clone_from=900
    )
    assert boot_groups([source, db, app, clone]) == {900: 9, 103: 1, 101: 1, 102: 2}


def test_the_gate_starts_groups_in_order_after_their_delay() -> None:
    gate = BootGate({1: 1, 2: 1, 3: 2}, {1: 0, 2: 1}, {})
    seen: list[tuple[int, float]] = []
    started = time.monotonic()

    def boot(ident: int) -> None:
        with gate.turn(ident, building=False):
            seen.append((ident, time.monotonic() - started))
        gate.settle(ident)

    threads = [threading.Thread(target=boot, args=(i,)) for i in (3, 2, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    times = dict(seen)
    assert [i for i, _ in seen][-1] == 3
    assert times[3] >= 1.0  # 2's boot_delay of 1 s, from its start


def test_the_gate_does_not_wait_for_guests_that_need_this_one_built() -> None:
    """901 (group 2) runs while it is built; 902 (group 1) is cloned from it, so waits."""
    gate = BootGate({901: 2, 902: 1}, {}, {902: [901]})
    done = threading.Event()

    def build() -> None:
        with gate.turn(901, building=True):
            done.set()

    threading.Thread(target=build).start()
    assert done.wait(2)


def test_the_gate_waits_for_earlier_groups_in_the_final_start() -> None:
    gate = BootGate({901: 2, 902: 1}, {}, {902: [901]})
    done = threading.Event()

    def start() -> None:
        with gate.turn(901, building=False):
            done.set()

    threading.Thread(target=start).start()
    assert not done.wait(0.5)
    gate.settle(902)
    assert done.wait(2)
