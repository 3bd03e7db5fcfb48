# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""What an operator reads on the simulated node: the node's own name in status, a plan that
says when the guests that would run do not fit in the node's memory, and selectors by tag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxc_support import (  # noqa: F401 - fixtures
    SEED,
    Cli,
    cli,
    original,
    proxmox_tools,
)

pytestmark = pytest.mark.pve_sim(seed=SEED)


def test_status_names_the_node_as_proxmox_does(cli: Cli, original: Path) -> None:
    mark = cli.node.mark()
    document = json.loads(cli("--config-dir", str(original), "status", "900", "-o", "json").stdout)
    assert [t["node"] for t in document["targets"]] == [cli.node.node]  # "pve1", not "default"
    # The name from /etc/pve/.members, not `pvesh get /cluster/resources --type node`; 900
    # is not built on this node, which .vmlist says: no node list is read either.
    assert proxmox_tools(cli.node.since(mark)) == [["pveversion"]]
    table = cli("--config-dir", str(original), "status", "900").stdout
    assert table.splitlines()[1].split()[3] == "pve1"


def test_plan_says_when_the_guests_would_not_fit_and_strict_refuses(
    cli: Cli, original: Path
) -> None:
    """The old homelab's containers commit far more than the simulated node's 64 GiB (its
    /proc/meminfo, which a node's pvestatd reports as the node's memory)."""
    before = len(cli.node.journal())
    plan = cli("--config-dir", str(original), "plan", "101")
    assert plan.exit_code == 0, plan.output
    # 101 and what it requires: 900 is a template, 103 and 101 run.
    assert "the 2 guests that would run on pve1 commit" not in plan.stderr
    mark = cli.node.mark()
    everything = cli("--config-dir", str(original), "plan")
    assert "guests that would run on pve1 commit" in everything.stderr
    # The node's memory from /proc/meminfo, its name from .members; nothing exists yet, so
    # .vmlist spares the node lists (the creates' own checks read the storages).
    asked = proxmox_tools(cli.node.since(mark))
    assert not [a for a in asked if a[:3] == ["pvesh", "get", "/cluster/resources"]]
    assert not [a for a in asked if a[:3] == ["pvesh", "get", "/nodes/localhost/lxc"]]
    assert "the node has 64.0 GiB" in everything.stderr
    strict = cli("--config-dir", str(original), "plan", "--strict")
    assert strict.exit_code == 2 and strict.stdout == ""
    assert "--strict" in strict.stderr
    refused = cli("--config-dir", str(original), "LetsGo", "--strict", "--only-installed")
    assert refused.exit_code == 2
    assert not [e for e in cli.node.journal()[before:] if e["mutating"]]


def test_plan_by_tag_plans_only_the_tagged_guest(cli: Cli, original: Path) -> None:
    path = original / "phoenix_lxc_configs.json"
    data: dict[str, Any] = json.loads(path.read_text())
    data["lxc_configs"]["900"]["tags"] = ["web"]
    path.write_text(json.dumps(data))
    document = cli.json("--config-dir", str(original), "plan", "--tag", "web")
    assert [o["id"] for o in document["outcomes"]] == [900]
