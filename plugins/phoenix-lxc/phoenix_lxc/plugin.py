"""Entry point of the ``phoenix.managers`` group: registers the LXC manager.

Imports only the standard library, ``phoenix_core`` and two small phoenix_pve modules at
import time (the layouts of :mod:`phoenix_pve.guestfiles`, which the host manager reads too,
and the node probe); the manager itself is imported when the core first needs it, so
``phoenix --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

from phoenix_core.hookspecs import hookimpl
from phoenix_core.manager import Manager, ManagerSpec
from phoenix_pve.guestfiles import CONTAINERS, GUEST_SECTIONS
from phoenix_pve.nodeprobe import PROXMOX_NODE


def _factory() -> Manager:
    from phoenix_lxc.manager import LxcManager

    return LxcManager()


@hookimpl
def phoenix_register_managers(register: Callable[[ManagerSpec], None]) -> None:
    """Register the ``lxc`` manager for every CTID of ``phoenix_lxc_configs.json``."""
    register(
        ManagerSpec(
            name="lxc",
            kind="lxc",
            factory=_factory,
            # The manager API this plugin was written for: a literal, never core's constant,
            # so a core speaking another version refuses it instead of running it.
            api_version=2,
            config=CONTAINERS,
            description="Proxmox LXC containers through pct",
            node_probe=PROXMOX_NODE,
            sections=GUEST_SECTIONS,
        )
    )
