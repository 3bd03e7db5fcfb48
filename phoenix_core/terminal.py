"""The terminal phoenix writes to: one lock around every write, and a live block under it.

Log lines (loguru's terminal sink) and the progress display run in several threads and
share stderr. Every write goes through one :class:`Terminal`, whose lock makes each line
whole, and which clears the live block before a log line and redraws it after, so neither
tears the other. Only the standard library is used: a few ANSI sequences do all this.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Sequence
from typing import TextIO

#: Move the cursor to the start of the line N lines up, then clear to the end of the screen.
_UP = "\x1b[{}A\r\x1b[J"


def wants_color(stream: TextIO, no_color: bool = False) -> bool:
    """Colour only for a terminal, and never with ``--no-color`` or ``NO_COLOR`` set to
    anything (https://no-color.org)."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return is_terminal(stream)


def is_terminal(stream: TextIO) -> bool:
    """A real terminal that understands cursor movement (not a pipe, a file or ``TERM=dumb``)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


class Terminal:
    """A stream shared by threads: whole lines above an optional live block."""

    def __init__(self, stream: TextIO, *, color: bool, live: bool) -> None:
        self.stream = stream
        self.color = color
        #: Whether the live block may be drawn: the stream is a terminal.
        self.live = live
        # Re-entrant: the SIGINT handler logs from the main thread, maybe in the middle of a
        # write of that same thread; a plain lock would deadlock there.
        self._lock = threading.RLock()
        self._block: list[str] = []
        self._drawn = 0

    @classmethod
    def for_stream(cls, stream: TextIO, *, no_color: bool = False) -> Terminal:
        return cls(stream, color=wants_color(stream, no_color), live=is_terminal(stream))

    def write(self, text: str) -> None:
        """Write ``text`` (whole lines) above the live block, which is redrawn under it."""
        with self._lock:
            self._clear()
            self.stream.write(text)
            self._draw()
            self.stream.flush()

    def show(self, lines: Sequence[str]) -> None:
        """Replace the live block with ``lines`` (none: remove it). Ignored off a terminal."""
        if not self.live:
            return
        with self._lock:
            self._clear()
            self._block = list(lines)
            self._draw()
            self.stream.flush()

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write(_UP.format(self._drawn))
            self._drawn = 0

    def _draw(self) -> None:
        # A line wider than the terminal would wrap, and _clear would then move up too little.
        width = max(self._columns() - 1, 10)
        for line in self._block:
            self.stream.write(line[:width] + "\n")
        self._drawn = len(self._block)

    def _columns(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        # 0: a terminal that never said its size (a fresh pty); COLUMNS or 80 then.
        return columns or shutil.get_terminal_size().columns
