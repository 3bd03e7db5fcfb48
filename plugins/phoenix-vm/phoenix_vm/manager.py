"""The VM manager: what the core calls for every VM of ``phoenix_vm_configs.json``.

The skeleton (live state, power verbs, firewall, power, snapshots, features, application
script, health, template, the build-complete mark) is phoenix_pve's
:class:`~phoenix_pve.manager.GuestManager`; this module adds what is a VM's own: creating it
from a cloud image or a clone, its boot disk, options, cloud-init, pending changes, NFS
volumes, the named pre/post-features snapshots, readiness by guest-agent ping then
cloud-init, scripts through the guest agent, the ``features/vm`` search path, and a template
that never boots unless it has scripts or volumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from phoenix_core import checks as core
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.manager import HostNeed, Resource, RunContext
from phoenix_core.steps import Step
from phoenix_pve import power, scripts, snapshots
from phoenix_pve import storages as node_storages
from phoenix_pve.guest import VIRTUAL_MACHINE
from phoenix_pve.live import Live
from phoenix_pve.manager import Build, GuestManager
from phoenix_pve.shell import AgentShell
from phoenix_vm import checks as vm_checks
from phoenix_vm import cloudinit, create, describe, image, options, readiness, volumes
from phoenix_vm.model import VmSpec, parse_spec

#: The feature scripts this plugin ships (base_setup, docker).
SHIPPED = Path(__file__).parent / "features"


class VmManager(GuestManager):
    """Manages Proxmox virtual machines with ``qm`` (see ``docs/vm.md``)."""

    #: The model ``phoenix config schema vm`` generates the JSON Schema from.
    config_model = VmSpec
    guest = VIRTUAL_MACHINE
    script_kind = "vm"
    shipped = SHIPPED
    name_key = "name"
    id_key = "vmid"
    id_env = "PHOENIX_VMID"

    def parse(self, guest: TargetConfig, diagnostics: Diagnostics) -> VmSpec | None:
        spec = parse_spec(guest, diagnostics)
        if spec is not None and spec.is_template and spec.template_snapshot_name:
            diagnostics.warn(
                guest.file,
                f"{guest.path}.template_snapshot_name",
                "not taken on a template VM: Proxmox converts no VM that has snapshots and "
                "snapshots no template; clones clone the template itself",
            )
        return spec

    def host_needs(self, guest: TargetConfig, config: Config) -> list[HostNeed]:
        """Its storages (disk, image download, cloud-init snippets), the host exports its NFS
        volumes mount, and its passthrough devices."""
        spec: VmSpec = guest.spec
        storages = {spec.storage_pool, spec.snippets_storage}
        if spec.template_image is not None and spec.clone_from_vmid is None:
            storages.add(image.of(spec, config).storage)
        needs = [HostNeed("storage", s) for s in sorted(s for s in storages if s)]
        needs += [HostNeed("export", volume.path) for volume in spec.volumes]
        needs += [HostNeed("pci", device) for device in spec.hostpci]
        return needs

    def shell(self, live: Live, *, steps: bool) -> AgentShell:
        return AgentShell(live.host, live.vmid, detached=steps)

    def probe(self, live: Live) -> power.Probe:
        return readiness.agent_probe(live)

    def settle(self, live: Live, shell: AgentShell, spec: VmSpec) -> power.Settle | None:
        if not spec.cloud_init:
            return None
        return readiness.cloud_init_settle(live, shell, spec.ready_timeout, spec.cloud_init_timeout)

    def entry(self, live: Live) -> dict[str, Any]:
        """The ``phoenix_vm_configs.json`` entry of an existing VM (``import``)."""
        return describe.entry(live)

    def addresses(self, live: Live) -> tuple[str, ...]:
        return readiness.addresses(live)

    def brief_resources(self, spec: VmSpec, config: Config) -> set[Resource]:
        """Its clone source, or the storages of its image download and disk import."""
        return create.brief_resources(spec, config)

    def shipped_checks(
        self, spec: VmSpec, live: Live, shell: AgentShell, config: Config
    ) -> list[core.Check]:
        return vm_checks.shipped(spec, live, shell)

    def configure_steps(
        self, spec: VmSpec, guest: TargetConfig, ctx: RunContext, live: Live, build: Build
    ) -> list[Step]:
        return [
            create.step(spec, live, ctx.config, ctx.holding, node_storages.of(ctx)),
            create.disk_step(spec, live),
            options.step(spec, live),
            *(
                [cloudinit.step(spec, live, skip_pending=spec.is_template)]
                if spec.cloud_init
                else []
            ),
        ]

    def while_running(
        self, spec: VmSpec, live: Live, shell: AgentShell, runner: scripts.Runner, build: Build
    ) -> list[Step]:
        return [volumes.step(spec, live, shell, runner, skip=build.idle)]

    def runs_inside(self, spec: VmSpec) -> bool:
        """A template boots to mount its volumes, too; its clones boot to run cloud-init."""
        return bool(spec.volumes)

    def named_snapshot(self, spec: VmSpec, live: Live, build: Build, which: str) -> list[Step]:
        """The old tool's ``snapshots.pre-features`` / ``post-features`` snapshot, if named
        (never on a template: Proxmox converts no VM that has snapshots)."""
        named = spec.snapshots
        name = None if named is None else getattr(named, which.replace("-", "_"))
        if name is None or spec.is_template:
            return []
        return [
            snapshots.step(
                f"snapshot {which}", live, [name], skip=build.frozen, unsupported=lambda: None
            )
        ]

    def final_snapshot_name(self, spec: VmSpec) -> str | None:
        return None if spec.is_template else spec.template_snapshot_name
