"""Changes Proxmox keeps pending until the VM reboots (``qm pending``: a ``new`` or ``del``
line), such as memory or a NIC model on a running VM without hotplug for them.

They are reported as a warning on every converge; with ``--restart-if-needed`` the VM is
shut down (cleanly, then hard after the timeout) and started, which applies them, and waited
for like any start. A stopped VM applies them at its next start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_pve import errors, power
from phoenix_pve.live import Live


def pending_keys(live: Live) -> list[str]:
    def read() -> list[str]:
        if not live.running:
            return []
        from_file = live.pending_keys()
        if from_file is not None:
            return from_file
        text = errors.check(live.query(live.tool("pending"))).stdout
        return sorted(
            {
                line.split(":", 1)[0].split(" ", 1)[1]
                for line in text.splitlines()
                if line.startswith(("new ", "del "))
            }
        )

    return live.memo("pending", read)


def step(
    live: Live,
    *,
    restart: bool,
    probe: power.Probe,
    ready_timeout: float,
    shutdown_timeout: int,
    settle: power.Settle,
    skip: Callable[[], bool],
) -> Step:
    def check() -> list[Change]:
        if skip() or not live.exists:
            return []
        keys = pending_keys(live)
        if not keys:
            return []
        if not restart:
            logger.warning(
                "{}: {} wait(s) for a reboot; converge --restart-if-needed applies them",
                live.name,
                ", ".join(keys),
            )
            return []
        return [Change("pending reboot", ", ".join(keys), "restarted")]

    def apply(_: Sequence[Change]) -> None:
        power.shutdown(live, shutdown_timeout)
        power.start(live, probe, ready_timeout, settle=settle)

    return Step("pending changes", check, apply)
