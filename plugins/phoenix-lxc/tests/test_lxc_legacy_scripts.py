# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""The old tool's feature scripts, left where its users have them: a stand-in of its
directory on the node (``legacy_scripts_dir``) whose scripts record how they were called.
phoenix runs each on the node with the container's id and the bootstrap CA URL, once; a second
converge runs none; ``config validate`` says where each comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxc_support import SEED, Cli, base_ct, cli, mutations, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

FEATURES = ("step_ca", "traefik")
CA_URL = "https://ca.internal.example:9000"


def _old_tool(root: Path, record: Path) -> Path:
    """The old tool's bin directory with two feature scripts, mode 0644 as its checkout had them."""
    setup = root / "bin" / "lxc_setup"
    setup.mkdir(parents=True)
    for name in FEATURES:
        script = setup / f"phoenix_hypervisor_feature_install_{name}.sh"
        script.write_text(f'#!/bin/bash\necho "{name} $# $*" >> {record}\n')
        script.chmod(0o644)
    return root / "bin"


#: Where the old tool lived on the node (the simulated node keeps it in its directory).
OLD_TOOL = "/usr/local/phoenix_hypervisor"


@pytest.fixture
def etc(cli: Cli, tmp_path: Path) -> Path:
    record = tmp_path / "calls.log"
    _old_tool(cli.node.dir / OLD_TOOL.lstrip("/"), record)
    ct = base_ct(
        "ca", "10.0.8.80/24", "52:54:00:00:08:80", features=list(FEATURES), bootstrap_ca_url=CA_URL
    )
    etc = write_lxc(tmp_path / "etc", {"880": ct})
    hypervisor = etc / "phoenix_hypervisor_config.json"
    data = json.loads(hypervisor.read_text())
    data["legacy_scripts_dir"] = f"{OLD_TOOL}/bin"
    hypervisor.write_text(json.dumps(data, indent=2))
    return etc


def test_old_feature_scripts_run_on_the_node_once(cli: Cli, etc: Path, tmp_path: Path) -> None:
    record = tmp_path / "calls.log"
    validate = cli.subprocess("--config-dir", str(etc), "config", "validate")
    assert validate.returncode == 0, validate.stderr
    for name in FEATURES:
        assert (
            f"lxc_setup/phoenix_hypervisor_feature_install_{name}.sh, and runs it there"
            in validate.stdout + validate.stderr
        )
    first = cli("--config-dir", str(etc), "converge", "880")
    assert first.exit_code == 0, first.output
    assert record.read_text().splitlines() == [f"{name} 2 880 {CA_URL}" for name in FEATURES]
    mark = cli.node.mark()
    second = cli("--config-dir", str(etc), "converge", "880")
    assert second.exit_code == 0, second.output
    assert len(record.read_text().splitlines()) == 2  # none ran again
    assert mutations(cli.node.since(mark)) == []


def test_a_failing_old_script_fails_the_container_with_its_output(
    cli: Cli, etc: Path, tmp_path: Path
) -> None:
    script = Path(
        cli.node.dir / OLD_TOOL.lstrip("/"),
        "bin",
        "lxc_setup",
        "phoenix_hypervisor_feature_install_traefik.sh",
    )
    script.write_text('#!/bin/bash\necho "Usage: $0 <ctid>" >&2\nexit 2\n')
    result = cli("--config-dir", str(etc), "converge", "880")
    assert result.exit_code == 1
    assert "script traefik failed" in result.output and "Usage:" in result.output
