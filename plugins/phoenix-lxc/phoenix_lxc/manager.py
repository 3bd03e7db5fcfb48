"""The LXC manager: what the core calls for every id of ``phoenix_lxc_configs.json``.

``steps("converge", ...)`` lists, in order, every concern of a container (create or clone,
options, raw lines, the node's subuid/subgid entries, mounts, disk, firewall, power, snapshots,
features, application script, health, template, the build-complete mark). Each is a
:class:`~phoenix_core.steps.Step` whose check reads the shared :class:`~phoenix_pve.live.Live`
and whose apply changes only what the check found. What a VM manager needs too (power,
snapshots, firewall, scripts, health checks, template, the mark) comes from phoenix_pve; the
LXC policies (readiness by ``pct exec``, no snapshots with bind mounts, the ``features/lxc``
search path) are set here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from phoenix_core import checks as core
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.hosts.base import CommandResult
from phoenix_core.logs import logger
from phoenix_core.manager import GuestState, Resource, RunContext, StepVerb
from phoenix_core.steps import Step
from phoenix_lxc import checks as lxc_checks
from phoenix_lxc import create, disk, mounts, options, rawconf, subids
from phoenix_lxc.model import LxcSpec, ignored_host_defaults, parse_spec, with_host_defaults
from phoenix_pve import built, firewall, health, manage, power, scripts, snapshots, template
from phoenix_pve.guest import CONTAINER
from phoenix_pve.live import Live
from phoenix_pve.shell import ContainerShell

#: The feature scripts this plugin ships (base_setup, docker, nvidia).
SHIPPED = Path(__file__).parent / "features"


def ready_probe(live: Live) -> power.Probe:
    """A container is ready when ``pct exec`` can run a command in it."""

    def probe() -> CommandResult:
        return live.query(live.tool("exec", "--", "true"))

    return probe


class LxcManager:
    """Manages Proxmox containers with ``pct`` (see ``docs/lxc.md``)."""

    #: The model ``phoenix config schema lxc`` generates the JSON Schema from.
    config_model = LxcSpec

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def parse(self, guest: TargetConfig, diagnostics: Diagnostics) -> LxcSpec | None:
        return parse_spec(guest, diagnostics)

    def validate(self, guest: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        manage.warn_missing_scripts(guest, Path(config.directory), "lxc", SHIPPED, diagnostics)

    def observe(self, guest: TargetConfig, ctx: RunContext) -> GuestState:
        live = Live(ctx.host, CONTAINER, guest.id, ctx.config.hypervisor.pve_etc)
        return manage.guest_state(live, "hostname")

    def resources(self, verb: StepVerb, guest: TargetConfig, config: Config) -> set[Resource]:
        """The container and its node (shared); to build it, briefly, its clone source or the
        template's storage (held by the create step only while it copies or downloads)."""
        held = {Resource.guest(guest.id), Resource.node(guest.common.node, shared=True)}
        if verb == "converge" and guest.spec is not None:
            held |= create.brief_resources(guest.spec, config)
        return held

    def spec_for(self, guest: TargetConfig, ctx: RunContext) -> LxcSpec:
        """The guest's spec with ``proxmox_defaults.lxc`` filled in (the lowest defaults layer)."""
        hypervisor = ctx.config.hypervisor
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

    def checks(self, guest: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix health-check``: the shipped checks (:mod:`phoenix_lxc.checks`), then the
        configured ones; a configured check whose script is missing fails with that reason."""
        spec = self.spec_for(guest, ctx)
        live = Live(ctx.host, CONTAINER, guest.id, ctx.config.hypervisor.pve_etc)
        shell = ContainerShell(live.host, live.vmid)
        shipped = lxc_checks.shipped(spec, live, shell, ctx.config)
        return health.guest_checks(live, shell, spec, self._paths(ctx.config), shipped)

    def tests(self, guest: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix test``: the configured ``tests`` suites, one test case per script."""
        spec = self.spec_for(guest, ctx)
        live = Live(ctx.host, CONTAINER, guest.id, ctx.config.hypervisor.pve_etc)
        shell = ContainerShell(live.host, live.vmid)
        return health.guest_tests(live, shell, spec, self._paths(ctx.config))

    @staticmethod
    def _paths(config: Config) -> scripts.SearchPath:
        return scripts.SearchPath(Path(config.directory), "lxc", SHIPPED)

    def steps(self, verb: StepVerb, guest: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        spec = self.spec_for(guest, ctx)
        live = Live(
            ctx.host,
            CONTAINER,
            guest.id,
            ctx.config.hypervisor.pve_etc,
            lock_timeout=ctx.options.lock_timeout,
        )
        timeout = ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT
        if verb == "start":
            return [
                power.running_step(
                    live,
                    ready_probe(live),
                    spec.ready_timeout,
                    skip=lambda: False,
                    starting=ctx.starting,
                )
            ]
        if verb == "stop":
            return [power.stopped_step(live, timeout)]
        if verb == "restart":
            return [power.restart_step(live, ready_probe(live), timeout, spec.ready_timeout)]
        if verb == "delete":
            return [power.destroyed_step(live, timeout)]
        if verb == "converge":
            return self.converge_steps(spec, guest, ctx, live)
        raise ValueError(f"the lxc manager has no verb {verb!r}")

    def converge_steps(
        self, spec: LxcSpec, guest: TargetConfig, ctx: RunContext, live: Live
    ) -> list[Step]:
        """Every converge step in order, the build-complete mark last. Scripts are resolved
        first: a missing one fails here, before anything changes."""
        paths = self._paths(ctx.config)
        found = scripts.resolve_all(spec, paths)
        checks = health.resolve(spec, paths)
        shell = ContainerShell(live.host, live.vmid, lock_timeout=live.lock_timeout)

        def frozen() -> bool:
            """A container already converted to a template: its insides are final."""
            return live.exists and live.is_template

        def stays_stopped() -> bool:
            return frozen() or (spec.is_template and not found.any_inside())

        def snapshot_blocker() -> str | None:
            return mounts.snapshot_blocker(spec, live)

        env = {
            "PHOENIX_CTID": str(live.vmid),
            "PHOENIX_GUEST_CONFIG": f"{scripts.RUN_DIR}/guest.json",
        }
        # The URL may carry credentials (https://user:pass@host): never on a command line.
        private_env = {"PHOENIX_BOOTSTRAP_CA_URL": spec.bootstrap_ca_url or ""}
        runner = scripts.Runner(live, shell, scripts.guest_payload(guest, "ctid"), env, private_env)
        steps = [
            create.step(spec, live, ctx.config, ctx.holding),
            options.step(spec, live),
            rawconf.step(spec, live),
            subids.step(spec, live),
            mounts.step(spec, live, skip=frozen),
            disk.step(spec, live, skip=frozen),
        ]
        if spec.firewall is not None:
            steps.append(firewall.step(spec.firewall, live))
        steps.append(
            power.running_step(
                live,
                ready_probe(live),
                spec.ready_timeout,
                skip=stays_stopped,
                starting=ctx.starting,
            )
        )
        steps += snapshots.before_scripts(
            live,
            lifecycle=spec.enable_lifecycle_snapshots,
            is_template=spec.is_template,
            skip=frozen,
            unsupported=snapshot_blocker,
        )
        steps += manage.inside_steps(live, shell, found, checks, runner, skip=frozen, ctx=ctx)
        steps += snapshots.final(
            live,
            template_snapshot_name=spec.template_snapshot_name,
            lifecycle=spec.enable_lifecycle_snapshots,
            is_template=spec.is_template,
            skip=frozen,
            unsupported=snapshot_blocker,
        )
        if spec.is_template:
            steps.append(template.step(live))
        steps.append(built.step(live))
        return steps
