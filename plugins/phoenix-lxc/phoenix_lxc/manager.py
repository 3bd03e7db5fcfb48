"""The LXC manager: what the core calls for every id of ``phoenix_lxc_configs.json``.

The skeleton (live state, power verbs, firewall, power, snapshots, features, application
script, health, template, the build-complete mark) is phoenix_pve's
:class:`~phoenix_pve.manager.GuestManager`; this module adds what is a container's own:
creating or cloning it with ``pct``, its options, raw lines, the node's subuid/subgid
entries, mounts and disk, readiness by ``pct exec``, no snapshots with bind mounts, the
``features/lxc`` search path and ``proxmox_defaults.lxc`` as the lowest defaults layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from phoenix_core import checks as core
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.hosts.base import CommandResult
from phoenix_core.logs import logger
from phoenix_core.manager import HostNeed, Resource, RunContext
from phoenix_core.steps import Step
from phoenix_lxc import checks as lxc_checks
from phoenix_lxc import create, describe, disk, mounts, options, rawconf, subids
from phoenix_lxc.model import LxcSpec, ignored_host_defaults, parse_spec, with_host_defaults
from phoenix_pve import power, settings
from phoenix_pve import storages as node_storages
from phoenix_pve.guest import CONTAINER
from phoenix_pve.live import Live
from phoenix_pve.manager import Build, GuestManager
from phoenix_pve.shell import ContainerShell

#: The feature scripts this plugin ships (base_setup, docker, nvidia).
SHIPPED = Path(__file__).parent / "features"


def ready_probe(live: Live) -> power.Probe:
    """A container is ready when ``pct exec`` can run a command in it."""

    def probe() -> CommandResult:
        return live.query(live.tool("exec", "--", "true"))

    return probe


class LxcManager(GuestManager):
    """Manages Proxmox containers with ``pct`` (see ``docs/lxc.md``)."""

    #: The model ``phoenix config schema lxc`` generates the JSON Schema from.
    config_model = LxcSpec
    guest = CONTAINER
    script_kind = "lxc"
    shipped = SHIPPED
    name_key = "hostname"
    id_key = "ctid"
    id_env = "PHOENIX_CTID"

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def parse(self, guest: TargetConfig, diagnostics: Diagnostics) -> LxcSpec | None:
        return parse_spec(guest, diagnostics)

    def validate(self, guest: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        super().validate(guest, config, diagnostics)
        spec = guest.spec and with_host_defaults(guest.spec, guest, settings.of(config))
        creatable = spec is not None and (spec.template or spec.clone_from_ctid) is not None
        if creatable and spec.storage_pool is None:  # pct create and clone both need one
            diagnostics.error(
                guest.file,
                f"{guest.path}.storage_pool",
                "not set, neither here nor as a default (in this file or in the hypervisor "
                "file's proxmox_defaults.lxc): the container cannot be created",
            )

    def entry(self, live: Live) -> dict[str, Any]:
        """The ``phoenix_lxc_configs.json`` entry of an existing container (``import``)."""
        return describe.entry(live)

    def host_needs(self, guest: TargetConfig, config: Config) -> list[HostNeed]:
        """Its storages (root disk, volumes, the template's download), its GPU driver and its
        AppArmor profile."""
        spec = with_host_defaults(guest.spec, guest, settings.of(config))
        storages = {spec.storage_pool, *(v.pool for v in [*spec.volumes, *spec.zfs_volumes])}
        if spec.template is not None and spec.clone_from_ctid is None:
            storages.add(create.template_of(spec, config).storage)
        needs = [HostNeed("storage", s) for s in sorted(s for s in storages if s)]
        if spec.gpu_assignment.strip().lower() not in ("", "none"):
            needs.append(HostNeed("gpu", spec.gpu_assignment))
        if spec.apparmor_profile is not None:
            needs.append(HostNeed("apparmor", spec.apparmor_profile))
        return needs

    def shell(self, live: Live, *, steps: bool) -> ContainerShell:
        return ContainerShell(live.host, live.vmid, lock_timeout=live.lock_timeout)

    def probe(self, live: Live) -> power.Probe:
        return ready_probe(live)

    def brief_resources(self, spec: LxcSpec, config: Config) -> set[Resource]:
        """Its clone source or the template's storage."""
        return create.brief_resources(spec, config)

    def shipped_checks(
        self, spec: LxcSpec, live: Live, shell: ContainerShell, config: Config
    ) -> list[core.Check]:
        return lxc_checks.shipped(spec, live, shell, config)

    def spec_for(self, guest: TargetConfig, ctx: RunContext) -> LxcSpec:
        """The guest's spec with ``proxmox_defaults.lxc`` filled in (the lowest defaults layer)."""
        hypervisor = settings.of(ctx.config)
        ignored = ignored_host_defaults(hypervisor)
        key = ",".join(ignored)
        if ignored and key not in self._warned:
            self._warned.add(key)
            logger.warning(
                "proxmox_defaults.lxc keys {} are not applied to containers (other shapes than "
                "the container keys; see docs/lxc.md)",
                ", ".join(ignored),
            )
        return with_host_defaults(guest.spec, guest, hypervisor)

    def configure_steps(
        self, spec: LxcSpec, guest: TargetConfig, ctx: RunContext, live: Live, build: Build
    ) -> list[Step]:
        return [
            create.step(spec, live, ctx.config, ctx.holding, node_storages.of(ctx)),
            options.step(spec, live),
            rawconf.step(spec, live),
            subids.step(spec, live),
            mounts.step(spec, live, skip=build.frozen),
            disk.step(spec, live, skip=build.frozen),
        ]

    def snapshot_blocker(self, spec: LxcSpec, live: Live) -> str | None:
        return mounts.snapshot_blocker(spec, live)

    def private_env(self, spec: LxcSpec) -> dict[str, str]:
        # The URL may carry credentials (https://user:pass@host): never on a command line.
        return {"PHOENIX_BOOTSTRAP_CA_URL": spec.bootstrap_ca_url or ""}
