# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""A container's changes Proxmox holds until a restart (its time zone on a running CT): plan
shows them and exits 3 with --detailed-exitcode, status lists them, converge
--restart-if-needed applies them by a restart, and then nothing is left to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxc_support import SEED, Cli, base_ct, cli, mutations, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))


def test_pending_changes_are_changes(cli: Cli, tmp_path: Path) -> None:
    ct = base_ct("zone", "10.0.7.1/24", "52:54:00:00:07:01", timezone="UTC")
    etc = write_lxc(tmp_path / "etc", {"807": ct})
    assert cli("--config-dir", str(etc), "converge", "807").exit_code == 0
    assert cli.node.run(["pct", "status", "807"]).stdout == "status: running\n"
    ct["timezone"] = "Europe/Berlin"
    write_lxc(tmp_path / "etc", {"807": ct})
    changed = cli("--config-dir", str(etc), "converge", "807")
    assert changed.exit_code == 0, changed.output
    assert "timezone wait(s) for a reboot" in changed.output
    # pve-container vmconfig_hotplug_pending cannot apply a time zone to a running CT.
    assert "new timezone: Europe/Berlin" in cli.node.run(["pct", "pending", "807"]).stdout

    mark = cli.node.mark()
    plan = cli.subprocess("--config-dir", str(etc), "plan", "807", "--detailed-exitcode")
    assert plan.returncode == 3, plan.stdout + plan.stderr
    assert "pending reboot: timezone -> applied at the restart" in plan.stdout
    status = cli.subprocess("--config-dir", str(etc), "status", "807", "-o", "json")
    assert json.loads(status.stdout)["targets"][0]["details"] == {
        "pending": "timezone (until a restart)"
    }
    assert cli.subprocess("--config-dir", str(etc), "status", "807").stdout.endswith(
        "  807 pending: timezone (until a restart)\n"
    )
    # Neither reads `pct pending`: the conf file's [pve:pending] section says it.
    assert mutations(cli.node.since(mark)) == []
    assert not [e for e in cli.node.since(mark) if e["argv"][:2] == ["pct", "pending"]]

    mark = cli.node.mark()
    restart = cli("--config-dir", str(etc), "converge", "--restart-if-needed", "807")
    assert restart.exit_code == 0, restart.output
    argvs = mutations(cli.node.since(mark))
    assert argvs[0][:3] == ["pct", "shutdown", "807"] and argvs[1] == ["pct", "start", "807"]
    plan = cli.subprocess("--config-dir", str(etc), "plan", "807", "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout
