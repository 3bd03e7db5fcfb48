"""What a run is doing while it runs, on stderr (DESIGN §4): people can follow a long converge.

On a terminal, a live block: one line per running action (target, verb, current step,
elapsed) and an overall ``done/total`` line, redrawn in place; each finished action leaves
one line above it. Elsewhere (a pipe, a CI log), plain timestamped lines: one when an action
starts, one when it ends. Actions are seen through the ``phoenix_action_started/finished``
hooks (a :class:`Progress` is registered as an observer plugin for the run) and steps through
the engine, which calls :meth:`Progress.step`; actions may run in several threads.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import attrs

from phoenix_core.hookspecs import hookimpl
from phoenix_core.render import status_label
from phoenix_core.terminal import Terminal

if TYPE_CHECKING:
    from phoenix_core.config.models import TargetConfig
    from phoenix_core.config.types import TargetId
    from phoenix_core.outcome import Outcome
    from phoenix_core.plugins import Plugins

#: Seconds between redraws of the live block, so elapsed times move while a step is slow.
TICK = 1.0
#: The name the observer is registered under; plugins cannot load under it (no entry point).
PLUGIN_NAME = "phoenix-core:progress"


@attrs.define
class _Running:
    verb: str
    started: float
    step: str = ""


class Progress:
    """Counts and shows the actions of one run; every method may be called from any thread."""

    def __init__(
        self,
        terminal: Terminal,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], str] = lambda: time.strftime("%H:%M:%S"),
    ) -> None:
        self.terminal = terminal
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._running: dict[TargetId, _Running] = {}
        self._total = 0
        self._done = 0
        self._started = clock()

    @classmethod
    @contextlib.contextmanager
    def observing(cls, plugins: Plugins, terminal: Terminal) -> Iterator[Progress]:
        """A progress display fed by the run's hooks; removed, with its live block, on exit."""
        progress = cls(terminal)
        plugins.pm.register(progress, name=PLUGIN_NAME)
        stop = threading.Event()
        ticker = threading.Thread(target=progress._tick, args=(stop,), daemon=True)
        if terminal.live:
            ticker.start()
        try:
            yield progress
        finally:
            stop.set()
            if ticker.is_alive():
                ticker.join()
            plugins.pm.unregister(progress)
            terminal.show([])

    # -- fed by the engine -------------------------------------------------------------------
    def expect(self, count: int) -> None:
        """``count`` more actions are planned (LetsGo plans its starts after converging)."""
        with self._lock:
            self._total += count
        self._redraw()

    def step(self, target: TargetId, step: str) -> None:
        """``target``'s action begins ``step`` (before the step's check)."""
        with self._lock:
            running = self._running.get(target)
            if running is not None:
                running.step = step
        self._redraw()

    # -- fed by the hooks ----------------------------------------------------------------------
    @hookimpl
    def phoenix_action_started(self, verb: str, target: TargetConfig, dry_run: bool) -> None:
        with self._lock:
            self._running[target.id] = _Running(verb, self._clock())
        if not self.terminal.live:
            self.terminal.write(f"{self._wall()} {target.id} {verb}: started\n")
        self._redraw()

    @hookimpl
    def phoenix_action_finished(self, verb: str, target: TargetConfig, outcome: Outcome) -> None:
        with self._lock:
            running = self._running.pop(target.id, None)
            self._done += 1
            done = f"{self._done}/{max(self._total, self._done)} done"
        seconds = self._clock() - running.started if running else outcome.duration
        label = status_label(outcome.status, self.terminal.color)
        detail = f": {outcome.error}" if outcome.error else ""
        self.terminal.write(
            f"{self._wall()} {target.id} {verb}: {label} in {seconds:.1f} s ({done}){detail}\n"
        )
        self._redraw()

    # -- the live block --------------------------------------------------------------------------
    def lines(self) -> list[str]:
        """The live block: a line per running action, in start order, then the overall line."""
        now = self._clock()
        with self._lock:
            running = list(self._running.items())
            done, total = self._done, max(self._total, self._done)
        lines = [
            f"  {target} {r.verb}"
            + (f" [{r.step}]" if r.step else "")
            + f" {now - r.started:.0f} s"
            for target, r in running
        ]
        lines.append(f"{done}/{total} done, {len(running)} running, {now - self._started:.0f} s")
        return lines

    def _redraw(self) -> None:
        if self.terminal.live:
            self.terminal.show(self.lines())

    def _tick(self, stop: threading.Event) -> None:
        while not stop.wait(TICK):
            self._redraw()
