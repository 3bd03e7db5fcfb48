"""The configuration the core owns: the hypervisor file and the pieces every guest shares.

Manager-specific keys (memory, disks, features ...) are modelled by the manager plugins;
sections only host-setup scripts read are kept as plain JSON for the hypervisor plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import attrs

from phoenix_core.config.types import Id, TargetId
from phoenix_core.config.validate import absolute_path, hostname, in_range, not_option

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

    # Both reach the ssh command line: a leading '-' would be read as an ssh option.
    address: Annotated[str, not_option()]
    user: Annotated[str, not_option()] | None = None
    port: Annotated[int, in_range(1, 65535)] | None = None
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
    pve_etc: Annotated[str, absolute_path()] = "/etc/pve"
    #: The old tool's ``bin`` directory on the node, searched for the scripts the configuration
    #: names after its own (default ``/usr/local/phoenix_hypervisor/bin`` when it exists).
    legacy_scripts_dir: Annotated[str, absolute_path()] | None = None
    proxmox_defaults: ProxmoxDefaults = attrs.Factory(ProxmoxDefaults)
    mount_point_base: Annotated[str, absolute_path()] = "/mnt/pve"
    # Sections read by host setup (phoenix-hypervisor) and its scripts, kept as JSON.
    network: dict[str, JSON] | None = None
    docker: dict[str, JSON] | None = None
    nfs: dict[str, JSON] | None = None
    samba: dict[str, JSON] | None = None
    zfs: dict[str, JSON] | None = None
    #: Storage ids reach command lines (a template listing of the storage): never option-like; their full
    #: format is the managers' to check.
    proxmox_storage_ids: dict[str, Annotated[str, not_option()]] = attrs.Factory(dict)
    tests: dict[str, JSON] | None = None
    nvidia_driver: dict[str, JSON] | None = None
    behavior: dict[str, JSON] | None = None
    shared_volumes: dict[str, JSON] | None = None
    portainer_api: dict[str, JSON] | None = None
    vm_defaults: dict[str, JSON] | None = None
    dns_server: dict[str, JSON] | None = None
    vfio: dict[str, JSON] | None = None
    step_ca: dict[str, JSON] | None = None


@attrs.frozen
class GuestCommon:
    """The keys of a target the core itself reads: identity, dependencies, boot order, node.

    Every guest file uses these names; the clone source's key differs by file
    (``clone_from_ctid``, ``clone_from_vmid``: the layout's ``clone_key``) and is read into
    :attr:`TargetConfig.clone_from`. Everything else belongs to the target's manager.
    """

    #: The guest's host name (containers) or name (VMs): an RFC 1123 host name either way.
    name: Annotated[str, hostname()]
    dependencies: list[Id] = attrs.Factory(list)
    boot_order: Annotated[int, in_range(0)] | None = None
    boot_delay: Annotated[int, in_range(0)] = 0
    start_at_boot: bool = False
    is_template: bool = False
    node: Annotated[str, hostname(single_label=True)] | None = None


#: The keys of every guest the core reads (:class:`GuestCommon`); the rest is its manager's.
COMMON_KEYS = frozenset(field.name for field in attrs.fields(GuestCommon))


@attrs.define
class TargetConfig:
    """One target as the engine sees it, whatever its kind: a guest, or a node's host.

    ``raw`` is the target's own JSON object, untouched (the whole hypervisor file for a host
    target), and ``file_defaults`` the file-wide defaults of its layout (``vm_defaults``,
    ``nvidia_driver_version`` ...); the manager merges them in
    :meth:`~phoenix_core.manager.Manager.parse` and stores its typed result in ``spec``.
    ``needs`` are the host targets it requires (set when a host manager is installed): for a
    guest the parts of its node its configuration needs, for a host target its parts, for a
    part the parts it needs first. ``part`` names the part of a host a part target is.
    """

    id: TargetId
    kind: str
    file: Path
    path: str
    common: GuestCommon
    raw: Mapping[str, JSON]
    file_defaults: Mapping[str, JSON] = attrs.Factory(dict)
    clone_from: Id | None = None
    needs: list[TargetId] = attrs.Factory(list)
    part: str | None = None
    spec: Any = None

    @property
    def name(self) -> str:
        return self.common.name

    @property
    def is_host(self) -> bool:
        return isinstance(self.id, str)

    @property
    def is_template(self) -> bool:
        return self.common.is_template or bool(getattr(self.spec, "is_template", False))

    @property
    def starts_at_boot(self) -> bool:
        """Desired running: ``start_at_boot`` (as the manager's spec has it, file-wide
        defaults included), never a template."""
        wanted = getattr(self.spec, "start_at_boot", self.common.start_at_boot)
        return bool(wanted) and not self.is_template and not self.is_host

    @property
    def requires(self) -> list[TargetId]:
        """What must be built first: the host targets it needs, its clone source, then
        ``dependencies``."""
        first: list[TargetId] = list(self.needs)
        if self.clone_from is not None:
            first.append(self.clone_from)
        return first + [d for d in self.common.dependencies if d != self.clone_from]

    def __str__(self) -> str:
        return self.id if self.is_host else f"{self.kind} {self.id} ({self.name})"


@attrs.define
class Config:
    """Everything loaded from a configuration directory.

    ``guests`` by id and ``hosts`` by host target id (empty without a host manager);
    ``unread`` maps each guest file present that no installed manager reads to the
    distribution that would (``phoenix_vm_configs.json`` -> ``phoenix-vm``).
    """

    directory: Path
    hypervisor: HypervisorConfig
    guests: dict[Id, TargetConfig]
    files: dict[str, Path]
    hosts: dict[str, TargetConfig] = attrs.Factory(dict)
    unread: dict[str, str] = attrs.Factory(dict)
    warnings: list[str] = attrs.Factory(list)
    #: Guests whose own entry has errors, each with them (a lenient load only).
    broken: dict[TargetId, list[str]] = attrs.Factory(dict)

    def target(self, ident: TargetId) -> TargetConfig:
        return self.hosts[ident] if isinstance(ident, str) else self.guests[ident]

    def __contains__(self, ident: object) -> bool:
        return ident in self.hosts or ident in self.guests

    def unread_hint(self, separator: str = "; ") -> str:
        """``; phoenix_vm_configs.json is not read ... (install phoenix-vm)``, or nothing."""
        if not self.unread:
            return ""
        files = ", ".join(sorted(self.unread))
        dists = ", ".join(sorted(set(self.unread.values())))
        verb = "is" if len(self.unread) == 1 else "are"
        return f"{separator}{files} {verb} not read by any installed manager (install {dists})"
