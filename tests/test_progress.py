"""The terminal's lock and live block, and the progress display, without a node."""

from __future__ import annotations

import io
import re
import threading
import time
from typing import Any

import attrs
import pytest

from phoenix_core.outcome import Outcome
from phoenix_core.progress import Progress
from phoenix_core.terminal import Terminal, wants_color

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\r")


class SlowTty(io.StringIO):
    """A terminal that writes one character at a time and lets other threads run between
    them, so any write not under the terminal's lock would tear lines apart."""

    def write(self, text: str) -> int:
        for char in text:
            super().write(char)
            time.sleep(0)  # a thread switch may happen here
        return len(text)

    def isatty(self) -> bool:
        return True


def test_concurrent_log_lines_and_redraws_never_interleave_mid_line() -> None:
    stream = SlowTty()
    terminal = Terminal(stream, color=False, live=True)
    writers, lines = 8, 40

    def log(n: int) -> None:
        for i in range(lines):
            terminal.write(f"writer {n} line {i} " + "x" * 30 + "\n")

    def draw() -> None:
        for i in range(lines):
            terminal.show([f"  live {i} " + "y" * 20, f"{i}/40 done"])

    threads = [threading.Thread(target=log, args=(n,)) for n in range(writers)]
    threads.append(threading.Thread(target=draw))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    terminal.show([])
    shown = [ANSI.sub("", line) for line in stream.getvalue().split("\n")]
    whole = re.compile(r"writer \d line \d+ x{30}|  live \d+ y{20}|\d+/40 done|")
    torn = [line for line in shown if not whole.fullmatch(line)]
    assert torn == []
    logged = [line for line in shown if line.startswith("writer")]
    assert len(logged) == writers * lines


def test_log_lines_go_above_the_live_block_which_is_redrawn() -> None:
    stream = SlowTty()
    terminal = Terminal(stream, color=False, live=True)
    terminal.show(["  101 converge 3 s", "0/1 done"])
    terminal.write("INFO    101 memory: 512 -> 1024\n")
    # cleared (two lines up, erase), the log line, the block again
    assert stream.getvalue().endswith(
        "\x1b[2A\r\x1b[JINFO    101 memory: 512 -> 1024\n  101 converge 3 s\n0/1 done\n"
    )
    terminal.show([])
    assert stream.getvalue().endswith("0/1 done\n\x1b[2A\r\x1b[J")


def test_no_live_block_off_a_terminal() -> None:
    stream = io.StringIO()
    terminal = Terminal.for_stream(stream)
    terminal.show(["  101 converge 3 s"])
    terminal.write("a line\n")
    assert (terminal.live, terminal.color, stream.getvalue()) == (False, False, "a line\n")


def test_no_color_wins_over_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_color(SlowTty())
    assert not wants_color(SlowTty(), no_color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_color(SlowTty())


@attrs.frozen
class Target:
    id: int


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_lines_show_each_running_action_its_step_and_elapsed() -> None:
    clock = Clock()
    stream = SlowTty()
    progress = Progress(
        Terminal(stream, color=False, live=True), clock=clock, wall=lambda: "12:03:04"
    )
    progress.expect(3)
    progress.phoenix_action_started(verb="converge", target=Target(900), dry_run=False)
    clock.now += 2
    progress.phoenix_action_started(verb="converge", target=Target(910), dry_run=False)
    progress.step(900, "clone")
    clock.now += 5
    assert progress.lines() == [
        "  900 converge [clone] 7 s",
        "  910 converge 5 s",
        "0/3 done, 2 running, 7 s",
    ]
    outcome = Outcome(900, "lxc", "base", "converge", "changed")
    progress.phoenix_action_finished(verb="converge", target=Target(900), outcome=outcome)
    assert progress.lines() == ["  910 converge 5 s", "1/3 done, 1 running, 7 s"]
    assert "12:03:04 900 converge: changed in 7.0 s (1/3 done)\n" in ANSI.sub("", stream.getvalue())


def test_plain_lines_are_timestamped_and_say_how_each_action_ended() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = Progress(Terminal.for_stream(stream), clock=clock, wall=lambda: "12:03:04")
    progress.expect(1)
    progress.phoenix_action_started(verb="create", target=Target(101), dry_run=False)
    progress.step(101, "clone")
    clock.now += 41.25
    failed = Outcome(101, "lxc", "web", "create", "failed", error="storage full")
    progress.phoenix_action_finished(verb="create", target=Target(101), outcome=failed)
    assert stream.getvalue().splitlines() == [
        "12:03:04 101 create: started",
        "12:03:04 101 create: FAILED in 41.2 s (1/1 done): storage full",
    ]


def test_observing_registers_for_the_run_only(fake_plugins: Any) -> None:
    stream = io.StringIO()
    with Progress.observing(fake_plugins, Terminal.for_stream(stream)) as progress:
        assert fake_plugins.pm.is_registered(progress)
        fake_plugins.hook.phoenix_action_started(verb="start", target=Target(5), dry_run=True)
    assert not fake_plugins.pm.is_registered(progress)
    assert stream.getvalue().endswith("5 start: started\n")
