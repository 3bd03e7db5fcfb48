"""What people installing phoenix get: each distribution's metadata, its manager API claim,
the simulator's wheel, and extras that hold what they say."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECTS = sorted(
    [
        REPO / "pyproject.toml",
        REPO / "contrib" / "pve-sim" / "pyproject.toml",
        *list((REPO / "plugins").glob("*/pyproject.toml")),
    ]
)
#: Where the modules registering managers live (the template is a third party's start).
PLUGIN_MODULES = [
    *sorted(REPO.glob("plugins/*/phoenix_*/plugin.py")),
    REPO / "contrib" / "plugin-template" / "phoenix_hello" / "plugin.py",
]
TEST_SOURCES = [
    p
    for d in ("tests", "plugins", "contrib")
    for p in (REPO / d).rglob("*.py")
    if "tests" in p.parts or p.name == "conftest.py"
]
#: A distribution in a ``test`` extra, and how a test uses it.
IMPORT_NAMES = {"pytest": "pytest", "hypothesis": "hypothesis", "jsonschema": "jsonschema"}


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


@pytest.mark.parametrize("path", PYPROJECTS, ids=lambda p: p.parent.name)
def test_every_distribution_says_where_it_lives_and_what_it_is_for(path: Path) -> None:
    project = _project(path)
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])
    classifiers = project["classifiers"]
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert "Programming Language :: Python :: 3.11" in classifiers
    # The license is the SPDX expression of `license` (PEP 639): no classifier repeats it.
    assert not [c for c in classifiers if c.startswith("License ::")]


@pytest.mark.parametrize("path", PYPROJECTS, ids=lambda p: p.parent.name)
def test_the_test_extra_holds_only_what_the_tests_use(path: Path) -> None:
    sources = "\n".join(p.read_text() for p in TEST_SOURCES)
    for requirement in _project(path).get("optional-dependencies", {}).get("test", []):
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)[0].lower()
        if name == "setuptools":  # the distribution tests build with --no-build-isolation
            assert "--no-build-isolation" in sources
            continue
        module = IMPORT_NAMES.get(name)
        assert module is not None, f"{path}: {requirement} in the test extra is not used by a test"
        assert re.search(rf"^\s*(import|from) {module}\b|importorskip\(\"{module}\"", sources, re.M)


@pytest.mark.parametrize("path", PLUGIN_MODULES, ids=lambda p: p.parent.name)
def test_each_plugin_states_its_manager_api_as_a_literal(path: Path) -> None:
    """The version a plugin was written for; core's own constant would claim every version."""
    claims = [
        keyword.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "api_version"
    ]
    assert claims, f"{path} registers no manager"
    assert all(isinstance(v, ast.Constant) and isinstance(v.value, int) for v in claims)


@pytest.mark.slow
def test_the_simulator_wheel_ships_its_seeds(tmp_path: Path) -> None:
    source = shutil.copytree(REPO / "contrib" / "pve-sim", tmp_path / "src")  # builds in-tree
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"pve_sim/seeds/{p.name}" for p in (REPO / "contrib/pve-sim/seeds").glob("*.json")}
    assert shipped and shipped <= names
