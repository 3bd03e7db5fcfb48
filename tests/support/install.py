"""Installing a project built during a test, as a user's pip would, into its own directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def pip_install_target(project: Path, target: Path) -> Path:
    """``pip install PROJECT --target TARGET``, offline: no dependencies (this environment has
    them), no build isolation (its setuptools builds), no index. Returns ``target``, which a
    child process puts on ``PYTHONPATH`` to see the distribution and its entry points."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(project),
        ],
        check=True,
        capture_output=True,
    )
    return target
