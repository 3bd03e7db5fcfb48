"""The configuration the core owns: the hypervisor file and the pieces every guest shares.

Manager-specific keys (memory, disks, features ...) are modelled by the manager plugins;
sections only host-setup scripts read are kept as plain JSON for the hypervisor plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from phoenix_core.config.types import Id

#: The guest kinds of the original layout, the file each lives in, and the distribution
#: that manages it (named in "no installed manager handles ..." errors).
KIND_FILES = {"lxc": "phoenix_lxc_configs.json", "vm": "phoenix_vm_configs.json"}
KIND_DISTRIBUTIONS = {"lxc": "phoenix-lxc", "vm": "phoenix-vm", "host": "phoenix-hypervisor"}
HYPERVISOR_FILE = "phoenix_hypervisor_config.json"

JSON = Any


@attrs.frozen
class CorePaths:
    lxc_config_file: str | None = None
    vm_config_file: str | None = None
    lxc_config_schema_file: str | None = None
    vm_config_schema_file: str | None = None
    hf_token_file: str | None = None
    docker_token_file: str | None = None
    docker_images_path: str | None = None
    hypervisor_marker_dir: str | None = None
    hypervisor_marker: str | None = None


@attrs.frozen
class Users:
    username: str = "phoenix_admin"
    password_hash: str = ""
    sudo_access: bool = False
    ssh_public_key: str = ""


@attrs.frozen
class NodeConfig:
    """A cluster node phoenix reaches over SSH (``nodes.<name>`` in the hypervisor file)."""

    address: str
    user: str | None = None
    port: int | None = None
    sudo: bool = False


@attrs.frozen
class ProxmoxDefaults:
    zfs_lxc_pool: str | None = None
    lxc: dict[str, JSON] = attrs.Factory(dict)
    vm: dict[str, JSON] = attrs.Factory(dict)


@attrs.frozen
class HypervisorConfig:
    """``phoenix_hypervisor_config.json``. Unknown top-level keys are errors (typos)."""

    schema_ref: str | None = attrs.field(default=None, metadata={"json": "$schema"})
    version: str | None = None
    author: str | None = None
    domain_name: str | None = None
    users: Users | None = None
    core_paths: CorePaths = attrs.Factory(CorePaths)
    timezone: str | None = None
    nodes: dict[str, NodeConfig] = attrs.Factory(dict)
    #: Where the node keeps guest config files (``/etc/pve`` on a real node).
    pve_etc: str = "/etc/pve"
    proxmox_defaults: ProxmoxDefaults = attrs.Factory(ProxmoxDefaults)
    mount_point_base: str = "/mnt/pve"
    # Sections read by host setup (phoenix-hypervisor) and its scripts, kept as JSON.
    network: dict[str, JSON] | None = None
    docker: dict[str, JSON] | None = None
    nfs: dict[str, JSON] | None = None
    samba: dict[str, JSON] | None = None
    zfs: dict[str, JSON] | None = None
    proxmox_storage_ids: dict[str, str] = attrs.Factory(dict)
    tests: dict[str, JSON] | None = None
    nvidia_driver: dict[str, JSON] | None = None
    behavior: dict[str, JSON] | None = None
    shared_volumes: dict[str, JSON] | None = None
    portainer_api: dict[str, JSON] | None = None
    vm_defaults: dict[str, JSON] | None = None
    dns_server: dict[str, JSON] | None = None
    step_ca: dict[str, JSON] | None = None


@attrs.frozen
class GuestCommon:
    """The keys of a guest the core itself reads: identity, dependencies, boot order, node.

    Both guest files use these names (``clone_from_ctid`` in the LXC file,
    ``clone_from_vmid`` in the VM file); everything else belongs to the guest's manager.
    """

    name: str
    clone_from_ctid: Id | None = None
    clone_from_vmid: Id | None = None
    dependencies: list[Id] = attrs.Factory(list)
    boot_order: int | None = None
    boot_delay: int = 0
    start_at_boot: bool = False
    is_template: bool = False
    node: str | None = None


@attrs.define
class TargetConfig:
    """One guest as the engine sees it, whatever its kind.

    ``raw`` is the guest's own JSON object, untouched, and ``file_defaults`` the keys at the
    root of its file that act as defaults (``vm_defaults``, ``nvidia_driver_version`` ...);
    the manager merges them in :meth:`~phoenix_core.manager.Manager.parse` and stores its
    typed result in ``spec``.
    """

    id: Id
    kind: str
    file: Path
    path: str
    common: GuestCommon
    raw: Mapping[str, JSON]
    file_defaults: Mapping[str, JSON] = attrs.Factory(dict)
    spec: Any = None

    @property
    def name(self) -> str:
        return self.common.name

    @property
    def clone_from(self) -> Id | None:
        return self.common.clone_from_ctid or self.common.clone_from_vmid

    @property
    def is_template(self) -> bool:
        return self.common.is_template or bool(getattr(self.spec, "is_template", False))

    @property
    def requires(self) -> list[Id]:
        """Ids this guest needs first: its clone source, then ``dependencies`` in order."""
        first = [self.clone_from] if self.clone_from is not None else []
        return first + [d for d in self.common.dependencies if d != self.clone_from]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.name})"


@attrs.define
class Config:
    """Everything loaded from a configuration directory."""

    directory: Path
    hypervisor: HypervisorConfig
    guests: dict[Id, TargetConfig]
    files: dict[str, Path]
    warnings: list[str] = attrs.Factory(list)

    def of_kind(self, kind: str) -> list[TargetConfig]:
        return [g for g in self.guests.values() if g.kind == kind]
