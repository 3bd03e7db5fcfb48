"""Dependency order: the old tool's verified orders (original.md §1.3, §1.5, §7) as tests.

Where DESIGN §6 fixes the old behaviour (every requested id is a target; stop and delete
take only the targets, dependents first) the expected value says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_core.config import load_config
from phoenix_core.engine import Engine
from phoenix_core.graph import Graph, format_cycle
from phoenix_core.hosts.pool import HostPool
from tests.conftest import original_etc, write_guests
from tests.support.fakenode import fake_plugins


@pytest.fixture(scope="module")
def engine() -> Engine:
    plugins = fake_plugins()
    return Engine(load_config(original_etc(), plugins), plugins, HostPool())


def test_a1_dependencies_first_in_target_order() -> None:
    graph = Graph({9990: [9991], 9991: [], 9992: [9990]})
    assert graph.order([9990, 9991, 9992]) == [9991, 9990, 9992]
    assert graph.order([9992]) == [9991, 9990, 9992]


def test_clone_source_and_dependency_on_the_same_id_count_once(tmp_path: Path) -> None:
    directory = write_guests(
        tmp_path,
        {
            "8020": {"name": "a", "clone_from_ctid": "8021", "dependencies": ["8021"]},
            "8021": {"name": "b"},
        },
    )
    config = load_config(directory, fake_plugins())
    assert Graph({i: g.requires for i, g in config.guests.items()}).order([8020]) == [8021, 8020]


def test_duplicate_targets_are_taken_once() -> None:
    graph = Graph({9990: [9991], 9991: []})
    assert graph.order([9991, 9991, 9990]) == [9991, 9990]


def test_vm_clone_of_vm_depending_on_a_container(tmp_path: Path) -> None:
    directory = write_guests(
        tmp_path,
        {"9991": {"name": "ct"}},
        [
            {"vmid": 9101, "name": "clone", "clone_from_vmid": 9100},
            {"vmid": 9100, "name": "base", "dependencies": ["9991"]},
        ],
    )
    config = load_config(directory, fake_plugins())
    order = Graph({i: g.requires for i, g in config.guests.items()}).order([9101])
    assert [(i, config.guests[i].kind) for i in order] == [
        (9991, "lxc"),
        (9100, "vm"),
        (9101, "vm"),
    ]


@pytest.mark.parametrize(
    ("verb", "ids", "expected"),
    [
        ("create", ["101"], [900, 103, 101]),
        ("converge", ["101"], [900, 103, 101]),
        ("create", ["801"], [900, 9000, 103, 102, 1001, 1002, 901, 911, 801]),
        ("create", ["1002", "101"], [9000, 900, 103, 102, 1001, 1002, 101]),
        # Fixed (DESIGN §6): the old tool stopped 900 and 103 before 101.
        ("stop", ["101"], [101]),
        ("stop", ["103", "101", "102"], [102, 101, 103]),
        ("delete", ["101", "102"], [102, 101]),
        ("delete", ["103", "101"], [101, 103]),
        # Fixed (issue 10): 900 is 101's clone source, a build edge; start walks only
        # runtime dependencies (old: 900, 103, 101).
        ("start", ["101"], [103, 101]),
        # Fixed: restart takes only the targets (old: 900, 103, 102).
        ("restart", ["102"], [102]),
    ],
)
def test_verified_orders(engine: Engine, verb: str, ids: list[str], expected: list[int]) -> None:
    assert engine.order(verb, engine.resolve(ids)) == expected


def test_letsgo_creation_order_matches_the_old_tool(engine: Engine) -> None:
    expected = [900, 103, 101, 102, 9000, 1001, 1002, 901, 911, 801, 802, 910, 912, 914, 917]
    assert engine.order("converge", engine.all_ids()) == expected


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ({8001: [8002], 8002: [8001]}, [8001, 8002, 8001]),
        ({8003: [8003]}, [8003, 8003]),
        ({1: [2], 2: [3], 3: [4], 4: [2]}, [2, 3, 4, 2]),
        ({5: [9], 9: [7], 7: [5]}, [5, 9, 7, 5]),
        ({9: [7], 7: [5], 5: [9]}, [5, 9, 7, 5]),
        ({1: [2], 2: []}, None),
    ],
)
def test_find_cycle_returns_the_whole_cycle(
    edges: dict[int, list[int]], cycle: list[int] | None
) -> None:
    assert Graph(edges).find_cycle() == cycle


def test_format_cycle() -> None:
    assert format_cycle([8001, 8002, 8001]) == "8001 -> 8002 -> 8001"


def test_long_chains_do_not_hit_the_recursion_limit() -> None:
    edges = {i: [i - 1] for i in range(101, 20_101)}
    order = Graph(edges).order([20_100])
    assert order[0] == 100 and order[-1] == 20_100 and len(order) == 20_001
    assert Graph({**edges, 100: [20_100]}).find_cycle() is not None
