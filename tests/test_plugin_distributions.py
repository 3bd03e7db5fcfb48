"""Plugin discovery with real distributions, built and installed into a temporary directory.

Each test plugin is a real project (pyproject.toml, a module, an entry point in
``phoenix.managers``) installed with pip; ``phoenix`` then runs as a subprocess that sees
them on ``PYTHONPATH``, exactly as a user's installed plugins are seen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.support.install import pip_install_target

pytestmark = pytest.mark.slow

#: Plugins of the development environment itself, kept out of these subprocesses.
INSTALLED = sorted({ep.name for ep in entry_points(group="phoenix.managers")})

GOOD = '''
from phoenix_core.hookspecs import hookimpl
from phoenix_core.layout import GuestFile
from phoenix_core.manager import ManagerSpec


class Manager:
    pass


@hookimpl
def phoenix_register_managers(register):
    register(
        ManagerSpec(
            name="widget",
            kind="widget",
            factory=Manager,
            api_version=2,
            config=GuestFile(file="phoenix_widget_configs.json", key="widgets"),
        )
    )


@hookimpl
def phoenix_register_commands(cli):
    import click

    @cli.command()
    def hello():
        """Say hello from a plugin."""
        click.echo("hello from phoenix-good")
'''

PLUGINS = {
    "phoenix-good": ("good", GOOD),
    "phoenix-broken": ("broken", "import phoenix_core\nimport no_such_module_anywhere\n"),
    "phoenix-dupe": ("dupe", GOOD.replace("phoenix_register_commands", "_unused_commands")),
    "phoenix-future": (
        "future",
        GOOD.replace("api_version=2", "api_version=99")
        .replace('"widget"', '"gadget"')
        .replace("phoenix_register_commands", "_unused"),
    ),
    "phoenix-unversioned": (
        "unversioned",
        GOOD.replace("api_version=2,", "")
        .replace('"widget"', '"gizmo"')
        .replace("phoenix_register_commands", "_unused"),
    ),
    "phoenix-typo": (
        "typo",
        "from phoenix_core.hookspecs import hookimpl\n\n"
        "@hookimpl\ndef phoenix_action_finshed(verb, target, outcome):\n    pass\n",
    ),
    "phoenix-clash": (
        "clash",
        "from phoenix_core.hookspecs import hookimpl\n\n"
        "@hookimpl\ndef phoenix_register_commands(cli):\n"
        "    @cli.command()\n    def status():\n        pass\n",
    ),
}


def build_project(root: Path, dist: str, module: str, source: str) -> Path:
    project = root / dist
    (project / module).mkdir(parents=True)
    (project / module / "__init__.py").write_text(textwrap.dedent(source))
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{dist}"
        version = "1.2.3"
        dependencies = ["phoenix-core"]

        [project.entry-points."phoenix.managers"]
        {module} = "{module}"

        [tool.setuptools]
        packages = ["{module}"]
        """)
    )
    return project


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each plugin installed into its own target directory (so tests choose which are seen)."""
    root = tmp_path_factory.mktemp("plugins")
    targets = {}
    for dist, (module, source) in PLUGINS.items():
        project = build_project(root / "src", dist, module, source)
        targets[dist] = pip_install_target(project, root / "site" / dist)
    return targets


def phoenix(
    site: dict[str, Path], *args: str, dists: list[str], **env: str
) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(str(site[d]) for d in dists)
    environ = {**os.environ, "PYTHONPATH": path, **env}
    if "PHOENIX_STRICT_PLUGINS" not in env:
        environ.pop("PHOENIX_STRICT_PLUGINS", None)
    # Only the test plugins: the plugins installed in this environment would answer too.
    environ["PHOENIX_DISABLE_PLUGINS"] = ",".join(
        [*INSTALLED, env.get("PHOENIX_DISABLE_PLUGINS", "")]
    )
    return subprocess.run(
        [sys.executable, "-m", "phoenix_core.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )


def listed(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    return {p["distribution"]: p for p in json.loads(result.stdout)["plugins"]}


def test_good_plugin_provides_its_manager_and_verb(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", "--output", "json", dists=["phoenix-good"])
    assert result.returncode == 0, result.stderr
    good = listed(result)["phoenix-good"]
    assert good == {
        "name": "good",
        "distribution": "phoenix-good",
        "version": "1.2.3",
        "module": "good",
        "managers": [{"name": "widget", "kind": "widget", "api_version": 2, "description": ""}],
        "verbs": ["hello"],
        "error": None,
        "warnings": [],
    }
    hello = phoenix(site, "hello", dists=["phoenix-good"])
    assert (hello.returncode, hello.stdout) == (0, "hello from phoenix-good\n")
    assert "hello" in phoenix(site, "--help", dists=["phoenix-good"]).stdout


def test_broken_plugin_is_reported_and_the_rest_keep_working(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", "--output", "json", dists=["phoenix-good", "phoenix-broken"])
    assert result.returncode == 0
    plugins = listed(result)
    assert plugins["phoenix-good"]["error"] is None
    assert (
        "cannot import broken: ModuleNotFoundError: No module named 'no_such_module_anywhere'"
        in plugins["phoenix-broken"]["error"]
    )
    assert "warning: plugin broken (phoenix-broken 1.2.3) skipped" in result.stderr
    text = phoenix(site, "plugins", dists=["phoenix-good", "phoenix-broken"])
    assert "FAILED: cannot import broken" in text.stdout


def test_strict_mode_makes_a_broken_plugin_fatal(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", dists=["phoenix-broken"], PHOENIX_STRICT_PLUGINS="1")
    assert result.returncode == 2
    assert "plugin broken (phoenix-broken 1.2.3): cannot import broken" in result.stderr
    assert "Traceback" not in result.stderr


def test_disable_by_name_blocks_a_plugin(site: dict[str, Path]) -> None:
    result = phoenix(
        site,
        "plugins",
        "--output",
        "json",
        dists=["phoenix-good", "phoenix-broken"],
        PHOENIX_DISABLE_PLUGINS="broken,lxc,vm,hypervisor",
    )
    assert list(listed(result)) == ["phoenix-good"]
    result = phoenix(
        site,
        "plugins",
        "--output",
        "json",
        dists=["phoenix-good"],
        PHOENIX_DISABLE_PLUGINS="phoenix-good,lxc,vm,hypervisor",
    )
    assert listed(result) == {}


def test_duplicate_manager_names_both_distributions(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", dists=["phoenix-good", "phoenix-dupe"])
    assert result.returncode == 2
    assert "manager 'widget' (widget): kind 'widget' is registered twice" in result.stderr
    assert "phoenix-good 1.2.3" in result.stderr and "phoenix-dupe 1.2.3" in result.stderr


def test_duplicate_verb_names_both_owners(site: dict[str, Path]) -> None:
    result = phoenix(site, "--help", dists=["phoenix-clash"])
    assert result.returncode == 2
    assert (
        "verb 'status' is defined twice: by phoenix-core and by phoenix-clash 1.2.3 (clash)"
        in result.stderr
    )


def test_unsupported_api_version_is_refused_clearly(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", "--output", "json", dists=["phoenix-future"])
    error = listed(result)["phoenix-future"]["error"]
    assert "manager 'gadget' needs manager API version 99; this phoenix-core supports 2" in error


def test_a_manager_spec_without_api_version_is_refused_clearly(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", "--output", "json", dists=["phoenix-unversioned"])
    error = listed(result)["phoenix-unversioned"]["error"]
    assert "missing 1 required keyword-only argument: 'api_version'" in error
    assert "this phoenix-core speaks manager API version 2" in error


def test_a_misspelt_hook_is_reported_and_fatal_when_strict(site: dict[str, Path]) -> None:
    result = phoenix(site, "plugins", "--output", "json", dists=["phoenix-typo"])
    assert result.returncode == 0
    message = (
        "implements phoenix_action_finshed, which is not a phoenix hook "
        "(did you mean phoenix_action_finished?)"
    )
    assert listed(result)["phoenix-typo"]["warnings"] == [message]
    assert f"plugin typo (phoenix-typo 1.2.3) {message}" in result.stderr
    strict = phoenix(site, "plugins", dists=["phoenix-typo"], PHOENIX_STRICT_PLUGINS="1")
    assert strict.returncode == 2 and message in strict.stderr


def test_the_same_distribution_seen_twice_loads_once(site: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(site["phoenix-good"]), str(copy)], check=True)
    both = {**site, "copy": copy}
    result = phoenix(both, "plugins", "--output", "json", dists=["phoenix-good", "copy"])
    assert result.returncode == 0, result.stderr
    assert [p["distribution"] for p in json.loads(result.stdout)["plugins"]] == ["phoenix-good"]


def test_version_names_the_loaded_plugins(site: dict[str, Path]) -> None:
    result = phoenix(site, "--version", dists=["phoenix-good", "phoenix-broken"])
    assert result.returncode == 0
    assert "phoenix-core 0.2.0" in result.stdout
    assert "phoenix-good 1.2.3 (good: widget, hello)" in result.stdout
    assert "phoenix-broken 1.2.3 (broken: failed: cannot import broken" in result.stdout
