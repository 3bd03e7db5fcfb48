"""pytest plugin (entry point `pytest11: pve_sim`): the `pve_node` fixtures.

`pve_node` brings a fresh node up in tmp_path and down afterwards (about 0.15 s: the owner is
forked from the session's launcher, :mod:`pve_sim.preload`). Choose a seed
with `@pytest.mark.pve_sim(seed="path/to/seed.json", node="pve1")`. `pve_node_factory` starts
further nodes within a test; `pve_node_session` is one node shared by a whole session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import daemon
from .fixture import SimNode
from .profile import DEFAULT

#: What stops the session's launcher of owners, kept with the session's configuration: a
#: session run inside another (pytester) has its own.
_STOP_LAUNCHER = pytest.StashKey[Callable[[], None]]()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; nodes of this session are forked from one launcher that imported
    the owner once (:mod:`pve_sim.preload`), started with the first node."""
    config.addinivalue_line(
        "markers", "pve_sim(seed=None, node='pve1', time_scale=0, pve=8): options for pve_node"
    )
    config.stash[_STOP_LAUNCHER] = daemon.preload_owners()


def pytest_unconfigure(config: pytest.Config) -> None:
    stop = config.stash.get(_STOP_LAUNCHER, None)
    if stop is not None:
        stop()


@pytest.fixture
def pve_node_factory(tmp_path: Path) -> Iterator[Callable[..., SimNode]]:
    """Start nodes on demand: factory(seed=None, node='pve1', time_scale=0.0, name='node',
    pve=8)."""
    started: list[SimNode] = []

    def factory(
        seed: Path | None = None,
        node: str = "pve1",
        time_scale: float = 0.0,
        name: str = "node",
        pve: int = DEFAULT,
    ) -> SimNode:
        sim = SimNode.start(tmp_path / f"{name}{len(started)}", seed, node, time_scale, pve)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def pve_node(request: pytest.FixtureRequest, pve_node_factory: Callable[..., SimNode]) -> SimNode:
    """A running simulated node in tmp_path, stopped after the test."""
    marker = request.node.get_closest_marker("pve_sim")
    options = dict(marker.kwargs) if marker else {}
    return pve_node_factory(**options)


@pytest.fixture(scope="session")
def pve_node_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    """One node for the whole session (default seed); tests must not assume an empty node."""
    sim = SimNode.start(tmp_path_factory.mktemp("pve-node"))
    yield sim
    sim.stop()
