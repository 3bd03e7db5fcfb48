"""A third party's manager whose targets are named (``web``, ``db``), with a section of the
hypervisor file of its own and a claim the core checks: tests/support/phoenix-stacks, built
and installed with pip during the test, driven through the real CLI against the simulator.

The core knows none of its keys: the manager's spec declares the ``docker_stacks`` section
and the layout's ``id_pattern``; its ``claims`` publish the ports no other target may use.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.layout import NAME_PATTERN
from tests.support.install import pip_install_target
from tests.test_plugin_template import EXAMPLE_HYPERVISOR, LEFTOVERS, SEED, phoenix

pytestmark = pytest.mark.slow

STACKS = Path(__file__).resolve().parent / "support" / "phoenix-stacks"
STACKS_FILE = "phoenix_stacks_configs.json"
CONTAINER = {
    "name": "cache",
    "memory_mb": 512,
    "cores": 1,
    "template": "/fastData/shared-iso/template/cache/ubuntu-24.04-standard_24.04-2_amd64.tar.zst",
    "storage_pool": "quickOS-lxc-disks",
    "storage_size_gb": 8,
    "network_config": {"name": "eth0", "bridge": "vmbr0", "ip": "10.0.8.1/24", "gw": "10.0.8.254"},
    "unprivileged": True,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """phoenix-stacks built from a copy and installed with pip into its own directory."""
    root = tmp_path_factory.mktemp("stacks")
    project = root / "phoenix-stacks"
    shutil.copytree(STACKS, project, ignore=LEFTOVERS)
    return pip_install_target(project, root / "site")


def write_etc(directory: Path, stacks: dict[str, Any], **hypervisor: Any) -> Path:
    """A configuration of ``stacks``, container 800, and the stacks' hypervisor section."""
    directory.mkdir(parents=True)
    data = json.loads(EXAMPLE_HYPERVISOR.read_text())
    data["core_paths"] = {"lxc_config_file": "phoenix_lxc_configs.json"}
    data.update(hypervisor)
    (directory / "phoenix_hypervisor_config.json").write_text(json.dumps(data))
    lxc = {"lxc_configs": {"800": CONTAINER}}
    (directory / "phoenix_lxc_configs.json").write_text(json.dumps(lxc))
    (directory / STACKS_FILE).write_text(json.dumps({"stacks": stacks}))
    return directory


def stacks(**extra: dict[str, Any]) -> dict[str, Any]:
    """db; web on db; proxy on web and container 800 (a name depending on a VMID)."""
    found: dict[str, Any] = {
        "db": {"compose": "services: {db: {image: postgres}}\n", "ports": [5432]},
        "web": {"compose": "services: {web: {image: nginx}}\n", "ports": [8080]},
        "proxy": {"compose": "services: {proxy: {image: caddy}}\n", "dependencies": ["web", 800]},
    }
    found["web"]["dependencies"] = ["db"]
    for name, entry in extra.items():
        found.setdefault(name, {}).update(entry)
    return found


@pytest.mark.pve_sim(seed=str(SEED))
def test_named_targets_are_planned_converged_and_in_sync_on_the_simulator(
    site: Path, tmp_path: Path, pve_node: Any
) -> None:
    etc = write_etc(tmp_path / "etc", stacks(), docker_stacks={"root": "/srv/stacks"})
    run = lambda *args: phoenix(site, etc, "--host", pve_node.host, *args, "-o", "json")  # noqa: E731

    plan = run("plan", "proxy")
    assert plan.returncode == 0, plan.stderr
    outcomes = json.loads(plan.stdout)["outcomes"]
    # JSON keeps a guest's id a number and a named target's a string; the stack needing
    # container 800 comes after it, each stack after the stack it needs.
    assert sorted((o["kind"], str(o["id"]), o["status"]) for o in outcomes) == [
        ("lxc", "800", "planned"),
        ("stack", "db", "planned"),
        ("stack", "proxy", "planned"),
        ("stack", "web", "planned"),
    ]
    order = [o["id"] for o in outcomes]
    assert order.index(800) < order.index("proxy")
    assert order.index("db") < order.index("web") < order.index("proxy")
    assert pve_node.mutating() == []

    first = run("converge", "web")
    assert first.returncode == 0, first.stderr
    done = [(o["id"], o["status"]) for o in json.loads(first.stdout)["outcomes"]]
    assert done == [("db", "changed"), ("web", "changed")]
    compose = pve_node.dir / "srv" / "stacks" / "web" / "compose.yaml"
    assert compose.read_text() == "services: {web: {image: nginx}}\n"
    written = compose.stat().st_ino

    second = run("converge", "web")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)["outcomes"]
    assert [(o["id"], o["status"], o["changes"]) for o in again] == [
        ("db", "ok", []),
        ("web", "ok", []),
    ]
    assert compose.stat().st_ino == written  # not rewritten
    assert pve_node.mutating() == []  # no Proxmox tool changed anything either

    status = run("status", "web", "--exclude", "db")
    assert status.returncode == 0, status.stderr
    assert "web" in status.stdout


@pytest.mark.parametrize(
    "etc_args, expected",
    [
        (
            ({"Web App": {"compose": "x"}},),
            f"{STACKS_FILE}: stacks.Web App: expected a target name matching {NAME_PATTERN}",
        ),
        (
            ({"host": {"compose": "x"}},),
            f"{STACKS_FILE}: stacks.host: 'host' cannot name a target",
        ),
        (
            (stacks(web={"ports": [5432]}),),
            f"{STACKS_FILE}: stacks.web.ports[0]: port 5432 is also used by stack db "
            f"({STACKS_FILE}: stacks.db)",
        ),
        (
            (stacks(proxy={"dependencies": ["wbe"]}),),
            f"{STACKS_FILE}: stacks.proxy.dependencies[0]: wbe is not defined",
        ),
    ],
    ids=["bad-name", "host-name", "duplicate-port", "dangling-name"],
)
def test_bad_stacks_exit_2_naming_file_and_path(
    site: Path, tmp_path: Path, etc_args: tuple[Any, ...], expected: str
) -> None:
    etc = write_etc(tmp_path / "etc", *etc_args, docker_stacks={"root": str(tmp_path / "out")})
    for verb in ("plan", "converge"):
        result = phoenix(site, etc, verb)
        assert result.returncode == 2, result.stdout + result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_managers_own_section_is_typed_by_it(site: Path, tmp_path: Path) -> None:
    etc = write_etc(tmp_path / "etc", stacks(), docker_stacks={"root": "srv", "rot": "/srv"})
    result = phoenix(site, etc, "config", "validate")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        "phoenix_hypervisor_config.json: docker_stacks.root: must be an absolute path"
        in result.stderr
    )
    assert 'docker_stacks.rot: unknown key (did you mean "root"?)' in result.stderr
