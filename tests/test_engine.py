"""The engine over a fake node: ordering, idempotency, dry runs, failures, LetsGo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.engine import Engine
from phoenix_core.errors import HostError, UsageError
from phoenix_core.hookspecs import hookimpl
from phoenix_core.manager import VerbOptions
from phoenix_core.outcome import PARTIAL
from tests.conftest import write_guests
from tests.support.fakenode import FakeNode

CHAIN = {
    "900": {"name": "base", "is_template": True, "memory_mb": 1024},
    "901": {
        "name": "clone",
        "clone_from_ctid": "900",
        "boot_order": 2,
        "boot_delay": 5,
        "start_at_boot": True,
    },
    "902": {
        "name": "clone2",
        "clone_from_ctid": "901",
        "boot_order": 1,
        "boot_delay": 3,
        "start_at_boot": True,
    },
}


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    return write_guests(tmp_path / "etc", CHAIN)


def created(node: FakeNode) -> list[int]:
    return [int(argv[2]) for argv in node.mutations if argv[1] == "create"]


def test_create_makes_missing_dependencies_in_order(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    result = make_engine(chain).run("create", ["902"])
    assert result.exit_code == 0
    assert created(node) == [900, 901, 902]
    assert [o.status for o in result.outcomes] == ["changed", "changed", "changed"]


def test_create_again_confirms_and_changes_nothing(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    make_engine(chain).run("create", ["902"])
    before = len(node.mutations)
    result = make_engine(chain).run("create", ["902"])
    # This manager records no build mark: its dependencies are converged like the target.
    assert [o.status for o in result.outcomes] == ["ok"] * 3
    assert len(node.mutations) == before


def test_create_leaves_a_built_dependency_alone_and_finishes_an_unbuilt_one(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    node.guests[900] = {"status": "stopped", "built": "1", "memory": "64", "cores": "1"}
    node.guests[901] = {"status": "stopped", "built": "0"}
    node.guests[902] = {"status": "stopped", "built": "1"}
    result = make_engine(chain).run("create", ["902"])
    assert {o.id: o.status for o in result.outcomes} == {
        900: "exists",  # built: its drifted memory is converge's to repair, not create's
        901: "changed",  # stopped halfway: finished
        902: "changed",  # the target is always confirmed and repaired, never recreated
    }
    assert result.outcomes[0].note == "built; left alone"
    assert node.guests[900]["memory"] == "64"
    assert not [argv for argv in node.mutations if argv[1] == "create"]


def test_every_requested_id_is_a_target(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    # The old tool treated only the last id as final: create 902 901 with 902 existing made only 901.
    node.guests[902] = {"status": "stopped"}
    result = make_engine(chain).run("create", ["902", "901"])
    assert created(node) == [900, 901]
    assert {o.id: o.status for o in result.outcomes} == {
        900: "changed",
        901: "changed",
        902: "changed",  # existing: confirmed and its drift (memory, cores) repaired
    }


def test_second_converge_runs_no_mutating_command(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    make_engine(chain).run("converge", [])
    before = len(node.mutations)
    result = make_engine(chain).run("converge", [])
    assert len(node.mutations) == before
    assert {o.status for o in result.outcomes} == {"ok"}


def test_converge_repairs_only_drift(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    make_engine(chain).run("converge", [])
    node.guests[901]["memory"] = "4096"
    before = len(node.mutations)
    result = make_engine(chain).run("converge", ["901"])
    assert node.mutations[before:] == [("pct", "set", "901", "--memory", "512")]
    assert next(c for _, c in result.outcomes[-1].changes).before == "4096"


def test_plan_of_missing_guests_changes_nothing(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    result = make_engine(chain, dry_run=True).run("plan", ["902"])
    assert node.mutations == []
    assert node.guests == {}
    assert [o.status for o in result.outcomes] == ["planned"] * 3
    assert all(not entry.mutating for entry in node.journal)


def test_first_failure_stops_the_run(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    node.fail_on[("pct", "create", "901")] = "storage 'x' does not exist"
    result = make_engine(chain).run("create", ["902"])
    assert result.exit_code == 1
    assert [o.status for o in result.outcomes] == ["changed", "failed", "skipped"]
    assert "storage 'x' does not exist" in result.outcomes[1].error
    assert "pct create 901" in result.outcomes[1].error
    assert result.outcomes[2].note == "dependency 901 failed"


def test_keep_going_skips_only_dependents_of_the_failure(
    make_engine: Callable[..., Engine], node: FakeNode, tmp_path: Path
) -> None:
    directory = write_guests(tmp_path / "etc", {**CHAIN, "950": {"name": "independent"}})
    node.fail_on[("pct", "create", "901")] = "boom"
    result = make_engine(directory, keep_going=True).run("create", ["902", "950"])
    statuses = {o.id: o.status for o in result.outcomes}
    assert statuses == {900: "changed", 901: "failed", 902: "skipped", 950: "changed"}
    assert result.outcomes[2].note == "dependency 901 failed"
    assert result.exit_code == 1


def test_lost_connection_is_a_failed_action_not_a_crash(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    node.fail_on[("pct", "status", "900")] = "HOST"
    result = make_engine(chain).run("converge", ["900"])
    assert result.outcomes[0].status == "failed"
    assert "connection to fake lost" in result.outcomes[0].error


VERBS = ["create", "converge", "plan", "start", "stop", "restart", "delete"]


@pytest.mark.parametrize("verb", VERBS)
def test_a_node_that_cannot_be_reached_ends_the_run_before_anything_runs(
    make_engine: Callable[..., Engine], chain: Path, verb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every host of the plan is opened before the first action (it used to be opened inside
    a worker, outside its error handling: the worker died and the run waited forever)."""

    def unreachable(_address: Any) -> Any:
        raise HostError("cannot connect to root@127.0.0.1:9: connection refused")

    engine = make_engine(chain, options=VerbOptions(force=True))
    engine.hosts._open.clear()
    monkeypatch.setattr(engine.hosts, "_connect", unreachable)
    with pytest.raises(HostError, match="connection refused"):
        engine.run(verb, ["901"])


@pytest.mark.parametrize("raised", [HostError("connection to fake lost"), RuntimeError("bug")])
@pytest.mark.parametrize("verb", VERBS)
def test_a_host_that_raises_fails_the_action_and_the_run_ends(
    make_engine: Callable[..., Engine],
    node: FakeNode,
    chain: Path,
    verb: str,
    raised: Exception,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node.guests = {900: {"status": "stopped", "template": 1}, 901: {"status": "running"}}

    def query(*_args: Any, **_kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(node, "query", query)
    result = make_engine(chain, options=VerbOptions(force=True)).run(verb, ["901"])
    failed = [o for o in result.outcomes if o.status == "failed"]
    assert failed and str(raised) in failed[0].error
    assert result.exit_code == 1


def test_unknown_and_malformed_ids_are_usage_errors(
    make_engine: Callable[..., Engine], chain: Path
) -> None:
    engine = make_engine(chain)
    with pytest.raises(UsageError, match="4242 is not defined"):
        engine.run("start", ["4242"])
    with pytest.raises(UsageError, match="abc is not defined"):  # a name no target has
        engine.run("start", ["abc"])
    with pytest.raises(UsageError, match="'a b' is not a target"):
        engine.run("start", ["a b"])


def test_start_walks_runtime_dependencies_never_clone_sources(
    make_engine: Callable[..., Engine], node: FakeNode, tmp_path: Path
) -> None:
    guests = {**CHAIN, "903": {"name": "app", "clone_from_ctid": "900", "dependencies": ["901"]}}
    directory = write_guests(tmp_path / "etc", guests)
    make_engine(directory).run("create", ["902", "903"])
    result = make_engine(directory).run("start", ["902", "903"])
    # 902 is cloned from 901 (a build edge): 901 is started only as 903's runtime dependency.
    assert [(o.id, o.status) for o in result.outcomes] == [
        (902, "changed"),
        (901, "changed"),
        (903, "changed"),
    ]
    assert node.guests[900]["status"] == "stopped"


def test_templates_are_never_started(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    make_engine(chain).run("create", ["902"])
    result = make_engine(chain).run("start", ["900"])
    assert [(o.id, o.status, o.note) for o in result.outcomes] == [
        (900, "skipped", "a template is never started")
    ]
    assert node.guests[900]["status"] == "stopped"


def test_stop_takes_only_targets_dependents_first(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    for ident in (900, 901, 902):
        node.guests[ident] = {"status": "running"}
    make_engine(chain).run("stop", ["901", "902"])
    assert node.mutations == [("pct", "shutdown", "902"), ("pct", "shutdown", "901")]
    assert node.guests[900]["status"] == "running"


def test_delete_refuses_while_an_existing_guest_depends_on_it(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    make_engine(chain).run("create", ["902"])
    with pytest.raises(
        UsageError, match=r"refusing to delete 901: lxc 902 .* depends on it and exists"
    ):
        make_engine(chain).run("delete", ["901"])
    assert 901 in node.guests
    result = make_engine(chain, options=VerbOptions(force=True)).run("delete", ["901"])
    assert result.exit_code == 0 and 901 not in node.guests


@pytest.fixture
def shared_base(tmp_path: Path) -> Path:
    """900 is required by a clone, by a container that depends on it, and by a VM."""
    lxc = {**CHAIN, "903": {"name": "user", "dependencies": [900]}}
    vms = [{"vmid": 1001, "name": "portainer", "dependencies": [900]}]
    return write_guests(tmp_path / "etc", lxc, vms)


def test_delete_refusal_names_every_blocking_dependent(
    make_engine: Callable[..., Engine], node: FakeNode, shared_base: Path
) -> None:
    make_engine(shared_base).run("create", ["902", "903", "1001"])
    with pytest.raises(UsageError) as refused:
        make_engine(shared_base).run("delete", ["900"])
    message = str(refused.value)
    for dependent in ("lxc 901 (clone)", "lxc 903 (user)", "vm 1001 (portainer)"):
        assert f"900: {dependent} depends on it and exists" in message
    assert 900 in node.guests


def test_delete_says_when_a_dependents_existence_cannot_be_known(
    make_engine: Callable[..., Engine],
    node: FakeNode,
    shared_base: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_engine(shared_base).run("create", ["900"])
    engine = make_engine(shared_base)
    lxc_only = engine.plugins.manager("lxc")
    monkeypatch.setattr(engine.plugins, "manager", lambda kind: lxc_only if kind == "lxc" else None)
    with pytest.raises(UsageError) as refused:
        engine.run("delete", ["900"])
    message = str(refused.value)
    assert (
        "900: vm 1001 (portainer) depends on it, and whether it exists cannot be known: "
        "no installed manager handles vm targets"
    ) in message
    assert "vm 1001 (portainer) depends on it and exists" not in message
    # Missing dependents do not block; only the VM, whose state is unknown, does.
    assert "901" not in message and "903" not in message


def test_delete_of_a_whole_chain_goes_dependents_first(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    make_engine(chain).run("create", ["902"])
    make_engine(chain).run("delete", ["900", "901", "902"])
    assert [argv[2] for argv in node.mutations if argv[1] == "destroy"] == ["902", "901", "900"]


def test_power_verbs_of_a_missing_guest_fail_even_in_a_dry_run(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    for verb in ("start", "stop", "restart"):
        result = make_engine(chain, dry_run=True).run(verb, ["901"])
        assert (result.outcomes[-1].id, result.outcomes[-1].status) == (901, "failed")
        assert "lxc 901 (clone) does not exist" in str(result.outcomes[-1].error)
        assert result.exit_code == 1
    assert node.mutations == []


def test_a_dry_run_letsgo_still_plans_starting_what_it_would_create(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    result = make_engine(chain, dry_run=True).letsgo()
    starts = {o.id: o.status for o in result.outcomes if o.verb == "start"}
    assert starts == {902: "planned", 901: "planned"}
    assert result.exit_code == 0 and node.mutations == []


def test_letsgo_converges_then_starts_by_boot_order(
    make_engine: Callable[..., Engine], node: FakeNode, chain: Path
) -> None:
    result = make_engine(chain, jobs=1).letsgo()
    starts = [int(argv[2]) for argv in node.mutations if argv[1] == "start"]
    # boot_order 1 then 2, though 902 is cloned from 901 (a build edge, not a runtime one);
    # the template 900 is never started.
    assert starts == [902, 901]
    assert [(o.verb, o.id) for o in result.outcomes] == [
        ("converge", 900),
        ("converge", 901),
        ("converge", 902),
        ("start", 902),
        ("start", 901),
    ]
    assert result.exit_code == 0


@pytest.mark.parametrize("jobs", [1, 4])
def test_boot_order_a2_uses_boot_order_and_ties_in_dependency_order(
    make_engine: Callable[..., Engine], node: FakeNode, tmp_path: Path, jobs: int
) -> None:
    guests = {
        "9980": {"name": "a", "boot_order": 2, "start_at_boot": True},
        "9981": {"name": "b", "boot_order": 1, "start_at_boot": True},
        "9982": {"name": "c", "boot_order": 3, "dependencies": ["9984"], "start_at_boot": True},
        "9983": {"name": "d", "start_at_boot": True},
        "9984": {"name": "e", "boot_order": 7, "start_at_boot": True},
    }
    vms = [{"vmid": 9001, "name": "vm", "boot_order": 1, "start_at_boot": True}]
    result = make_engine(write_guests(tmp_path / "etc", guests, vms), jobs=jobs).letsgo()
    listed = [o.id for o in result.outcomes if o.verb == "start"]
    # VMs honour boot_order too; 9984 is needed by 9982 so boots with it; no order goes last.
    assert listed == [9981, 9001, 9980, 9984, 9982, 9983]
    starts = [int(argv[2]) for argv in node.mutations if argv[1] == "start"]
    groups = {9981: 1, 9001: 1, 9980: 2, 9984: 3, 9982: 3, 9983: 999}
    assert [groups[i] for i in starts] == sorted(groups.values())
    assert starts.index(9984) < starts.index(9982)


def test_letsgo_refuses_when_a_manager_is_missing_unless_only_installed(
    node: FakeNode, tmp_path: Path
) -> None:
    from phoenix_core.config import load_config
    from phoenix_core.hosts.pool import HostPool
    from phoenix_core.plugins import Plugins
    from tests.support.fakenode import FakePlugin

    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "lxc-only")
    guests = {**CHAIN, "960": {"name": "needs-vm", "dependencies": ["9100"]}}
    directory = write_guests(tmp_path / "etc", guests, [{"vmid": 9100, "name": "vm"}])
    pool = HostPool()
    pool.preset(None, node)
    engine = Engine(load_config(directory, plugins), plugins, pool, boot_delay=False)
    with pytest.raises(UsageError, match=r"leave 1 guest\(s\) unbuilt \(960\): install phoenix-vm"):
        engine.letsgo()
    assert node.journal == []
    result = engine.letsgo(only_installed=True)
    assert result.exit_code == PARTIAL
    assert [o.status for o in result.outcomes if o.id == 960] == ["skipped"]


def test_observer_hooks_see_every_action(
    make_engine: Callable[..., Engine], fake_plugins: Any, chain: Path
) -> None:
    seen: list[tuple[str, str, int, str]] = []

    class Observer:
        @hookimpl
        def phoenix_action_started(self, verb: str, target: Any, dry_run: bool) -> None:
            seen.append(("started", verb, target.id, str(dry_run)))

        @hookimpl
        def phoenix_action_finished(self, verb: str, target: Any, outcome: Any) -> None:
            seen.append(("finished", verb, target.id, outcome.status))

    class Broken:
        @hookimpl
        def phoenix_action_finished(self, verb: str, target: Any, outcome: Any) -> None:
            raise RuntimeError("an observer's bug must not take the run down")

    fake_plugins.add(Observer(), "observer")
    fake_plugins.add(Broken(), "broken")
    result = make_engine(chain).run("create", ["901"])
    assert result.exit_code == 0
    assert seen == [
        ("started", "create", 900, "False"),
        ("finished", "create", 900, "changed"),
        ("started", "create", 901, "False"),
        ("finished", "create", 901, "changed"),
    ]


def test_a_plugin_failing_to_register_is_skipped_whole(
    make_engine: Callable[..., Engine], fake_plugins: Any, chain: Path
) -> None:
    seen: list[int] = []

    class Failing:
        @hookimpl
        def phoenix_register_managers(self, register: Any) -> None:
            raise RuntimeError("no")

        @hookimpl
        def phoenix_action_started(self, verb: str, target: Any, dry_run: bool) -> None:
            seen.append(target.id)

    fake_plugins.strict = False
    fake_plugins.add(Failing(), "failing")
    make_engine(chain).run("create", ["900"])
    assert seen == []
    assert "phoenix_register_managers raised RuntimeError: no" in fake_plugins.plugins[-1].error


def test_converge_all_takes_what_installed_managers_handle(node: FakeNode, tmp_path: Path) -> None:
    from phoenix_core.config import load_config
    from phoenix_core.hosts.pool import HostPool
    from phoenix_core.plugins import Plugins
    from tests.support.fakenode import FakePlugin

    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "lxc-only")
    guests = {
        **CHAIN,
        "960": {"name": "needs-vm", "dependencies": ["9100"]},
        "961": {"name": "after", "clone_from_ctid": "960"},
    }
    directory = write_guests(tmp_path / "etc", guests, [{"vmid": 9100, "name": "vm"}])
    pool = HostPool()
    pool._open[pool.default] = node
    engine = Engine(load_config(directory, plugins), plugins, pool, boot_delay=False)

    result = engine.run("converge", [])
    statuses = {o.id: (o.status, o.note) for o in result.outcomes}
    assert 9100 not in statuses  # its file is not read: the core cannot know its guests
    assert statuses[960] == (
        "skipped",
        "requires 9100, which is not defined in the files read: phoenix_vm_configs.json "
        "is not read by any installed manager (install phoenix-vm)",
    )
    assert statuses[961] == ("skipped", "requires 960, which is skipped")
    assert [statuses[i][0] for i in (900, 901, 902)] == ["changed"] * 3
    assert result.exit_code == 0
    assert created(node) == [900, 901, 902]

    starts = [o.id for o in engine.letsgo(only_installed=True).outcomes if o.verb == "start"]
    assert starts == [902, 901]
    with pytest.raises(
        UsageError,
        match=r"9100 \(a dependency of 960\) is not defined in the files read; "
        r"phoenix_vm_configs.json is not read by any installed manager \(install phoenix-vm\)",
    ):
        engine.run("converge", ["961"])
