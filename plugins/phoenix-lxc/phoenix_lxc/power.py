"""Power: start and wait until the container answers, clean shutdown then stop, destroy.

A start is finished only when ``pct exec <id> -- true`` succeeds: ``pct start`` returns as soon
as LXC has launched init, before the container can run anything, and the features that follow
need a working ``pct exec``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from phoenix_core import proxmox
from phoenix_core.errors import PhoenixError
from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_lxc.live import Live

DEFAULT_SHUTDOWN_TIMEOUT = 60


def start(live: Live, ready_timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    """``pct start`` (an "already running" answer is fine), then wait for ``pct exec`` to work."""
    try:
        live.change(["pct", "start", str(live.vmid)])
    except proxmox.ProxmoxError as exc:
        if "already running" not in str(exc):
            raise
    wait_ready(live, ready_timeout, sleep)


def wait_ready(live: Live, timeout: float, sleep: Callable[[float], None] = time.sleep) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        result = live.query(["pct", "exec", str(live.vmid), "--", "true"])
        if result.ok:
            return
        if time.monotonic() >= deadline:
            raise PhoenixError(
                f"CT {live.vmid} started but did not answer `pct exec {live.vmid} -- true` "
                f"within {timeout:g} s: {proxmox.error_detail(result)}"
            )
        sleep(delay)
        delay = min(delay * 2, 2.0)


def shutdown(live: Live, timeout: int) -> None:
    """Clean shutdown within ``timeout`` seconds; a hard ``pct stop`` if that fails."""
    try:
        live.change(
            ["pct", "shutdown", str(live.vmid), "--timeout", str(timeout)], timeout=timeout + 60
        )
        return
    except proxmox.ProxmoxError as exc:
        if "not running" in str(exc):
            return
        logger.warning("CT {}: clean shutdown failed ({}); stopping hard", live.vmid, exc)
    try:
        live.change(["pct", "stop", str(live.vmid)])
    except proxmox.ProxmoxError as exc:
        if "not running" not in str(exc):
            raise


def running_step(live: Live, ready_timeout: float, *, skip: Callable[[], bool]) -> Step:
    """Converge/start: the container should run (``skip`` says when it should not, e.g. a template)."""

    def check() -> list[Change]:
        if skip():
            return []
        status = live.status()
        return [] if status == "running" else [Change("power", status, "running")]

    def apply(_: Sequence[Change]) -> None:
        start(live, ready_timeout)

    return Step("power", check, apply)


def stopped_step(live: Live, timeout: int) -> Step:
    def check() -> list[Change]:
        return [Change("power", "running", "stopped")] if live.running else []

    def apply(_: Sequence[Change]) -> None:
        shutdown(live, timeout)

    return Step("power", check, apply)


def restart_step(live: Live, timeout: int, ready_timeout: float) -> Step:
    def check() -> list[Change]:
        if not live.exists:
            raise PhoenixError(f"CT {live.vmid} does not exist")
        return [Change("power", live.status(), "restarted" if live.running else "running")]

    def apply(_: Sequence[Change]) -> None:
        if live.running:
            shutdown(live, timeout)
        start(live, ready_timeout)

    return Step("power", check, apply)


def destroyed_step(live: Live, timeout: int) -> Step:
    """Delete: stop (cleanly if possible), then ``pct destroy --purge``."""

    def check() -> list[Change]:
        return [Change("container", "exists", None)] if live.exists else []

    def apply(_: Sequence[Change]) -> None:
        if live.running:
            shutdown(live, timeout)
        live.change(["pct", "destroy", str(live.vmid), "--purge"], timeout=3600)

    return Step("destroyed", check, apply)
