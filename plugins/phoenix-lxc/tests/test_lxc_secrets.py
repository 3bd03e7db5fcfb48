# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""Credentials in a container's configuration never show on a command line or in a log."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from lxc_support import SEED, Cli, base_ct, cli, write_lxc  # noqa: F401

from phoenix_core import logs
from phoenix_pve import scripts

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

URL = "https://ca:Zq9@10.0.0.10:9000"


def test_bootstrap_ca_url_credentials_travel_in_a_0600_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "_secrets", set())
    ct = base_ct("ca-user", "10.0.8.2/24", "52:54:00:00:08:02", features=["ca_client"])
    etc = write_lxc(tmp_path / "etc", {"802": {**ct, "bootstrap_ca_url": URL}})
    (etc / "features" / "lxc").mkdir(parents=True)
    (etc / "features" / "lxc" / "ca_client.sh").write_text('curl "$PHOENIX_BOOTSTRAP_CA_URL"\n')
    result = cli("--config-dir", str(etc), "-vv", "converge", "802")
    assert result.exit_code == 0, result.output
    env_file = cli.node.guest_path(802, scripts.ENV_FILE)
    assert env_file.read_text() == f"export PHOENIX_BOOTSTRAP_CA_URL={URL}\n"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    argvs = [" ".join(entry["argv"]) for entry in cli.node.journal()]
    assert any(scripts.ENV_FILE in argv for argv in argvs)
    assert not any("Zq9" in argv for argv in argvs)
    logged = result.output + "".join(p.read_text() for p in cli.log_dir.iterdir())
    assert "Zq9" not in logged
