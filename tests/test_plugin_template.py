"""contrib/plugin-template as a third party gets it: copied out of the repository, installed
with pip, tested in a fresh virtual environment, and run by ``phoenix`` beside phoenix-lxc."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from tests.support.install import pip_install_target

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "contrib" / "plugin-template"
SEED = REPO / "contrib" / "pve-sim" / "seeds" / "original-etc.json"
EXAMPLE_HYPERVISOR = (
    REPO / "contrib" / "examples" / "original-etc" / "phoenix_hypervisor_config.json"
)
HELLO_FILE = "phoenix_hello_configs.json"
#: Only phoenix-lxc and the template answer; other plugins of this environment stay out.
OTHERS = sorted({ep.name for ep in entry_points(group="phoenix.managers")} - {"lxc", "hello"})
#: The build leftovers of an editable install are not part of the template.
LEFTOVERS = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", ".pytest_cache")


def copy_template(directory: Path) -> Path:
    project = directory / "phoenix-hello"
    shutil.copytree(TEMPLATE, project, ignore=LEFTOVERS)
    return project


def copy_core(directory: Path) -> Path:
    """phoenix-core's source as in the repository root: building a copy keeps setuptools'
    build/ out of the working tree, where stale files would leak into later wheels."""
    project = directory / "phoenix-core"
    shutil.copytree(REPO / "phoenix_core", project / "phoenix_core", ignore=LEFTOVERS)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, project)
    return project


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would leak the repository into a child."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOENIX_", "PYTHON"))}
    return {**env, **extra}


def test_the_template_tests_pass_copied_into_a_fresh_environment(tmp_path: Path) -> None:
    try:
        import venv  # noqa: F401
    except ImportError:
        pytest.skip("the venv module is not available in this Python")
    project = copy_template(tmp_path)
    env_dir = tmp_path / "venv"
    # No pip of its own (installing one costs seconds of CPU): this environment's pip installs
    # into it (``--python``), as it would into any interpreter.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = str(env_dir / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-input"]
    installed = subprocess.run(
        [*pip, "--disable-pip-version-check", str(copy_core(tmp_path)), f"{project}[test]"],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert installed.returncode == 0, installed.stderr
    tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template built from a copy and installed with pip into its own target directory."""
    root = tmp_path_factory.mktemp("template")
    return pip_install_target(copy_template(root), root / "site")


def phoenix(site: Path, etc: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``phoenix --config-dir ETC ARGS`` in a subprocess that sees the installed template."""
    # The run lock in the test's own directory, never this machine's /run/phoenix.
    env = clean_env(
        PYTHONPATH=str(site),
        PHOENIX_DISABLE_PLUGINS=",".join(OTHERS),
        PHOENIX_LOCK_DIR=str(etc.parent / "run-lock"),
    )
    logs = str(etc.parent / "logs")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "phoenix_core.cli",
            "--log-dir",
            logs,
            "--config-dir",
            str(etc),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def write_etc(directory: Path, greetings: dict[str, Any], **files: Any) -> Path:
    directory.mkdir(parents=True)
    hypervisor = files.pop("hypervisor", {})
    (directory / "phoenix_hypervisor_config.json").write_text(json.dumps(hypervisor))
    (directory / HELLO_FILE).write_text(json.dumps({"greetings": greetings}))
    for name, data in files.items():
        (directory / f"{name}.json").write_text(json.dumps(data))
    return directory


def test_the_installed_template_is_what_runs(site: Path, tmp_path: Path) -> None:
    code = "import phoenix_hello; print(phoenix_hello.__file__)"
    env = clean_env(PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.startswith(str(site)), out.stdout + out.stderr
    result = phoenix(site, write_etc(tmp_path / "etc", {}), "plugins", "-o", "json")
    listed = {p["distribution"]: p for p in json.loads(result.stdout)["plugins"]}
    assert set(listed) == {"phoenix-lxc", "phoenix-hello"}, result.stderr
    assert listed["phoenix-hello"]["managers"][0]["kind"] == "hello"
    assert listed["phoenix-hello"]["verbs"] == ["hello"]


def test_a_typo_in_the_hello_file_is_exit_2_with_nothing_run(site: Path, tmp_path: Path) -> None:
    motd = tmp_path / "out" / "motd"
    etc = write_etc(tmp_path / "etc", {"120": {"name": "motd", "path": str(motd), "mesage": "hi"}})
    result = phoenix(site, etc, "converge")
    assert result.returncode == 2
    assert (
        f'{HELLO_FILE}: greetings.120.mesage: unknown key (did you mean "message"?)'
        in result.stderr
    )
    assert not motd.parent.exists()


def test_plan_and_converge_run_its_steps_and_a_second_converge_changes_nothing(
    site: Path, tmp_path: Path
) -> None:
    motd = tmp_path / "out" / "motd"
    etc = write_etc(tmp_path / "etc", {"120": {"name": "motd", "path": str(motd), "message": "hi"}})

    plan = phoenix(site, etc, "plan", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    [outcome] = json.loads(plan.stdout)["outcomes"]
    assert outcome["status"] == "planned"
    assert [c["step"] for c in outcome["changes"]] == ["directory", "message"]
    assert not motd.parent.exists()

    first = phoenix(site, etc, "converge", "-o", "json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["outcomes"][0]["status"] == "changed"
    assert motd.read_text() == "hi\n"
    second = phoenix(site, etc, "converge", "-o", "json")
    [again] = json.loads(second.stdout)["outcomes"]
    assert (again["status"], again["changes"]) == ("ok", [])


@pytest.mark.pve_sim(seed=str(SEED))
def test_a_hello_guest_is_ordered_after_the_container_it_depends_on(
    site: Path, tmp_path: Path, pve_node: Any
) -> None:
    hypervisor = json.loads(EXAMPLE_HYPERVISOR.read_text())
    hypervisor["core_paths"] = {"lxc_config_file": "phoenix_lxc_configs.json"}
    container = {
        "name": "web",
        "memory_mb": 1024,
        "cores": 1,
        "template": "/fastData/shared-iso/template/cache/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
        "storage_pool": "quickOS-lxc-disks",
        "storage_size_gb": 8,
        "network_config": {
            "name": "eth0",
            "bridge": "vmbr0",
            "ip": "10.0.8.1/24",
            "gw": "10.0.8.254",
        },
        "mac_address": "52:54:00:00:08:01",
        "unprivileged": True,
    }
    motd = tmp_path / "out" / "motd"
    greeting = {"name": "motd", "path": str(motd), "message": "hi", "dependencies": ["800"]}
    etc = write_etc(
        tmp_path / "etc",
        {"120": greeting},
        hypervisor=hypervisor,
        phoenix_lxc_configs={"lxc_configs": {"800": container}},
    )

    plan = phoenix(site, etc, "--host", pve_node.host, "plan", "120", "-o", "json")
    assert plan.returncode == 0, plan.stderr
    outcomes = json.loads(plan.stdout)["outcomes"]
    assert [(o["kind"], o["id"], o["status"]) for o in outcomes] == [
        ("lxc", 800, "planned"),
        ("hello", 120, "planned"),
    ]
    assert pve_node.mutating() == []  # a plan of a missing container only queries
    # ... and it did ask the node (how it reads the node, a snapshot, is phoenix-pve's).
    # (pmxcfs's files say the container is missing; the plan asks about its storage.)
    assert any(e["argv"][0] in ("pct", "pvesh", "pvesm") for e in pve_node.journal())
