"""Helpers for the LXC plugin's tests: configuration copies, and the phoenix CLI run against a
simulated node (``--host sim:DIR``) the way users run it (CliRunner in-process, or a
subprocess).

Imported by the test modules (no conftest.py: module names must stay unique across the repo).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from phoenix_core.cli import build
from phoenix_core.plugins import Plugins

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_ETC = REPO / "contrib" / "examples" / "original-etc"
SEED = REPO / "contrib" / "pve-sim" / "seeds" / "original-etc.json"
#: Scripts the old config names that phoenix does not ship: tests provide stand-ins.
STAND_IN_FEATURES = ("step_ca", "traefik", "trusted_ca", "step_cli")
STAND_IN_APPS = (
    "phoenix_hypervisor_lxc_101.sh",
    "phoenix_hypervisor_lxc_102.sh",
    "phoenix_hypervisor_lxc_103.sh",
)
#: What the old config's health checks name (103's check_step_ca.sh): a host-side stand-in.
STAND_IN_CHECKS = REPO / "contrib" / "demo" / "stand-ins" / "health_checks"
ACCEPTANCE_IDS = ["900", "103", "101", "102"]
#: Leaves the host manager out (PHOENIX_DISABLE_PLUGINS), so no host target is scheduled.
NO_HOST_SETUP = ("PHOENIX_DISABLE_PLUGINS", "hypervisor")


def copy_original(tmp_path: Path) -> Path:
    """The old configuration, unchanged except for stand-in scripts for what phoenix does
    not ship on the config's search path. Its bind-mount sources (/mnt/pve/...) are the
    node's: the simulated node keeps them in its directory."""
    target = tmp_path / "etc"
    shutil.copytree(EXAMPLE_ETC, target)
    (target / "features" / "lxc").mkdir(parents=True)
    (target / "scripts").mkdir()
    for name in STAND_IN_FEATURES:
        (target / "features" / "lxc" / f"{name}.sh").write_text(
            f"#!/bin/bash\necho stand-in {name}\n"
        )
    for name in STAND_IN_APPS:
        (target / "scripts" / name).write_text('#!/bin/bash\necho "app for $1"\n')
    shutil.copytree(STAND_IN_CHECKS, target / "health_checks")
    return target


def write_lxc(directory: Path, configs: dict[str, Any], **root: Any) -> Path:
    """A minimal config directory: the original hypervisor file and the given containers."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE_ETC / "phoenix_hypervisor_config.json", directory)
    hyp = directory / "phoenix_hypervisor_config.json"
    data = json.loads(hyp.read_text())
    data["core_paths"] = {"lxc_config_file": str(directory / "phoenix_lxc_configs.json")}
    hyp.write_text(json.dumps(data, indent=2))
    (directory / "phoenix_lxc_configs.json").write_text(
        json.dumps({**root, "lxc_configs": configs}, indent=2)
    )
    return directory


def base_ct(name: str, ip: str, mac: str, **extra: Any) -> dict[str, Any]:
    """A small container from the seeded Ubuntu template, desired running (``start_at_boot``:
    converge starts it)."""
    return {
        "start_at_boot": True,
        "name": name,
        "memory_mb": 1024,
        "cores": 1,
        "template": "/fastData/shared-iso/template/cache/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        "storage_pool": "quickOS-lxc-disks",
        "storage_size_gb": 8,
        "network_config": {"name": "eth0", "bridge": "vmbr0", "ip": ip, "gw": _first_host(ip)},
        "mac_address": mac,
        "unprivileged": True,
        **extra,
    }


def _first_host(cidr: str) -> str:
    """The gateway of a test subnet: its first other host (phoenix refuses one outside it)."""
    interface = ipaddress.IPv4Interface(cidr)
    return str(next(h for h in interface.network.hosts() if h != interface.ip))


class Cli:
    """Runs ``phoenix --host sim:DIR`` against the simulated node: in-process through click's
    CliRunner, or as a subprocess."""

    def __init__(self, node: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        self.node = node
        # These tests are about containers on a node already set up: host setup
        # (phoenix-hypervisor, when installed) is tested in its own distribution.
        # The host manager is left out, and whatever else the test already blocked.
        blocked = {NO_HOST_SETUP[1], *filter(None, os.environ.get(NO_HOST_SETUP[0], "").split(","))}
        self.env = {**os.environ, NO_HOST_SETUP[0]: ",".join(sorted(blocked))}
        monkeypatch.setenv(NO_HOST_SETUP[0], self.env[NO_HOST_SETUP[0]])
        self.log_dir = tmp_path / "logs"
        self.plugins = Plugins().discover()

    def args(self, *args: str) -> list[str]:
        """The global options every run gets: its log directory and the simulated node."""
        return ["--log-dir", str(self.log_dir), "--host", self.node.host, *args]

    def __call__(self, *args: str) -> Result:
        runner = CliRunner()
        return runner.invoke(build(self.plugins), self.args(*args), obj=self.plugins)

    def json(self, *args: str) -> dict[str, Any]:
        """The ``-o json`` document of a verb that acts on guests (``phoenix/run/v1``)."""
        result = self(*args, "--output", "json")
        document = json.loads(result.stdout[result.stdout.index("{") :])
        assert document["schema"] == "phoenix/run/v1", document
        return document

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """``phoenix`` started in the background (to signal it, or to run two at once)."""
        exe = Path(sys.executable).with_name("phoenix")
        return subprocess.Popen(
            [str(exe), *self.args(*args)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def subprocess(self, *args: str) -> subprocess.CompletedProcess[str]:
        exe = Path(sys.executable).with_name("phoenix")
        return subprocess.run(
            [str(exe), *self.args(*args)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def mutations(entries: list[dict[str, Any]]) -> list[list[str]]:
    return [e["argv"] for e in entries if e["mutating"]]


def proxmox_tools(entries: list[dict[str, Any]]) -> list[list[str]]:
    """The Proxmox tool command lines among the journal's entries (each a Perl start-up)."""
    from pve_sim.faults import PROXMOX_TOOLS

    return [e["argv"] for e in entries if e["argv"][0] in PROXMOX_TOOLS]


#: What a run reads of a node holding containers only, whatever their number (sorted): the
#: node probe and the containers' node list; /etc/pve/.vmlist lists no VM, so the VMs' list is
#: not read (the rest comes from files under /etc/pve).
NODE_READS = [
    ["pvesh", "get", "/nodes/localhost/lxc", "--output-format", "json"],
    ["pveversion"],
]


@pytest.fixture
def cli(pve_node: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Cli:
    return Cli(pve_node, monkeypatch, tmp_path)


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return copy_original(tmp_path)
