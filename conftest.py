"""Shared by every test of this repository (core, plugins, simulator, template)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_run_lock_dir(phoenix_lock_dir: Path) -> None:
    """Every phoenix a test starts takes its node's run lock in a directory of the test's
    own (``phoenix_core.testing``'s fixture, autouse here only, never for other projects)."""


@pytest.fixture(autouse=True, scope="session")
def _bytecode_for_subprocesses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The ``phoenix`` processes and simulated nodes the suite starts reuse compiled bytecode,
    as an installed phoenix does. Where ``PYTHONDONTWRITEBYTECODE`` is set (CI images,
    containers), each of those hundreds of processes would otherwise compile every module of
    this workspace from source (about 0.2 s of CPU each). The bytecode goes to a directory of
    the session's (``PYTHONPYCACHEPREFIX``), never beside the sources; nothing a test checks
    depends on it."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("PYTHONDONTWRITEBYTECODE")
        patch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path_factory.mktemp("pycache")))
        yield


@pytest.fixture(autouse=True, scope="session")
def _logs_stay_in_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No phoenix a test runs writes this machine's ``/var/log``: the default log directory,
    in this process (a test driving the engine without ``--log-dir``) and in every phoenix the
    suite starts (``PHOENIX_LOG_DIR``), is a directory of the session's. A test of the default
    itself points it elsewhere again."""
    from phoenix_core import logs

    directory = tmp_path_factory.mktemp("var-log") / "phoenix_hypervisor"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PHOENIX_LOG_DIR", str(directory))
        patch.setattr(logs, "SYSTEM_LOG_DIR", directory)
        yield
