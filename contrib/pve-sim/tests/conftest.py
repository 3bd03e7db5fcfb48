"""Shared fixtures for the simulator's conformance suite.

One node per test module (`node`) keeps the suite fast; tests use distinct VMIDs. Tests that
need an empty node or a different seed use the plugin's function-scoped `pve_node`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pve_sim.fixture import SimNode

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    sim = SimNode.start(tmp_path_factory.mktemp("node"))
    yield sim
    sim.stop()


def _create_ct(sim: SimNode, vmid: int, *extra: str) -> None:
    """Create a small CT on local-lvm, failing the test on error."""
    proc = sim.run(
        [
            "pct",
            "create",
            str(vmid),
            TEMPLATE,
            "--hostname",
            f"ct{vmid}",
            "--rootfs",
            "local-lvm:4",
            *extra,
        ]
    )
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def create_ct() -> Callable[..., None]:
    """create_ct(sim, vmid, *extra_options): a small CT on local-lvm from the default template."""
    return _create_ct


@pytest.fixture
def template() -> str:
    return TEMPLATE
