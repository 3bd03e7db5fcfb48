# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""Progress as people see it (DESIGN §4): the real ``phoenix`` on a pseudo-terminal against
the simulator shows live lines and then the summary; off a terminal, timestamped lines."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from lxc_support import SEED, Cli, base_ct, cli, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

#: Each task takes this long, so the live block is redrawn while one runs.
LATENCY = 1.5
#: A colour (SGR) sequence; cursor movement (A, J) is not one.
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _guests(cli: Cli, tmp_path: Path) -> Path:
    guests = {
        "820": base_ct("first", "10.0.9.20/24", "52:54:00:00:09:20"),
        "821": base_ct("second", "10.0.9.21/24", "52:54:00:00:09:21"),
    }
    return write_lxc(tmp_path / "etc", guests)


def _on_a_terminal(cli: Cli, etc: Path, **env: str) -> tuple[int, str]:
    """Run ``phoenix converge`` with stdout and stderr on a pty; what the terminal got."""
    phoenix = Path(sys.executable).with_name("phoenix")
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    run = subprocess.Popen(
        [str(phoenix), *cli.args("--config-dir", str(etc), "converge")],
        env={**cli.env, "TERM": "xterm", **env},
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    return run.wait(timeout=60), b"".join(chunks).decode()


def test_a_terminal_shows_live_lines_then_the_summary(cli: Cli, tmp_path: Path) -> None:
    etc = _guests(cli, tmp_path)
    cli.node.set_latency(LATENCY)
    os.environ.pop("NO_COLOR", None)
    code, screen = _on_a_terminal(cli, etc)
    assert code == 0, screen
    # The live block: the running action with its current step and elapsed seconds, the
    # overall line; redrawn in place (cursor up, erase) as the run goes on.
    # Both run at once (--jobs defaults to 4): a line each, then the overall line.
    running = r"  82[01] converge \[\w[\w-]*\] \d+ s\r?\n"
    assert re.search(running * 2 + r"0/2 done, 2 running, \d+ s", screen)
    assert re.search(r"\x1b\[[23]A\r\x1b\[J", screen)
    # Each finished action leaves one line; the status is coloured on a terminal.
    assert re.search(r"\d\d:\d\d:\d\d 820 converge: \x1b\[33mchanged\x1b\[0m in \d+\.\d s", screen)
    # Last, the block is gone and the summary follows, in plan order.
    after_block = screen.rsplit("\x1b[J", 1)[1]
    assert " done, " not in after_block
    assert after_block.index("820") < after_block.index("821")
    assert "converge: 2 targets: 2 changed" in after_block


def test_no_color_keeps_the_live_block_but_drops_colour(cli: Cli, tmp_path: Path) -> None:
    etc = _guests(cli, tmp_path)
    code, screen = _on_a_terminal(cli, etc, NO_COLOR="1")
    assert code == 0, screen
    assert "\x1b[J" in screen and COLOUR.search(screen) is None
    assert "converge: 2 targets: 2 changed" in screen


def test_off_a_terminal_progress_is_timestamped_lines(cli: Cli, tmp_path: Path) -> None:
    etc = _guests(cli, tmp_path)
    run = cli.subprocess("--config-dir", str(etc), "converge", "--jobs", "1")
    assert run.returncode == 0, run.stderr
    progress = [line for line in run.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
    shapes = [re.sub(r"^\d\d:\d\d:\d\d | in \d+\.\d s", "", line) for line in progress]
    assert shapes == [
        "820 converge: started",
        "820 converge: changed (1/2 done)",
        "821 converge: started",
        "821 converge: changed (2/2 done)",
    ]
    # In parallel, whole lines still, each action's end after its start.
    run = cli.subprocess("--config-dir", str(etc), "converge", "--jobs", "2")
    progress = [line for line in run.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
    shapes = sorted(
        re.sub(r"^\d\d:\d\d:\d\d | in \d+\.\d s| \(\d/2 done\)", "", line) for line in progress
    )
    assert shapes == sorted(
        f"{i} converge: {s}" for i in (820, 821) for s in ("started", "in sync")
    )
    assert "\x1b" not in run.stderr + run.stdout
    assert run.stdout.strip().splitlines()[-1] == "converge: 2 targets: 2 in sync"
