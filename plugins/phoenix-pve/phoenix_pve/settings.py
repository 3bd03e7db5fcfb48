"""The hypervisor-file sections the Proxmox guest managers read: where the node keeps its
configuration, the old tool's script directory, node-wide guest defaults and the storage ids.

phoenix-lxc and phoenix-vm declare them in their :class:`~phoenix_core.manager.ManagerSpec`
(:data:`~phoenix_pve.guestfiles.GUEST_SECTIONS`) and type them here; the core only keeps
each manager's result in ``Config.settings``.
"""

from __future__ import annotations

from typing import Annotated, Any

import attrs

from phoenix_core.config.models import Config
from phoenix_core.config.validate import absolute_path
from phoenix_pve.formats import storage_id


@attrs.frozen
class ProxmoxDefaults:
    """``proxmox_defaults``: the lowest layer of guest defaults (``lxc``; ``vm`` unused)."""

    zfs_lxc_pool: str | None = None
    lxc: dict[str, Any] = attrs.Factory(dict)
    vm: dict[str, Any] = attrs.Factory(dict)


@attrs.frozen
class PveSettings:
    #: Where the node keeps guest config files (``/etc/pve`` on a real node).
    pve_etc: Annotated[str, absolute_path()] = "/etc/pve"
    #: The old tool's ``bin`` directory on the node, searched for the scripts the configuration
    #: names after its own (default ``/usr/local/phoenix_hypervisor/bin`` when it exists).
    legacy_scripts_dir: Annotated[str, absolute_path()] | None = None
    proxmox_defaults: ProxmoxDefaults = attrs.Factory(ProxmoxDefaults)
    #: Storage ids reach command lines (a template listing of the storage).
    proxmox_storage_ids: dict[str, Annotated[str, storage_id()]] = attrs.Factory(dict)
    #: ``vm_defaults`` of the hypervisor file (``ubuntu_release``), read by phoenix-vm.
    vm_defaults: dict[str, Any] | None = None


DEFAULTS = PveSettings()


def of(config: Config) -> PveSettings:
    """The settings a Proxmox guest manager of ``config`` parsed (lxc and vm parse the same
    sections into the same model), or the defaults when none is installed."""
    return next((s for s in config.settings.values() if isinstance(s, PveSettings)), DEFAULTS)
