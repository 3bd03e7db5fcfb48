"""The configuration the core owns: the few keys of the hypervisor file it reads itself and
the pieces every target shares.

Everything else is a manager's: the keys of its targets (memory, disks, features ...) and the
hypervisor-file sections its :class:`~phoenix_core.manager.ManagerSpec` declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import attrs

from phoenix_core.config.types import TargetId
from phoenix_core.config.validate import hostname, in_range, not_option

JSON = Any


@attrs.frozen
class NodeConfig:
    """A cluster node phoenix reaches over SSH (``nodes.<name>`` in the hypervisor file)."""

    # Both reach the ssh command line: a leading '-' would be read as an ssh option.
    address: Annotated[str, not_option()]
    user: Annotated[str, not_option()] | None = None
    port: Annotated[int, in_range(1, 65535)] | None = None
    sudo: bool = False


@attrs.frozen
class HypervisorConfig:
    """What the core itself reads of ``phoenix_hypervisor_config.json``: the nodes it reaches
    and ``core_paths``, the files it locates (each key owned by a layout's ``path_key`` or a
    manager's :attr:`~phoenix_core.manager.ManagerSpec.paths`).

    Every other top-level key is a manager's (:attr:`~phoenix_core.manager.ManagerSpec.sections`),
    typed by that manager into ``Config.settings``.
    """

    schema_ref: str | None = attrs.field(default=None, metadata={"json": "$schema"})
    version: str | None = None
    author: str | None = None
    core_paths: dict[str, str] = attrs.Factory(dict)
    nodes: dict[str, NodeConfig] = attrs.Factory(dict)


#: The top-level keys of the hypervisor file the core reads (:class:`HypervisorConfig`).
CORE_SECTIONS = frozenset(f.metadata.get("json", f.name) for f in attrs.fields(HypervisorConfig))


@attrs.frozen
class GuestCommon:
    """The keys of a target the core itself reads: identity, dependencies, boot order, node.

    Every guest file uses these names; the clone source's key differs by file
    (``clone_from_ctid``, ``clone_from_vmid``: the layout's ``clone_key``) and is read into
    :attr:`TargetConfig.clone_from`. Everything else belongs to the target's manager.
    """

    #: The guest's host name (containers) or name (VMs): an RFC 1123 host name either way.
    name: Annotated[str, hostname()]
    #: Guest ids, or names of targets whose manager names them (a stack needing CT 101, or
    #: a container needing the stack ``db``).
    dependencies: list[TargetId] = attrs.Factory(list)
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
    clone_from: TargetId | None = None
    needs: list[TargetId] = attrs.Factory(list)
    part: str | None = None
    spec: Any = None
    #: A host target or part (its manager registered :class:`~phoenix_core.layout.HostTargets`).
    host: bool = False

    @property
    def name(self) -> str:
        return self.common.name

    @property
    def is_host(self) -> bool:
        return self.host

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
    guests: dict[TargetId, TargetConfig]
    files: dict[str, Path]
    hosts: dict[str, TargetConfig] = attrs.Factory(dict)
    #: Each manager's typed hypervisor-file sections, by kind
    #: (:meth:`~phoenix_core.manager.Manager.parse_settings`).
    settings: dict[str, Any] = attrs.Factory(dict)
    unread: dict[str, str] = attrs.Factory(dict)
    warnings: list[str] = attrs.Factory(list)
    #: Guests whose own entry has errors, each with them (a lenient load only).
    broken: dict[TargetId, list[str]] = attrs.Factory(dict)

    def target(self, ident: TargetId) -> TargetConfig:
        return self.hosts[ident] if ident in self.hosts else self.guests[ident]

    def is_host(self, ident: TargetId) -> bool:
        """Is ``ident`` a host target (or part) of this configuration?"""
        return ident in self.hosts

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
