"""SIGINT and SIGTERM during a run: stop launching work, keep the summary (DESIGN §4).

The first signal is only noted. The command running on the node finishes or times out (a
command cut in half can leave a guest locked or half-written); then no further command and no
further target is started, and the run ends with its summary and exit 128 + the signal
(130 for SIGINT, 143 for SIGTERM). A second signal ends phoenix at once, the default way.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from phoenix_core.errors import PhoenixError

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: int | None = None
#: The handlers are installed: a nested :func:`handling` (the engine's run inside the CLI's
#: verb) keeps them and what they noted.
_active = False
#: Set by the first signal: wakes every :func:`pause` at once.
_woken = threading.Event()
#: A pipe the first signal writes a byte to: wakes a :func:`readable` blocked in poll(2)
#: (a file descriptor cannot wait on an Event). Made by the first :func:`handling`.
_wakeup: tuple[int, int] | None = None


class Interrupted(PhoenixError):
    """A command was not started because the run was interrupted."""


def received() -> int | None:
    """The signal that interrupted the current run, or None."""
    return _received


def describe(signum: int) -> str:
    return f"interrupted by {signal.Signals(signum).name}"


def check(what: str) -> None:
    """Raise :class:`Interrupted` instead of starting ``what`` once the run is interrupted."""
    if _received is not None:
        raise Interrupted(f"{describe(_received)} before `{what}` (not started)")


def pause(seconds: float) -> None:
    """Sleep between retries, but wake at once when the run is interrupted: the retry's
    next command then refuses to start, so a 30 s backoff does not hold up the summary."""
    _woken.wait(seconds)


def readable(fileno: int, what: str) -> None:
    """Wait until ``fileno`` has something to read (another run's lock came free), but raise
    :class:`Interrupted` at once when the run is interrupted first: a wait with no command
    of ours running on the node has nothing to let finish."""
    # poll(2), not select(2): a long run's descriptors may pass select's FD_SETSIZE.
    watched = select.poll()
    for fd in [fileno] if _wakeup is None else [fileno, _wakeup[0]]:
        watched.register(fd, select.POLLIN)
    while True:
        if _received is not None:
            raise Interrupted(f"{describe(_received)} while {what}")
        # A signal between the test above and poll() still wakes it: its byte stays in the
        # pipe until the next run. poll() resumes by itself after the handler (PEP 475).
        if any(fd == fileno for fd, _ in watched.poll()):
            return


def _note(signum: int, _frame: FrameType | None) -> None:
    global _received
    if _received is not None:  # asked twice: stop now
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _received = signum
    _woken.set()
    if _wakeup is not None:
        with contextlib.suppress(BlockingIOError):
            os.write(_wakeup[1], b"\0")
    from phoenix_core.logs import logger

    logger.warning(
        "{}: letting the running command finish, starting nothing more (again to stop now)",
        describe(signum),
    )


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Note SIGINT/SIGTERM for the duration of a run (only the main thread can install
    handlers; elsewhere, as when phoenix is embedded, signals keep their usual effect).
    Inside another ``handling()`` it changes nothing: the outer one's run goes on."""
    global _received, _active, _wakeup
    if _active:
        yield
        return
    _received = None
    _woken.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _wakeup is None:
        _wakeup = os.pipe()
        for end in _wakeup:
            os.set_blocking(end, False)
    with contextlib.suppress(BlockingIOError):
        while os.read(_wakeup[0], 64):  # what an earlier run's signal left
            pass
    previous = {signum: signal.signal(signum, _note) for signum in SIGNALS}
    _active = True
    try:
        yield
    finally:
        _active = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
