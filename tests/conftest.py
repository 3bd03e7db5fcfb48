"""Fixtures shared by the core's tests: configuration copies, a fake node, a CLI runner
(the last two built on :mod:`phoenix_core.testing`, the kit plugin authors use)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.config import load_config
from phoenix_core.engine import Engine
from phoenix_core.hosts.pool import HostPool
from phoenix_core.plugins import Plugins
from phoenix_core.testing import CliResult, invoke
from tests.support.fakenode import FakeNode, fake_plugins

ORIGINAL_ETC = Path(__file__).resolve().parents[2] / "shared" / "reference" / "original-etc"
EXAMPLE_ETC = Path(__file__).resolve().parents[1] / "contrib" / "examples" / "original-etc"


def original_etc() -> Path:
    """The old tool's real configuration (a copy ships in contrib/ for fresh clones)."""
    return EXAMPLE_ETC if EXAMPLE_ETC.is_dir() else ORIGINAL_ETC


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """A writable copy of the original configuration directory."""
    target = tmp_path / "etc"
    shutil.copytree(original_etc(), target)
    return target


def write_guests(
    directory: Path, lxc: dict[str, Any] | None = None, vms: list[dict[str, Any]] | None = None
) -> Path:
    """A minimal configuration directory holding just these guests."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "phoenix_hypervisor_config.json").write_text(
        json.dumps(
            {
                "core_paths": {
                    "lxc_config_file": "phoenix_lxc_configs.json",
                    "vm_config_file": "phoenix_vm_configs.json",
                }
            }
        )
    )
    (directory / "phoenix_lxc_configs.json").write_text(json.dumps({"lxc_configs": lxc or {}}))
    (directory / "phoenix_vm_configs.json").write_text(json.dumps({"vms": vms or []}))
    return directory


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture(name="fake_plugins")
def fake_plugins_fixture() -> Plugins:
    return fake_plugins()


@pytest.fixture
def make_engine(node: FakeNode, fake_plugins: Plugins) -> Callable[..., Engine]:
    """Build an engine over a config directory whose guests all live on ``node``."""

    def make(directory: Path, **options: Any) -> Engine:
        config = load_config(directory, fake_plugins)
        pool = HostPool()
        pool.preset(None, node)
        options.setdefault("boot_delay", False)
        return Engine(config, fake_plugins, pool, **options)

    return make


@pytest.fixture
def cli(fake_plugins: Plugins, tmp_path: Path) -> Callable[..., CliResult]:
    """Invoke ``phoenix`` in-process with the fake plugins (the kit's runner, without its
    host injection: these tests choose the node by patching ``HostPool._connect``)."""

    def run(*args: str, plugins: Plugins | None = None) -> CliResult:
        return invoke(args, plugins or fake_plugins, log_dir=tmp_path / "logs")

    return run
