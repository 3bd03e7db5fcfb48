"""Entry point of the ``phoenix.managers`` group: the host manager and the ``setup`` verb.

Imports only the standard library, click and ``phoenix_core`` at import time; the manager is
imported when the core first needs it, so ``phoenix --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from phoenix_core.hookspecs import hookimpl
from phoenix_core.layout import HostTargets
from phoenix_core.manager import Manager, ManagerSpec
from phoenix_hypervisor.order import NEEDS
from phoenix_hypervisor.sections import HOST_SECTIONS, PATHS
from phoenix_pve.guestfiles import VM_SECTIONS
from phoenix_pve.nodeprobe import PROXMOX_NODE


def _factory() -> Manager:
    from phoenix_hypervisor.manager import HypervisorManager

    return HypervisorManager()


@hookimpl
def phoenix_register_managers(register: Callable[[ManagerSpec], None]) -> None:
    """Register the ``hypervisor`` manager for the host targets (``host``, ``host:NODE``) and
    their features (``host:zfs``, ``host:NODE:zfs``)."""
    register(
        ManagerSpec(
            name="hypervisor",
            kind="hypervisor",
            factory=_factory,
            # The manager API this plugin was written for: a literal, never core's constant,
            # so a core speaking another version refuses it instead of running it.
            api_version=2,
            config=HostTargets(parts=NEEDS, apply_hint="phoenix setup {parts}"),
            description="the Proxmox node itself: phoenix setup",
            node_probe=PROXMOX_NODE,
            sections=HOST_SECTIONS | VM_SECTIONS,
            paths=PATHS,
        )
    )


@hookimpl
def phoenix_register_commands(cli: click.Group) -> None:
    """Add ``phoenix setup [FEATURE...]``."""
    from phoenix_hypervisor.command import setup

    cli.add_command(setup)
