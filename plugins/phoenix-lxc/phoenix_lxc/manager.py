"""The LXC manager: what the core calls for every id of ``phoenix_lxc_configs.json``.

``steps("converge", ...)`` lists, in order, every concern of a container (create or clone,
options, raw lines, mounts, disk, firewall, power, snapshots, features, application script,
health, template). Each is a :class:`~phoenix_core.steps.Step` whose check reads the shared
:class:`~phoenix_lxc.live.Live` and whose apply changes only what the check found.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.logs import logger
from phoenix_core.manager import MISSING, GuestState, RunContext, StepVerb
from phoenix_core.steps import Step
from phoenix_lxc import (
    create,
    disk,
    firewall,
    mounts,
    options,
    power,
    rawconf,
    scripts,
    snapshots,
    template,
)
from phoenix_lxc.live import Live
from phoenix_lxc.model import LxcSpec, ignored_host_defaults, parse_spec, with_host_defaults


class LxcManager:
    """Manages Proxmox containers with ``pct`` (see ``docs/lxc.md``)."""

    #: The model ``phoenix config schema lxc`` generates the JSON Schema from.
    config_model = LxcSpec

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def parse(self, guest: TargetConfig, diagnostics: Diagnostics) -> LxcSpec | None:
        return parse_spec(guest, diagnostics)

    def observe(self, guest: TargetConfig, ctx: RunContext) -> GuestState:
        live = Live(ctx.host, guest.id, ctx.config.hypervisor.pve_etc)
        if not live.exists:
            return MISSING
        conf = live.config()
        return GuestState(
            exists=True,
            status=live.status(),
            lock=conf.get("lock"),
            template=live.is_template,
            name=conf.get("hostname"),
        )

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

    def steps(self, verb: StepVerb, guest: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        spec = self.spec_for(guest, ctx)
        live = Live(ctx.host, guest.id, ctx.config.hypervisor.pve_etc)
        timeout = ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT
        if verb == "start":
            return [power.running_step(live, spec.ready_timeout, skip=lambda: False)]
        if verb == "stop":
            return [power.stopped_step(live, timeout)]
        if verb == "restart":
            return [power.restart_step(live, timeout, spec.ready_timeout)]
        if verb == "delete":
            return [power.destroyed_step(live, timeout)]
        if verb == "converge":
            return self.converge_steps(spec, guest, ctx, live)
        raise ValueError(f"the lxc manager has no verb {verb!r}")

    def converge_steps(
        self, spec: LxcSpec, guest: TargetConfig, ctx: RunContext, live: Live
    ) -> list[Step]:
        """Every converge step in order. Scripts are resolved first: a missing one fails here,
        before anything changes."""
        found = scripts.resolve_all(spec, ctx.config)
        payload = scripts.guest_payload(guest)

        def frozen() -> bool:
            """A container already converted to a template: its insides are final."""
            return live.exists and live.is_template

        def stays_stopped() -> bool:
            return frozen() or (spec.is_template and not found.any_inside())

        steps = [
            create.step(spec, live, ctx.config),
            options.step(spec, live),
            rawconf.step(spec, live),
            mounts.step(spec, live, skip=frozen),
            disk.step(spec, live, skip=frozen),
        ]
        if spec.firewall is not None:
            steps.append(firewall.step(spec.firewall, live))
        steps.append(power.running_step(live, spec.ready_timeout, skip=stays_stopped))
        steps += snapshots.before_features(spec, live, skip=frozen)
        steps += scripts.steps(spec, live, found, payload, skip=frozen, dry_run=ctx.dry_run)
        steps += snapshots.final(spec, live, skip=frozen)
        if spec.is_template:
            steps.append(template.step(live))
        return steps
