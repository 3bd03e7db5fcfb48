"""The VM manager: what the core calls for every VM of ``phoenix_vm_configs.json``.

``steps("converge", ...)`` lists, in order, every concern of a VM (create from a cloud image
or clone, boot disk, options, cloud-init, firewall, pending changes, power and readiness,
NFS volumes, snapshots, features, application script, health checks, template, the
build-complete mark). Power, snapshots, firewall, option drift, scripts, health checks,
template and the mark are phoenix_pve's, shared with the container manager; the VM policies
(readiness by guest-agent ping then cloud-init, scripts through the guest agent, the
``features/vm`` search path, a template that never boots unless it has scripts) are set here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from phoenix_core import checks as core
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.manager import GuestState, Resource, RunContext, StepVerb
from phoenix_core.steps import Step
from phoenix_pve import built, firewall, health, manage, power, scripts, snapshots, template
from phoenix_pve.guest import VIRTUAL_MACHINE
from phoenix_pve.live import Live
from phoenix_pve.shell import AgentShell
from phoenix_vm import checks as vm_checks
from phoenix_vm import cloudinit, create, options, pending, readiness, volumes
from phoenix_vm.model import VmSpec, parse_spec

#: The feature scripts this plugin ships (base_setup, docker).
SHIPPED = Path(__file__).parent / "features"


class VmManager:
    """Manages Proxmox virtual machines with ``qm`` (see ``docs/vm.md``)."""

    #: The model ``phoenix config schema vm`` generates the JSON Schema from.
    config_model = VmSpec

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

    def validate(self, guest: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        manage.warn_missing_scripts(guest, Path(config.directory), "vm", SHIPPED, diagnostics)

    def observe(self, guest: TargetConfig, ctx: RunContext) -> GuestState:
        live = Live(ctx.host, VIRTUAL_MACHINE, guest.id, ctx.config.hypervisor.pve_etc)
        return manage.guest_state(live, "name", lambda: readiness.addresses(live))

    def resources(self, verb: StepVerb, guest: TargetConfig, config: Config) -> set[Resource]:
        """The VM and its node (shared); to build it, briefly, its clone source, or the
        storages of its image download and disk import."""
        held = {Resource.guest(guest.id), Resource.node(guest.common.node, shared=True)}
        if verb == "converge" and guest.spec is not None:
            held |= create.brief_resources(guest.spec, config)
        return held

    def checks(self, guest: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix health-check``: the shipped checks (:mod:`phoenix_vm.checks`), then the
        configured ones; a configured check whose script is missing fails with that reason."""
        spec: VmSpec = guest.spec
        live = Live(ctx.host, VIRTUAL_MACHINE, guest.id, ctx.config.hypervisor.pve_etc)
        shell = AgentShell(live.host, live.vmid)
        shipped = vm_checks.shipped(spec, live, shell)
        return health.guest_checks(live, shell, spec, self._paths(ctx.config), shipped)

    def tests(self, guest: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix test``: the configured ``tests`` suites, one test case per script."""
        live = Live(ctx.host, VIRTUAL_MACHINE, guest.id, ctx.config.hypervisor.pve_etc)
        shell = AgentShell(live.host, live.vmid)
        return health.guest_tests(live, shell, guest.spec, self._paths(ctx.config))

    @staticmethod
    def _paths(config: Config) -> scripts.SearchPath:
        return scripts.SearchPath(Path(config.directory), "vm", SHIPPED)

    def steps(self, verb: StepVerb, guest: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        spec: VmSpec = guest.spec
        live = Live(
            ctx.host,
            VIRTUAL_MACHINE,
            guest.id,
            ctx.config.hypervisor.pve_etc,
            lock_timeout=ctx.options.lock_timeout,
        )
        shell = AgentShell(live.host, live.vmid, detached=True)
        probe = readiness.agent_probe(live)
        settle = readiness.cloud_init_settle(
            live, shell, spec.ready_timeout, spec.cloud_init_timeout
        )
        timeout = ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT
        if verb == "start":
            return [
                power.running_step(
                    live,
                    probe,
                    spec.ready_timeout,
                    skip=lambda: live.is_template,
                    settle=settle,
                    starting=ctx.starting,
                )
            ]
        if verb == "stop":
            return [power.stopped_step(live, timeout)]
        if verb == "restart":
            return [power.restart_step(live, probe, timeout, spec.ready_timeout, settle)]
        if verb == "delete":
            return [power.destroyed_step(live, timeout)]
        if verb == "converge":
            return self.converge_steps(spec, guest, ctx, live, shell, settle)
        raise ValueError(f"the vm manager has no verb {verb!r}")

    def converge_steps(
        self,
        spec: VmSpec,
        guest: TargetConfig,
        ctx: RunContext,
        live: Live,
        shell: AgentShell,
        settle: power.Settle,
    ) -> list[Step]:
        """Every converge step in order, the build-complete mark last. Scripts are resolved
        first: a missing one fails here, before anything changes."""
        paths = self._paths(ctx.config)
        found = scripts.resolve_all(spec, paths)
        checks = health.resolve(spec, paths)
        timeout = ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT

        def frozen() -> bool:
            """A VM already converted to a template: its insides are final."""
            return live.exists and live.is_template

        def stays_stopped() -> bool:
            """A template boots only to run scripts; its clones boot to run cloud-init."""
            return frozen() or (spec.is_template and not found.any_inside() and not spec.volumes)

        env = {
            "PHOENIX_VMID": str(live.vmid),
            "PHOENIX_GUEST_CONFIG": f"{scripts.RUN_DIR}/guest.json",
        }
        runner = scripts.Runner(live, shell, scripts.guest_payload(guest, "vmid"), env)
        steps = [
            create.step(spec, live, ctx.config, ctx.holding),
            create.disk_step(spec, live),
            options.step(spec, live),
            cloudinit.step(spec, live, skip_pending=spec.is_template),
        ]
        if spec.firewall is not None:
            steps.append(firewall.step(spec.firewall, live))
        steps.append(
            pending.step(
                live,
                restart=ctx.options.restart_if_needed,
                probe=readiness.agent_probe(live),
                ready_timeout=spec.ready_timeout,
                shutdown_timeout=timeout,
                settle=settle,
                skip=stays_stopped,
            )
        )
        steps.append(
            power.running_step(
                live,
                readiness.agent_probe(live),
                spec.ready_timeout,
                skip=stays_stopped,
                settle=settle,
                starting=ctx.starting,
            )
        )
        steps.append(volumes.step(spec, live, shell, runner, skip=frozen))
        steps += snapshots.before_scripts(
            live,
            lifecycle=spec.enable_lifecycle_snapshots,
            is_template=spec.is_template,
            skip=frozen,
            unsupported=lambda: None,
        )
        steps += self.named_snapshot(live, spec, "pre-features", frozen)
        steps += manage.inside_steps(live, shell, found, checks, runner, skip=frozen, ctx=ctx)
        steps += self.named_snapshot(live, spec, "post-features", frozen)
        steps += snapshots.final(
            live,
            template_snapshot_name=None if spec.is_template else spec.template_snapshot_name,
            lifecycle=spec.enable_lifecycle_snapshots,
            is_template=spec.is_template,
            skip=frozen,
            unsupported=lambda: None,
        )
        if spec.is_template:
            steps.append(template.step(live, timeout))
        steps.append(built.step(live))
        return steps

    @staticmethod
    def named_snapshot(
        live: Live, spec: VmSpec, which: str, skip: Callable[[], bool]
    ) -> list[Step]:
        """The old tool's ``snapshots.pre-features`` / ``post-features`` snapshot, if named
        (never on a template: Proxmox converts no VM that has snapshots)."""
        named = spec.snapshots
        name = None if named is None else getattr(named, which.replace("-", "_"))
        if name is None or spec.is_template:
            return []
        return [
            snapshots.step(f"snapshot {which}", live, [name], skip=skip, unsupported=lambda: None)
        ]
