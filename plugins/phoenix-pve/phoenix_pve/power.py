"""Power: start and wait until the guest answers, clean shutdown then stop, destroy.

``pct start`` returns once LXC reports the container started (pve-container src/PVE/LXC.pm
``vm_start``: ``systemctl start pve-container@ID``, then ``monitor_start``) and ``qm start``
once QEMU runs, both before the guest can run anything. Where something needs the guest to
answer (scripts that follow, an operator's ``start``), the start is finished only when the
manager's readiness probe succeeds (``pct exec <id> -- true`` for a container, a guest-agent
ping for a VM): one try, its result. A converge with no work inside the guest does not wait
for it, as Proxmox's own boot order does not (pve-manager PVE/API2/Nodes.pm ``startall``
starts each guest's task and waits only its ``up`` delay): on a node the probe is one more
Perl start-up per guest that nothing needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext

from phoenix_core import interrupt
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import CommandResult
from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_pve import errors
from phoenix_pve.live import Live

DEFAULT_SHUTDOWN_TIMEOUT = 60

#: One readiness try: a command whose success means the guest can run commands.
Probe = Callable[[], CommandResult]
#: What a guest needs after the probe first succeeds before it is ready for scripts (a VM:
#: cloud-init finishing its first boot); raises when it does not come.
Settle = Callable[[], None]


def start(
    live: Live,
    probe: Probe | None,
    ready_timeout: float,
    sleep: Callable[[float], None] = interrupt.pause,
    settle: Settle | None = None,
) -> None:
    """``start`` (an "already running" answer is fine), wait until ``probe`` succeeds, then
    ``settle``; with no ``probe``, the start is done when the tool returns."""
    try:
        live.change(live.tool("start"))
    except errors.ProxmoxError as exc:
        if "already running" not in str(exc):
            raise
    if probe is None:
        return
    wait_ready(live, probe, ready_timeout, sleep)
    if settle is not None:
        settle()


def wait_ready(
    live: Live, probe: Probe, timeout: float, sleep: Callable[[float], None] = interrupt.pause
) -> None:
    """Retry ``probe`` with a doubling delay (capped at 2 s) until it succeeds or time is up."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        result = probe()
        if result.ok:
            return
        if time.monotonic() >= deadline:
            raise PhoenixError(
                f"{live.name} started but did not answer `{result.command}` "
                f"within {timeout:g} s: {errors.error_detail(result)}"
            )
        sleep(delay)
        delay = min(delay * 2, 2.0)


def shutdown(live: Live, timeout: int) -> None:
    """Clean shutdown within ``timeout`` seconds; a hard ``stop`` if that fails."""
    try:
        live.change(live.tool("shutdown", "--timeout", str(timeout)), timeout=timeout + 60)
        return
    except errors.ProxmoxError as exc:
        if "not running" in str(exc):
            return
        logger.warning("{}: clean shutdown failed ({}); stopping hard", live.name, exc)
    try:
        live.change(live.tool("stop"))
    except errors.ProxmoxError as exc:
        if "not running" not in str(exc):
            raise


def running_step(
    live: Live,
    probe: Probe | None,
    ready_timeout: float,
    *,
    skip: Callable[[], bool],
    starting: Callable[[], AbstractContextManager[None]] = nullcontext,
    settle: Settle | None = None,
) -> Step:
    """Converge/start: the guest should run (``skip`` says when it should not, e.g. a template);
    ``probe`` None: nothing waits for it to answer (see :func:`start`).

    ``starting`` is the run's :attr:`~phoenix_core.manager.RunContext.starting`: the start
    (until the guest answers) happens in the guest's turn (``LetsGo``'s boot order)."""

    def check() -> list[Change]:
        if skip():
            return []
        status = live.status()
        return [] if status == "running" else [Change("power", status, "running")]

    def apply(_: Sequence[Change]) -> None:
        with starting():
            start(live, probe, ready_timeout, settle=settle)

    return Step("power", check, apply)


def stopped_step(live: Live, timeout: int) -> Step:
    def check() -> list[Change]:
        return [Change("power", "running", "stopped")] if live.running else []

    def apply(_: Sequence[Change]) -> None:
        shutdown(live, timeout)

    return Step("power", check, apply)


def restart_step(
    live: Live, probe: Probe, timeout: int, ready_timeout: float, settle: Settle | None = None
) -> Step:
    def check() -> list[Change]:
        if not live.exists:
            raise PhoenixError(f"{live.name} does not exist")
        return [Change("power", live.status(), "restarted" if live.running else "running")]

    def apply(_: Sequence[Change]) -> None:
        if live.running:
            shutdown(live, timeout)
        start(live, probe, ready_timeout, settle=settle)

    return Step("power", check, apply)


def destroyed_step(live: Live, timeout: int) -> Step:
    """Delete: stop (cleanly if possible), then ``destroy --purge``."""

    def check() -> list[Change]:
        return [Change(live.kind.label, "exists", None)] if live.exists else []

    def apply(_: Sequence[Change]) -> None:
        if live.running:
            shutdown(live, timeout)
        live.change(live.tool("destroy", "--purge"), timeout=3600)

    return Step("destroyed", check, apply)
