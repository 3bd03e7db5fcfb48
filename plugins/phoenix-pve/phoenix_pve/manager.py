"""The skeleton of a Proxmox guest manager: what the container and VM managers (and a third
guest kind) answer the core the same way, with the hooks where they differ.

A subclass sets the class attributes (its :class:`~phoenix_pve.guest.GuestKind`, where its
scripts are searched, how its guests are named) and writes the hooks: how it parses a spec,
builds its shell and readiness probe, and which steps create and configure it. Everything
else is here once: live state, resources, power verbs, the converge skeleton (firewall,
power, snapshots, features and application script, template, build mark) and the health
checks of ``health-check``, ``test`` and the verify phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from phoenix_core import checks as core
from phoenix_core.capacity import NodeFacts
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.errors import PhoenixError
from phoenix_core.manager import (
    ADDRESSES,
    BaseManager,
    Claim,
    FoundGuest,
    GuestState,
    Resource,
    RunContext,
    StepVerb,
)
from phoenix_core.steps import Change, Step
from phoenix_pve import (
    built,
    claims,
    describe,
    firewall,
    health,
    inventory,
    manage,
    node,
    pending,
    power,
    scripts,
    settings,
    snapshot,
    snapshots,
    template,
)
from phoenix_pve.guest import GuestKind
from phoenix_pve.live import Live
from phoenix_pve.shell import Shell

#: What a guest without ``memory_mb`` gets from Proxmox, in MiB.
DEFAULT_MEMORY_MB = 512


class Build:
    """What the steps of one converge share about the guest being built, and its power
    policy (DESIGN §6).

    ``inside``: the guest has work to do while running (features, an application script,
    anything the kind adds); a template without it is never started. ``desired``: the
    guest should run (``start_at_boot``, not a template), so converge starts it when it is
    stopped. Any other guest runs only while its own build needs it (work inside, build not
    complete): this converge starts it (``started``) and stops it again once built; one an
    operator started is left running, one stopped and built is left stopped.
    """

    def __init__(self, live: Live, spec: Any, inside: bool, desired: bool) -> None:
        self.live = live
        self.spec = spec
        self.inside = inside
        self.desired = desired
        self.started = False

    def frozen(self) -> bool:
        """A guest already converted to a template: its insides are final."""
        return self.live.exists and self.live.is_template

    def stays_stopped(self) -> bool:
        return self.frozen() or (bool(self.spec.is_template) and not self.inside)

    def needs_running(self) -> bool:
        """Should the converge have the guest running (start it when stopped)?"""
        if self.stays_stopped():
            return False
        if self.desired:
            return True
        complete = self.live.exists and built.is_built(self.live.config(), self.live.vmid)
        return self.inside and not complete

    def idle(self) -> bool:
        """Nothing can run inside the guest: a template, or stopped and not started (nor,
        in a dry run, planned to start) by this converge."""
        return self.frozen() or not (self.live.running or self.started)

    def power_step(self, running: Step) -> Step:
        """``running`` (a start when stopped), taken only when :meth:`needs_running`."""

        def check() -> Sequence[Change]:
            if not self.needs_running():
                return []
            changes = running.check()
            self.started = self.started or bool(changes)
            return changes

        return Step(running.name, check, running.apply)

    def rest_step(self, timeout: int, dry_run: bool) -> Step:
        """Stop a guest this converge started only for its build (a template is stopped by
        its conversion)."""
        live = self.live

        def check() -> list[Change]:
            if not self.started or self.desired or self.spec.is_template:
                return []
            return [Change("power", "running", "stopped")] if dry_run or live.running else []

        return Step("power: after build", check, lambda _: power.shutdown(live, timeout))


class GuestManager(BaseManager):
    """A Proxmox guest kind (``pct``, ``qm``): set the class attributes, write the hooks."""

    #: The hypervisor-file sections it reads (its spec declares them).
    settings_model = settings.PveSettings

    #: The tool and the directory of its conf files.
    guest: GuestKind
    #: The search path's kind (``features/<kind>/``) and the directory of the shipped scripts.
    script_kind: str
    shipped: Path
    #: The conf key holding the guest's name (``hostname``, ``name``).
    name_key: str
    #: How scripts receive the guest id: the payload key (``ctid``) and the variable.
    id_key: str
    id_env: str

    # -- hooks: what a guest kind writes ------------------------------------------------------
    def shell(self, live: Live, *, steps: bool) -> Shell:
        """The shell that runs commands inside the guest (``steps``: for a converge)."""
        raise NotImplementedError

    def probe(self, live: Live) -> power.Probe:
        """The command that answers once a started guest is ready."""
        raise NotImplementedError

    def settle(self, live: Live, shell: Shell, spec: Any) -> power.Settle | None:
        """What waits, after the probe answered, until the guest is usable (cloud-init)."""
        return None

    def addresses(self, live: Live) -> tuple[str, ...]:
        """The addresses the running guest reports (none known by default)."""
        return ()

    def brief_resources(self, spec: Any, config: Config) -> set[Resource]:
        """What creating the guest holds briefly (a clone source, a storage)."""
        return set()

    def shipped_checks(
        self, spec: Any, live: Live, shell: Shell, config: Config
    ) -> list[core.Check]:
        """The checks ``health-check`` runs before the configured ones."""
        return []

    def spec_for(self, guest: TargetConfig, ctx: RunContext) -> Any:
        """The spec the steps build from (the parsed one, with any node-wide defaults)."""
        return guest.spec

    def configure_steps(
        self, spec: Any, guest: TargetConfig, ctx: RunContext, live: Live, build: Build
    ) -> list[Step]:
        """Create (or clone) the guest and configure it, before its firewall and power."""
        raise NotImplementedError

    def before_start(
        self, spec: Any, ctx: RunContext, live: Live, shell: Shell, build: Build
    ) -> list[Step]:
        """Steps after the firewall, before the guest is started: changes pending a restart,
        applied by one when ``--restart-if-needed`` allows it."""
        return [
            pending.step(
                live,
                restart=ctx.options.restart_if_needed,
                dry_run=ctx.dry_run,
                probe=self.probe(live),
                ready_timeout=spec.ready_timeout,
                shutdown_timeout=ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT,
                settle=self.settle(live, shell, spec),
                skip=build.stays_stopped,
            )
        ]

    def while_running(
        self, spec: Any, live: Live, shell: Shell, runner: scripts.Runner, build: Build
    ) -> list[Step]:
        """Steps once the guest runs, before its lifecycle snapshot (volumes to mount)."""
        return []

    def runs_inside(self, spec: Any) -> bool:
        """Work the guest does running, beyond scripts (a template starts only for it)."""
        return False

    def snapshot_blocker(self, spec: Any, live: Live) -> str | None:
        """Why the guest cannot be snapshotted, if it cannot."""
        return None

    def named_snapshot(self, spec: Any, live: Live, build: Build, which: str) -> list[Step]:
        """A snapshot the spec names around its scripts (``pre-features``, ``post-features``)."""
        return []

    def final_snapshot_name(self, spec: Any) -> str | None:
        return spec.template_snapshot_name

    def private_env(self, spec: Any) -> dict[str, str]:
        """Variables scripts receive through a file, never a command line (credentials)."""
        return {}

    def entry(self, live: Live) -> dict[str, Any]:
        """The file entry describing the existing guest ``live`` (``import``)."""
        raise PhoenixError(f"importing a {self.guest.label} is not supported by this manager")

    # -- the contract, once for every guest kind ---------------------------------------------
    def live(self, guest: TargetConfig, ctx: RunContext) -> Live:
        """The guest read through the run's snapshot of its node."""
        return Live.of(ctx, self.guest, guest.id, lock_timeout=ctx.options.lock_timeout)

    def paths(self, config: Config) -> scripts.SearchPath:
        # config.directory is a Path already: another one per guest cost planning 10,000
        # guests about 4% of its time under the profiler.
        legacy = settings.of(config).legacy_scripts_dir or scripts.LEGACY_DIR
        return scripts.SearchPath(
            config.directory, self.script_kind, self.shipped, legacy.rstrip("/")
        )

    def validate(self, guest: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        manage.warn_missing_scripts(guest, self.paths(config), diagnostics)
        claims.check_gpu_driver(guest, config, diagnostics)

    def claims(self, guest: TargetConfig) -> Sequence[Claim]:
        """Its static IP and MAC addresses: no other guest, of any kind, may use them."""
        return claims.claims(guest)

    def node_facts(self, guest: TargetConfig, ctx: RunContext) -> NodeFacts | None:
        """The name and memory of the guest's node (``status``'s NODE, the memory check),
        asked as a run begins: the run's snapshot starts reading the node lists meanwhile."""
        snapshot.of(ctx).read_ahead()
        return node.facts(ctx.host, guest.common.node, settings.of(ctx.config).pve_etc)

    def memory(self, guest: TargetConfig) -> int | None:
        """Bytes the guest commits while it runs: its ``memory_mb``, else Proxmox's default
        (512 MiB for both kinds: pve-container src/PVE/LXC/Config.pm ``memory`` default 512
        at 94f5585; qemu-server src/PVE/QemuServer/Memory.pm ``$memory_fmt`` ``current``
        default 512 at e6352be6)."""
        memory_mb = getattr(guest.spec, "memory_mb", None)
        return (memory_mb or DEFAULT_MEMORY_MB) * 1024**2

    def observe(self, guest: TargetConfig, ctx: RunContext) -> GuestState:
        """The guest as the snapshot shows it; its addresses only for ``status --addresses``
        (reading them may cost a call per guest, which a plain status never pays)."""
        live = self.live(guest, ctx)
        if ADDRESSES not in ctx.options.flags:
            return manage.guest_state(live, self.name_key)
        return manage.guest_state(live, self.name_key, lambda: self.addresses(live))

    def resources(self, verb: StepVerb, guest: TargetConfig, config: Config) -> set[Resource]:
        """The guest and its node (shared); to build it, briefly, what creating it copies
        from or allocates on (held by the create step only while it does)."""
        held = super().resources(verb, guest, config)
        if verb == "converge" and guest.spec is not None:
            held |= self.brief_resources(guest.spec, config)
        return held

    def checks(self, guest: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix health-check``: the shipped checks, then the configured ones; a configured
        check whose script is missing fails with that reason."""
        spec = self.spec_for(guest, ctx)
        live = self.live(guest, ctx)
        shell = self.shell(live, steps=False)
        shipped = self.shipped_checks(spec, live, shell, ctx.config)
        return health.guest_checks(live, shell, spec, self.paths(ctx.config), shipped)

    def tests(self, guest: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix test``: the configured ``tests`` suites, one test case per script."""
        live = self.live(guest, ctx)
        shell = self.shell(live, steps=False)
        spec = self.spec_for(guest, ctx)
        return health.guest_tests(live, shell, spec, self.paths(ctx.config))

    def steps(self, verb: StepVerb, guest: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        spec = self.spec_for(guest, ctx)
        live = self.live(guest, ctx)
        shell = self.shell(live, steps=True)
        timeout = ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT
        settle = self.settle(live, shell, spec)
        if verb == "start":
            return [
                power.running_step(
                    live,
                    self.probe(live),
                    spec.ready_timeout,
                    skip=lambda: live.is_template,
                    settle=settle,
                    starting=ctx.starting,
                )
            ]
        if verb == "stop":
            return [power.stopped_step(live, timeout)]
        if verb == "restart":
            return [power.restart_step(live, self.probe(live), timeout, spec.ready_timeout, settle)]
        if verb == "delete":
            return [power.destroyed_step(live, timeout)]
        return self.converge_steps(spec, guest, ctx, live, shell)

    def converge_steps(
        self, spec: Any, guest: TargetConfig, ctx: RunContext, live: Live, shell: Shell
    ) -> list[Step]:
        """Every converge step in order, the build-complete mark last. Scripts are resolved
        first: a missing one fails here, before anything changes."""
        paths = self.paths(ctx.config)
        found = scripts.resolve_all(spec, paths, live.host)
        checks = health.resolve(spec, paths)
        build = Build(
            live, spec, found.any_inside() or self.runs_inside(spec), self.desired(guest, spec)
        )
        timeout = ctx.options.timeout or power.DEFAULT_SHUTDOWN_TIMEOUT
        env = {self.id_env: str(live.vmid), "PHOENIX_GUEST_CONFIG": f"{scripts.RUN_DIR}/guest.json"}
        payload = scripts.guest_payload(guest, self.id_key)
        legacy_args = [str(live.vmid), getattr(spec, "bootstrap_ca_url", None) or ""]
        runner = scripts.Runner(live, shell, payload, env, self.private_env(spec), legacy_args)
        steps = self.configure_steps(spec, guest, ctx, live, build)
        if spec.firewall is not None:
            steps.append(firewall.step(spec.firewall, live))
        steps += self.before_start(spec, ctx, live, shell, build)
        # Only work inside waits for the guest to answer (see phoenix_pve.power).
        running = power.running_step(
            live,
            self.probe(live) if build.inside else None,
            spec.ready_timeout,
            skip=build.stays_stopped,
            settle=self.settle(live, shell, spec) if build.inside else None,
            starting=ctx.starting,
        )
        steps.append(build.power_step(running))
        steps += self.while_running(spec, live, shell, runner, build)
        steps += snapshots.before_scripts(
            live,
            lifecycle=spec.enable_lifecycle_snapshots,
            is_template=spec.is_template,
            skip=build.frozen,
            unsupported=lambda: self.snapshot_blocker(spec, live),
        )
        steps += self.named_snapshot(spec, live, build, "pre-features")
        steps += manage.inside_steps(live, shell, found, checks, runner, skip=build.idle, ctx=ctx)
        steps += self.named_snapshot(spec, live, build, "post-features")
        steps += snapshots.final(
            live,
            template_snapshot_name=self.final_snapshot_name(spec),
            lifecycle=spec.enable_lifecycle_snapshots,
            is_template=spec.is_template,
            skip=build.frozen,
            unsupported=lambda: self.snapshot_blocker(spec, live),
        )
        if spec.is_template:
            steps.append(template.step(live, timeout))
        steps.append(built.step(live))
        steps.append(build.rest_step(timeout, ctx.dry_run))
        return steps

    def desired(self, guest: TargetConfig, spec: Any) -> bool:
        """Should the guest run? ``start_at_boot`` (with file-wide defaults), never a template."""
        wanted = getattr(spec, "start_at_boot", guest.common.start_at_boot)
        return bool(wanted) and not spec.is_template

    def verify(self, verb: StepVerb, guest: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        """After a converge, the configured health checks: not on a template (it does not
        run), nor on a guest that runs only for its build and is stopped again."""
        if verb != "converge":
            return []
        spec = self.spec_for(guest, ctx)
        live = self.live(guest, ctx)
        checks = health.resolve(spec, self.paths(ctx.config))
        return health.verify_step(
            live,
            self.shell(live, steps=True),
            checks,
            skip=lambda: (
                live.is_template
                or manage.settled(live)
                or not (live.running or self.desired(guest, spec))
            ),
        )

    # -- guests no file describes: status --all and import (GuestDiscovery) -------------------
    def inventory(self, ctx: RunContext) -> list[FoundGuest]:
        """Every guest of this kind on the node, from the run's snapshot: ``.vmlist`` names
        them, their conf files and the node lists say the rest (no call per guest)."""
        snap = snapshot.of(ctx)
        listed = snap.guests()
        if listed is None:
            return inventory.guests(ctx.host, self.guest)
        return [
            FoundGuest(vmid, snap.name or "", manage.guest_state(live, self.name_key))
            for vmid in sorted(listed)
            if listed[vmid].type == self.guest.api
            for live in [Live.of(ctx, self.guest, vmid)]
        ]

    def describe(self, vmid: int, ctx: RunContext) -> dict[str, Any] | None:
        """The entry of guest ``vmid`` (:meth:`entry`), None when it is no guest of this kind."""
        live = Live.of(ctx, self.guest, vmid)
        return self.entry(live) if live.exists else None

    def adopt(self, vmid: int, ctx: RunContext) -> None:
        describe.adopt(Live.of(ctx, self.guest, vmid))
