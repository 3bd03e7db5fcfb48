"""Changes Proxmox holds until the guest restarts: a ``pct set``/``qm set`` on a running guest
of a key it cannot apply live (a container's time zone, a VM's memory without hotplug) goes to
the pending section of the conf file (``[pve:pending]`` in pve-container's write_pct_config,
``[PENDING]`` in qemu-server's write_vm_config; a ``delete:`` line lists keys to remove), which
``pct pending``/``qm pending`` show as ``new``/``del`` lines (:mod:`phoenix_pve.etcpve` parses it).

They are changes like any other: ``plan`` (a dry run) shows them and ``--detailed-exitcode``
exits 3 while they wait, and ``status`` lists them. A converge reports them as a warning; with
``--restart-if-needed`` it restarts a running guest (cleanly, then hard after the timeout),
which applies them, and waits for it like any start. A stopped guest applies them when it
next starts. The conf file is read, not ``pct pending`` (no Perl start-up per guest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_pve import etcpve, power
from phoenix_pve.live import Live


def pending(live: Live) -> list[str]:
    """The guest's pending keys, from its conf file (through the run's snapshot when there is
    one; none for a guest that does not exist)."""
    keys = live.pending_keys()
    if keys is not None:
        return keys
    return list(etcpve.parse_conf(live.conf_text(), container=live.kind.api == "lxc").pending)


def step(
    live: Live,
    *,
    restart: bool,
    dry_run: bool,
    probe: power.Probe,
    ready_timeout: float,
    shutdown_timeout: int,
    settle: power.Settle | None,
    skip: Callable[[], bool],
) -> Step:
    def check() -> list[Change]:
        if skip() or not live.exists:
            return []
        keys = pending(live)
        if not keys:
            return []
        if restart and live.running:
            return [Change("pending reboot", ", ".join(keys), "restarted")]
        if dry_run:
            until = "restart" if live.running else "next start"
            return [Change("pending reboot", ", ".join(keys), f"applied at the {until}")]
        logger.warning(
            "{}: {} wait(s) for a reboot; converge --restart-if-needed applies them",
            live.name,
            ", ".join(keys),
        )
        return []

    def apply(_: Sequence[Change]) -> None:
        power.shutdown(live, shutdown_timeout)
        power.start(live, probe, ready_timeout, settle=settle)

    return Step("pending changes", check, apply)
