"""Power follows the configuration (issue 17): ``start_at_boot: true`` is desired running,
``false`` runs only while its own build needs it; an operator's start is left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxc_support
import pytest
from lxc_support import SEED, Cli, base_ct, write_lxc

pytestmark = pytest.mark.pve_sim(seed=str(SEED))


cli = lxc_support.cli


def status(cli: Cli, vmid: int) -> str:
    return cli.node.run(["pct", "status", str(vmid)]).stdout.split()[-1]


def mutating_since(cli: Cli, mark: int) -> list[list[str]]:
    return [e["argv"] for e in cli.node.since(mark) if e["mutating"]]


@pytest.fixture
def etc(cli: Cli, tmp_path: Path) -> Path:
    """The old homelab's shape: a Copy-* clone source (features, ``start_at_boot: false``)
    and its clone (``start_at_boot: true``)."""
    source = base_ct("copy-base", "10.0.5.60/24", "52:54:00:00:05:60", features=["demo_feature"])
    clone: dict[str, Any] = base_ct("web", "10.0.5.61/24", "52:54:00:00:05:61")
    del clone["template"]
    clone.update(clone_from_ctid=960, start_at_boot=True)
    source["start_at_boot"] = False
    directory = write_lxc(tmp_path / "etc", {"960": source, "961": clone})
    (directory / "features" / "lxc").mkdir(parents=True)
    (directory / "features" / "lxc" / "demo_feature.sh").write_text("#!/bin/bash\necho ok\n")
    return directory


def test_letsgo_runs_only_what_boots_and_converge_keeps_power_as_configured(
    cli: Cli, etc: Path
) -> None:
    first = cli.subprocess("--config-dir", str(etc), "LetsGo", "--jobs", "4")
    assert first.returncode == 0, first.stdout + first.stderr
    # The source ran for its features, then went back to stopped; only the clone runs.
    starts = [e["argv"][2] for e in cli.node.journal() if e["argv"][:2] == ["pct", "start"]]
    assert sorted(starts) == ["960", "961"]
    assert (status(cli, 960), status(cli, 961)) == ("stopped", "running")
    mark = cli.node.mark()
    again = cli.subprocess("--config-dir", str(etc), "LetsGo")
    assert again.returncode == 0, again.stdout + again.stderr
    assert mutating_since(cli, mark) == []
    # A stopped guest that should run is started by converge.
    cli.node.run(["pct", "stop", "961"], check=True)
    restarted = cli.subprocess("--config-dir", str(etc), "converge")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert (status(cli, 960), status(cli, 961)) == ("stopped", "running")
    # One an operator started is left running, by converge and by LetsGo.
    cli.node.run(["pct", "start", "960"], check=True)
    mark = cli.node.mark()
    for verb in ("converge", "LetsGo"):
        run = cli.subprocess("--config-dir", str(etc), verb)
        assert run.returncode == 0, run.stdout + run.stderr
    assert (status(cli, 960), status(cli, 961)) == ("running", "running")
    assert mutating_since(cli, mark) == []


def readiness_probes(cli: Cli, mark: int = 0) -> list[str]:
    """The containers ``pct exec <id> -- true`` asked whether they answer."""
    return [
        e["argv"][2]
        for e in cli.node.since(mark)
        if e["argv"][:2] == ["pct", "exec"] and e["argv"][3:] == ["--", "true"]
    ]


def test_only_work_inside_or_an_operator_start_waits_for_the_container_to_answer(
    cli: Cli, etc: Path
) -> None:
    result = cli("--config-dir", str(etc), "converge")
    assert result.exit_code == 0, result.output
    # 960 runs its feature, so its start waits for the answer before it; 961 has nothing to
    # run inside: `pct start` returning is its whole start (one Perl start-up less).
    probes = readiness_probes(cli)
    assert probes and set(probes) == {"960"}
    journal = [e["argv"] for e in cli.node.journal()]
    first_probe = journal.index(["pct", "exec", "960", "--", "true"])
    first_push = next(i for i, a in enumerate(journal) if a[:3] == ["pct", "push", "960"])
    assert first_probe < first_push
    assert status(cli, 961) == "running"
    # An operator's `start` is done when the container answers, work inside or not.
    cli.node.run(["pct", "stop", "961"], check=True)
    mark = cli.node.mark()
    started = cli("--config-dir", str(etc), "start", "961")
    assert started.exit_code == 0, started.output
    assert readiness_probes(cli, mark) == ["961"]
