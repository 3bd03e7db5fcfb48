# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""A container made by hand with ``pct create``: ``status --all`` lists it as not managed,
``import`` prints its entry, ``import --write`` adds it to the LXC file without touching the
other entries, and ``plan --detailed-exitcode`` of it then exits 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxc_support import (  # noqa: F401
    NODE_READS,
    SEED,
    Cli,
    base_ct,
    cli,
    mutations,
    proxmox_tools,
    write_lxc,
)

pytestmark = pytest.mark.pve_sim(seed=str(SEED))


TEMPLATE = "fastData-shared-iso:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"


def _by_hand(cli: Cli, media: Path) -> None:
    """What an admin types (the GUI sends cores, memory, swap and net0 the same way)."""
    argv = [
        "pct", "create", "870", TEMPLATE,
        "--hostname", "jellyfin", "--cores", "2", "--memory", "2048", "--swap", "512",
        "--rootfs", "quickOS-lxc-disks:8", "--unprivileged", "1", "--onboot", "1",
        "--startup", "order=5,up=10,down=10", "--features", "nesting=1",
        "--net0", "name=eth0,bridge=vmbr0,ip=10.0.8.70/24,gw=10.0.8.1,firewall=1",
        "--nameserver", "10.0.8.1", "--tags", "media;web", "--timezone", "Europe/Berlin",
        "--dev0", "/dev/dri/renderD128,gid=44", "--description", "Media server\nby hand",
        "--mp0", f"{media},mp=/media,ro=1",
    ]  # fmt: skip
    cli.node.run(argv, check=True)
    cli.node.run(["pct", "start", "870"], check=True)


@pytest.fixture
def etc(cli: Cli, tmp_path: Path) -> Path:
    other = base_ct("other", "10.0.8.2/24", "52:54:00:00:08:02")
    return write_lxc(tmp_path / "etc", {"871": other})


def test_status_all_lists_a_guest_no_file_describes(cli: Cli, etc: Path) -> None:
    _by_hand(cli, etc / "media")
    mark = cli.node.mark()
    listed = cli.subprocess("--config-dir", str(etc), "status", "--all", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    # The node read once (the probe, then both node lists), not once per guest found.
    assert sorted(proxmox_tools(cli.node.since(mark))) == NODE_READS
    rows = {row["id"]: row for row in json.loads(listed.stdout)["targets"]}
    assert rows[870]["managed"] is False and rows[870]["name"] == "jellyfin"
    assert rows[870]["status"] == "running" and rows[870]["node"] == "pve1"
    assert rows[871]["managed"] is True
    plain = cli.subprocess("--config-dir", str(etc), "status")
    assert "870" not in plain.stdout  # only with --all


def test_import_write_then_plan_is_empty(cli: Cli, etc: Path) -> None:
    media = etc / "media"
    media.mkdir()
    _by_hand(cli, media)
    lxc_file = etc / "phoenix_lxc_configs.json"
    before = lxc_file.read_text()
    mark = cli.node.mark()
    printed = cli.subprocess("--config-dir", str(etc), "import", "870")
    assert printed.returncode == 0, printed.stderr
    # The node probe; its kind from .vmlist, its entry from its files, its state from the
    # containers' list.
    assert sorted(proxmox_tools(cli.node.since(mark))) == NODE_READS
    assert '"870": {' in printed.stdout and '"/dev/dri/renderD128"' in printed.stdout
    assert lxc_file.read_text() == before and mutations(cli.node.since(mark)) == []

    written = cli.subprocess("--config-dir", str(etc), "import", "870", "--write")
    assert written.returncode == 0, written.stderr
    after = lxc_file.read_text()
    assert after.startswith(before.rstrip().rstrip("}").rstrip().rstrip("}").rstrip())
    entry = json.loads(after)["lxc_configs"]["870"]
    assert entry["tags"] == ["media", "web"] and entry["timezone"] == "Europe/Berlin"
    assert entry["devices"] == [{"path": "/dev/dri/renderD128", "gid": 44}]
    assert entry["description"] == "Media server\nby hand"
    assert entry["mount_points"] == [
        {"host_path": str(media), "container_path": "/media", "read_only": True}
    ]
    plan = cli.subprocess("--config-dir", str(etc), "plan", "870", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    mark = cli.node.mark()
    converge = cli.subprocess("--config-dir", str(etc), "converge", "870")
    assert converge.returncode == 0, converge.stdout + converge.stderr
    assert mutations(cli.node.since(mark)) == []


def test_import_refuses_a_described_or_unknown_id(cli: Cli, etc: Path) -> None:
    described = cli.subprocess("--config-dir", str(etc), "import", "871")
    assert described.returncode == 2
    assert "871 is already described in" in described.stderr
    missing = cli.subprocess("--config-dir", str(etc), "import", "879")
    assert missing.returncode == 1 and "no guest 879 on the node" in missing.stderr
    bad = cli.subprocess("--config-dir", str(etc), "import", "abc")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
