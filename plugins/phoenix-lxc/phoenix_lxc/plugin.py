"""Entry point of the ``phoenix.managers`` group: registers the LXC manager.

Imports only the standard library and ``phoenix_core`` at import time; the manager itself is
imported when the core first needs it, so ``phoenix --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable

from phoenix_core.hookspecs import hookimpl
from phoenix_core.manager import Manager, ManagerSpec


def _factory() -> Manager:
    from phoenix_lxc.manager import LxcManager

    return LxcManager()


@hookimpl
def phoenix_register_managers(register: Callable[[ManagerSpec], None]) -> None:
    """Register the ``lxc`` manager for every id in ``phoenix_lxc_configs.json``."""
    register(
        ManagerSpec(
            name="lxc",
            kind="lxc",
            factory=_factory,
            description="Proxmox LXC containers through pct",
        )
    )
