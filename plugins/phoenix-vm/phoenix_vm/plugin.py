"""Entry point of the ``phoenix.managers`` group: registers the VM manager.

Imports only the standard library, ``phoenix_core`` and two small phoenix_pve modules at
import time (the layouts of :mod:`phoenix_pve.guestfiles`, which the host manager reads too,
and the node probe); the manager itself is imported when the core first needs it, so
``phoenix --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

from phoenix_core.hookspecs import hookimpl
from phoenix_core.manager import Manager, ManagerSpec
from phoenix_pve.guestfiles import VIRTUAL_MACHINES, VM_SECTIONS
from phoenix_pve.nodeprobe import PROXMOX_NODE


def _factory() -> Manager:
    from phoenix_vm.manager import VmManager

    return VmManager()


@hookimpl
def phoenix_register_managers(register: Callable[[ManagerSpec], None]) -> None:
    """Register the ``vm`` manager for every VM of ``phoenix_vm_configs.json``."""
    register(
        ManagerSpec(
            name="vm",
            kind="vm",
            factory=_factory,
            # The manager API this plugin was written for: a literal, never core's constant,
            # so a core speaking another version refuses it instead of running it.
            api_version=2,
            config=VIRTUAL_MACHINES,
            description="Proxmox virtual machines through qm, the guest agent and cloud-init",
            node_probe=PROXMOX_NODE,
            sections=VM_SECTIONS,
        )
    )
