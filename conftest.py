"""Shared by every test of this repository (core, plugins, simulator, template)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_run_lock_dir(phoenix_lock_dir: Path) -> None:
    """Every phoenix a test starts takes its node's run lock in a directory of the test's
    own (``phoenix_core.testing``'s fixture, autouse here only, never for other projects)."""
