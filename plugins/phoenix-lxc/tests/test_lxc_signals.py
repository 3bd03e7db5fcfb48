# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""SIGTERM and SIGINT during a run (DESIGN §4): the running command finishes, nothing more is
started, the summary is printed and phoenix exits 143 / 130. Against the simulator, with a
real ``phoenix`` process and a slow ``pct create`` (``pve-sim fault --latency``)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from lxc_support import SEED, Cli, base_ct, cli, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

LATENCY = 3.0


def _wait_for(text: str, path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_lets_the_running_command_finish_then_prints_the_summary(
    cli: Cli, tmp_path: Path, signum: int, code: int
) -> None:
    guests = {
        "810": base_ct("first", "10.0.8.10/24", "52:54:00:00:08:10"),
        "811": base_ct("second", "10.0.8.11/24", "52:54:00:00:08:11"),
    }
    etc = write_lxc(tmp_path / "etc", guests)
    cli.node.set_latency(LATENCY)
    run = cli.popen("--config-dir", str(etc), "converge", "-j1")
    # Logged just before `pct create 810` starts its slow task: signal in the middle of it.
    _wait_for("-> create from", cli.log_dir / "phoenix_cli.log")
    time.sleep(LATENCY / 3)
    run.send_signal(signum)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stdout + stderr
    assert "Traceback" not in stderr
    name = signal.Signals(signum).name
    # The command that was running finished: the container exists.
    creates = [e for e in cli.node.journal() if e["argv"][:2] == ["pct", "create"]]
    assert [(e["argv"][2], e["rc"]) for e in creates] == [("810", 0)]
    # Nothing was started after it: no command for 811, nothing more for 810.
    assert cli.node.journal()[-1]["argv"][:3] == ["pct", "create", "810"]
    assert f"interrupted by {name} before `" in stdout
    assert f"not started: interrupted by {name}" in stdout
    summary = stdout.strip().splitlines()
    assert summary[-1] == (
        f"interrupted by {name}: the running command was let finish, nothing more was started"
    )
    assert "converge: 2 targets: 1 FAILED, 1 skipped" in stdout


def test_sigint_in_a_parallel_run_lets_running_commands_finish_and_a_rerun_converges(
    cli: Cli, tmp_path: Path
) -> None:
    guests = {
        str(i): base_ct(f"par{i}", f"10.0.8.{i - 800}/24", f"52:54:00:00:08:{i - 800:02d}")
        for i in range(820, 826)
    }
    etc = write_lxc(tmp_path / "etc", guests)
    cli.node.set_latency(LATENCY)
    run = cli.popen("--config-dir", str(etc), "converge", "--jobs", "3")
    _wait_for("-> create from", cli.log_dir / "phoenix_cli.log")
    time.sleep(LATENCY / 3)
    signalled = time.time()
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    journal = cli.node.journal()
    # Every command that was running when the signal came finished; none began after it
    # (a second's margin for a shim launched just before; the running creates end later).
    assert all(e["rc"] == 0 for e in journal if e["mutating"])
    assert [e["argv"] for e in journal if e["ts"] > signalled + 1.0] == []
    creates = [e["argv"][2] for e in journal if e["argv"][:2] == ["pct", "create"]]
    assert 1 <= len(creates) <= 3
    # The summary lists every guest, those never started as skipped, in plan order.
    assert stdout.index("820") < stdout.index("825")
    assert "not started: interrupted by SIGINT" in stdout
    cli.node.set_latency(0)
    rerun = cli.subprocess("--config-dir", str(etc), "converge")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
