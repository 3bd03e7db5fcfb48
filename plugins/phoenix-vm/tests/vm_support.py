"""Helpers for the VM plugin's tests: the old configuration pointed at a simulated node whose
``local`` storage holds snippets in a temporary directory, and the phoenix CLI as users run it.

Imported by the test modules (no conftest.py: module names must stay unique across the repo).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pve_sim.seed import with_local_snippets

REPO = Path(__file__).resolve().parents[3]
# The LXC tests' helper prepares the old configuration for the whole node (the VMs depend on
# containers); one copy of that logic, imported from its directory.
sys.path.insert(0, str(REPO / "plugins" / "phoenix-lxc" / "tests"))
import lxc_support  # noqa: E402

SEED = lxc_support.SEED
#: The VMs' persistent data on the node (in the simulated node's directory).
PERSIST = "/quickOS/vm-persistent-data"
#: The demo's stand-ins for every script of the old configuration that phoenix does not ship.
STAND_INS = REPO / "contrib" / "demo" / "stand-ins"
VM_IDS = ["9000", "1001", "1002"]
#: Seconds the simulated guest agent takes to answer after a start, small for tests.
AGENT_DELAY = 0.2


def node_seed(tmp_path: Path) -> Path:
    """The old configuration's seed, with ``local`` a directory under tmp_path that holds
    snippets (cloud-init vendor data is written there, as on a node with snippets enabled)."""
    return with_local_snippets(SEED, tmp_path)


def copy_original(tmp_path: Path) -> Path:
    """The LXC tests' copy of the old configuration (stand-ins for the homelab's own
    scripts), plus the demo's stand-ins for every other script."""
    target = lxc_support.copy_original(tmp_path)
    shutil.copytree(STAND_INS, target, dirs_exist_ok=True)
    return target


def edit_vm(directory: Path, vmid: int, **values: Any) -> None:
    path = directory / "phoenix_vm_configs.json"
    data = json.loads(path.read_text())
    for vm in data["vms"]:
        if vm["vmid"] == vmid:
            vm.update(values)
    path.write_text(json.dumps(data, indent=2))


Cli = lxc_support.Cli
mutations = lxc_support.mutations


def guest_runs(entries: list[dict[str, Any]]) -> list[list[str]]:
    """Guest-agent commands that change the guest (script runs and pushes), which the journal
    does not count as mutating because `qm guest exec` is a read to Proxmox."""
    return [
        e["argv"] for e in entries if e["argv"][1:3] == ["guest", "exec"] and "cat" not in e["argv"]
    ]


@pytest.fixture
def vm_node(tmp_path: Path, pve_node_factory: Callable[..., Any]) -> Any:
    node = pve_node_factory(seed=node_seed(tmp_path))
    node.set_agent_delay(AGENT_DELAY)
    return node


@pytest.fixture
def cli(vm_node: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return Cli(vm_node, monkeypatch, tmp_path)


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return copy_original(tmp_path)
