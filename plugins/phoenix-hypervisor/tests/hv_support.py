"""Helpers for the hypervisor plugin's tests: the old configuration, and phoenix run as a
subprocess against a simulated node (``--host sim:DIR``) the way users run it.

Imported by the test modules (no conftest.py: module names must stay unique across the repo).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pve_sim.fixture import SimNode

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_ETC = REPO / "contrib" / "examples" / "original-etc"
BARE = REPO / "contrib" / "pve-sim" / "seeds" / "hypervisor-bare.json"
DISKS = (
    "/dev/disk/by-id/nvme-Samsung_SSD_990_EVO_Plus_2TB_S7U6NJ0Y320880M",
    "/dev/disk/by-id/nvme-Samsung_SSD_990_EVO_Plus_2TB_S7U6NJ0Y310536X",
    "/dev/disk/by-id/nvme-Samsung_SSD_990_EVO_Plus_4TB_S7U8NJ0Y402334Y",
)
SAMBA_PASSWORD = "s3cret-samba-pw"


def start(tmp_path: Path, host: dict[str, Any] | None = None, pve: int = 8) -> SimNode:
    """A bare node playing PVE ``pve``; ``host`` replaces keys of the seed's host section."""
    seed = json.loads(BARE.read_text())
    seed["host"].update(host or {})
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    return SimNode.start(tmp_path / "node", seed=path, pve=pve)


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[SimNode]:
    node = start(tmp_path)
    yield node
    node.stop()


def configure(tmp_path: Path, password: bool = True) -> Path:
    """The old configuration directory, unchanged, with the Samba password in its secret
    file (0600)."""
    target = tmp_path / "etc"
    shutil.copytree(EXAMPLE_ETC, target)
    if password:
        secret = target / "phoenix_samba_password.conf"
        secret.write_text(SAMBA_PASSWORD + "\n")
        secret.chmod(0o600)
    return target


def phoenix(
    node: SimNode, etc: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``phoenix --host sim:DIR --config-dir ETC ARGS`` as a subprocess (``env``: variables
    added to this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "phoenix_core.cli", "--host", node.host, "--config-dir", str(etc),
         "--log-dir", str(etc.parent / "logs"), *args],
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
        check=False,
    )  # fmt: skip


def mutating(node: SimNode, mark: int) -> list[list[str]]:
    return [e["argv"] for e in node.since(mark) if e["mutating"]]
