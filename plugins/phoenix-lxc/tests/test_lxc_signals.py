# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""SIGTERM and SIGINT during a run (DESIGN §4): the running command finishes, nothing more is
started, the summary is printed and phoenix exits 143 / 130. Against the simulator, with a
real ``phoenix`` process and a slow ``pct create`` (``pve-sim fault --latency``) or a slow node
(``pve-sim fault --tool-cost``: every Proxmox tool, reads included, takes seconds)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from lxc_support import SEED, Cli, base_ct, cli, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

LATENCY = 3.0
#: Seconds each Proxmox tool takes on the slow node: a command running when the signal comes
#: ends within this, then only the summary is left to print.
TOOL_COST = 2.0
#: What a signalled run may take beyond the command it lets finish (start-up of nothing, the
#: summary); generous for a loaded test machine.
MARGIN = 4.0


def _guests(*vmids: int) -> dict[str, Any]:
    """Small containers 8NN, each with an address and MAC of its own."""
    return {
        str(i): base_ct(f"ct{i}", f"10.0.8.{i - 800}/24", f"52:54:00:00:08:{i - 800:02d}")
        for i in vmids
    }


def _wait_for(text: str, path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.05)


def _finish(run: subprocess.Popen[str], signum: int, code: int) -> tuple[str, float]:
    """Signal ``run``; its stdout once it ended with ``code`` and no traceback, and the
    seconds it took after the signal."""
    signalled = time.monotonic()
    run.send_signal(signum)
    stdout, stderr = run.communicate(timeout=60)
    took = time.monotonic() - signalled
    assert run.returncode == code, stdout + stderr
    assert "Traceback" not in stderr
    name = signal.Signals(signum).name
    assert stdout.strip().splitlines()[-1] == (
        f"interrupted by {name}: the running command was let finish, nothing more was started"
    )
    return stdout, took


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_lets_the_running_command_finish_then_prints_the_summary(
    cli: Cli, tmp_path: Path, signum: int, code: int
) -> None:
    etc = write_lxc(tmp_path / "etc", _guests(810, 811))
    cli.node.set_latency(LATENCY)
    run = cli.popen("--config-dir", str(etc), "converge", "-j1")
    # Logged just before `pct create 810` starts its slow task: signal in the middle of it.
    _wait_for("-> create from", cli.log_dir / "phoenix_cli.log")
    time.sleep(LATENCY / 3)
    stdout, _took = _finish(run, signum, code)
    name = signal.Signals(signum).name
    # The command that was running finished: the container exists.
    creates = [e for e in cli.node.journal() if e["argv"][:2] == ["pct", "create"]]
    assert [(e["argv"][2], e["rc"]) for e in creates] == [("810", 0)]
    # Nothing was started after it: no command for 811, nothing more for 810.
    assert cli.node.journal()[-1]["argv"][:3] == ["pct", "create", "810"]
    assert f"interrupted by {name} before `" in stdout
    assert f"not started: interrupted by {name}" in stdout
    assert "converge: 2 targets: 1 FAILED, 1 skipped" in stdout


def test_sigint_in_a_parallel_run_lets_running_commands_finish_and_a_rerun_converges(
    cli: Cli, tmp_path: Path
) -> None:
    etc = write_lxc(tmp_path / "etc", _guests(*range(820, 826)))
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


@pytest.mark.parametrize(
    ("verb", "signum", "code"),
    [
        (("plan",), signal.SIGTERM, 143),
        (("converge", "--dry-run"), signal.SIGINT, 130),
        (("LetsGo",), signal.SIGTERM, 143),
        (("converge",), signal.SIGINT, 130),
    ],
)
def test_one_signal_ends_any_verb_on_a_slow_node_with_the_summary_in_bounded_time(
    cli: Cli, tmp_path: Path, verb: tuple[str, ...], signum: int, code: int
) -> None:
    etc = write_lxc(tmp_path / "etc", _guests(830, 831))
    cli.node.set_tool_cost(TOOL_COST)
    run = cli.popen("--config-dir", str(etc), *verb, "-j1")
    # The node probe's `pveversion` came back: the run's next Proxmox tool is now running.
    _wait_for("core pveversion [", cli.log_dir / "phoenix_cli.log")
    time.sleep(TOOL_COST / 4)
    signalled = time.time()
    stdout, took = _finish(run, signum, code)
    assert took < TOOL_COST + MARGIN, f"{took:.1f} s after the signal"
    assert "not started: interrupted by" in stdout
    assert "830" in stdout
    assert "831" in stdout
    # No command began after the signal (ts: when each began; a second's margin).
    assert [e["argv"] for e in cli.node.journal() if e["ts"] > signalled + 1.0] == []
    assert not [e["argv"] for e in cli.node.journal() if e["mutating"]]


def _children(pid: int, name: str) -> list[int]:
    """The processes named ``name`` whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        comm, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if comm == name and int(rest.split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_a_run_waiting_for_the_run_lock_at_once(
    cli: Cli, tmp_path: Path, signum: int, code: int
) -> None:
    etc = write_lxc(tmp_path / "etc", _guests(840))
    other = write_lxc(tmp_path / "other", _guests(841))
    cli.node.set_latency(LATENCY)
    holder = cli.popen("--config-dir", str(etc), "converge")
    _wait_for("-> create from", cli.log_dir / "phoenix_cli.log")
    waiter = cli.popen("--config-dir", str(other), "converge", "--wait-lock", "600")
    # Waiting: its `flock -w 600 LOCK cat` runs, the holder's run has the lock.
    deadline = time.monotonic() + 30
    while not _children(waiter.pid, "flock"):
        assert waiter.poll() is None, waiter.communicate()
        assert time.monotonic() < deadline, "the second run never waited for the lock"
        time.sleep(0.05)
    stdout, took = _finish(waiter, signum, code)
    # Nothing of its own was running: it ends at once, not when the lock comes free.
    assert took < MARGIN, f"{took:.1f} s after the signal"
    assert "841" in stdout
    assert "not started: interrupted by" in stdout
    assert _children(waiter.pid, "flock") == []
    out, err = holder.communicate(timeout=120)
    assert holder.returncode == 0, out + err
    assert not [e for e in cli.node.journal() if "841" in e["argv"]]
