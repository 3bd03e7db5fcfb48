"""Runs a verb over targets as a plan of actions and collects the outcomes.

The engine knows no kind of guest: it orders targets (guests and host targets) with the
dependency graph, turns them into a :class:`~phoenix_core.plan.Plan` holding what each
target's manager says it holds, lets the :class:`~phoenix_core.executor.Executor` run it
with ``jobs`` workers, runs each action's steps (checks only, in a dry run) and tells
observers through the ``phoenix_action_*`` hooks.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from phoenix_core import interrupt, runlock
from phoenix_core.boot import BootGate
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.config.types import TargetId, is_host_target, parse_target
from phoenix_core.errors import ConfigError, PhoenixError, UsageError
from phoenix_core.executor import Executor, Lease
from phoenix_core.graph import Graph
from phoenix_core.hosts.base import Host
from phoenix_core.hosts.dryrun import DryRunHost
from phoenix_core.hosts.pool import HostPool
from phoenix_core.layout import GuestFile
from phoenix_core.logs import logger, scrub
from phoenix_core.manager import (
    FoundGuest,
    GuestState,
    Manager,
    Resource,
    RunContext,
    RunScope,
    VerbOptions,
)
from phoenix_core.names import DEFAULT_JOBS
from phoenix_core.outcome import Outcome, RunResult
from phoenix_core.plan import Action, ActionKey, Plan, boot_groups, build_plan
from phoenix_core.plugins import Plugins
from phoenix_core.steps import run_steps
from phoenix_core.verbs import VERBS, verb_named

if TYPE_CHECKING:
    from phoenix_core.progress import Progress


class Engine:
    """One run's worth of state: configuration, plugins, hosts and the flags of the verb."""

    def __init__(
        self,
        config: Config,
        plugins: Plugins,
        hosts: HostPool,
        *,
        dry_run: bool = False,
        keep_going: bool = False,
        options: VerbOptions | None = None,
        jobs: int = DEFAULT_JOBS,
        boot_delay: bool = True,
        wait_lock: float = 0.0,
        run_id: str = "-",
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.plugins = plugins
        self.hosts = hosts
        self.dry_run = dry_run
        self.keep_going = keep_going
        self.options = options or VerbOptions()
        self.jobs = jobs
        self.boot_delay = boot_delay
        self.wait_lock = wait_lock
        self.run_id = run_id
        self.progress = progress
        edges: dict[TargetId, list[TargetId]] = {h: t.requires for h, t in config.hosts.items()}
        edges.update((i, g.requires) for i, g in config.guests.items())
        self.graph = Graph(edges)
        #: What ``start`` brings up first: runtime ``dependencies`` only, never a clone
        #: source (a build-time edge) nor a host target.
        self.runtime = Graph({i: g.common.dependencies for i, g in config.guests.items()})
        self._dry_hosts: dict[int, DryRunHost] = {}
        #: What managers read once per run (see :class:`RunScope`).
        self.scope = RunScope()

    # -- targets -------------------------------------------------------------------------
    def resolve(self, ids: Iterable[str | int]) -> list[TargetId]:
        """Parse and check the requested targets (duplicates dropped); unknown ones are exit 2."""
        result: list[TargetId] = []
        for text in ids:
            try:
                ident = parse_target(text)
            except ValueError:
                raise UsageError(
                    f"{text!r} is not a target (expected a guest id like 101, a target name, "
                    "host or host:NODE)"
                ) from None
            if ident not in self.config:
                raise UsageError(self._undefined(ident))
            if ident not in result:
                result.append(ident)
        return result

    def _undefined(self, ident: TargetId) -> str:
        if is_host_target(ident):
            if not self.config.hosts:
                return f"{ident}: no installed manager handles host targets (install a host manager such as phoenix-hypervisor)"
            return f"{ident} is not a node of this configuration (known: {', '.join(self.config.hosts)})"
        files = " or ".join(sorted(n for n in self.config.files if n.endswith("_configs.json")))
        return f"{ident} is not defined in {files or 'any guest file'}{self.config.unread_hint()}"

    def all_ids(self) -> list[TargetId]:
        """Every target: host targets, then each kind's guests (by id in files keyed by id,
        in file order in files that list them), kinds by name."""
        by_kind: dict[str, list[TargetId]] = {}
        for guest in self.config.guests.values():
            by_kind.setdefault(guest.kind, []).append(guest.id)
        # A host's parts come with it (it requires them).
        ordered: list[TargetId] = [h for h, t in self.config.hosts.items() if t.part is None]
        for kind in sorted(by_kind):
            registered = self.plugins.by_kind.get(kind)
            listed = registered is not None and isinstance(registered.spec.config, GuestFile)
            keyed = not listed or registered.spec.config.id_key is None  # type: ignore[union-attr]
            ordered += sorted(by_kind[kind]) if keyed else by_kind[kind]
        return ordered

    def order(
        self, verb: str, targets: Sequence[TargetId], *, only: bool = False
    ) -> list[TargetId]:
        """The targets in the verb's :data:`~phoenix_core.verbs.Order`; with ``only``
        (``--only``: no requirement chain) the targets alone, except for the verbs that take
        dependents first."""
        order = verb_named(verb).order
        if only and order != "reverse":
            wanted = set(targets)
            return [i for i in self.graph.order(targets) if i in wanted]
        if order == "build":
            return self.graph.order(targets)
        if order == "runtime":
            return self.runtime.order(targets)
        if order == "reverse":
            return self.graph.reverse_order(targets)
        wanted = set(targets)
        return [i for i in self.graph.order(targets) if i in wanted]

    def require_managers(self, ordered: Sequence[TargetId], targets: Sequence[TargetId]) -> None:
        """Refuse, before anything runs, a plan that needs what is not installed.

        A target whose manager is missing, or a requirement defined in a file no installed
        manager reads: every one is named, with the target that pulled it in, so one error
        message says all that is missing.
        """
        dependents = self.graph.dependents()
        missing: list[str] = []
        for ident in ordered:
            if ident in self.config and self.plugins.manager(self.config.target(ident).kind):
                continue
            why = ""
            if ident not in targets:
                needed_by = next((d for d in dependents.get(ident, []) if d in ordered), None)
                why = f" (a dependency of {needed_by})" if needed_by else " (a dependency)"
            if ident in self.config:
                target = self.config.target(ident)
                missing.append(f"{target.kind} {ident}{why}: no installed manager handles it")
            else:
                missing.append(f"{ident}{why} is not defined in the files read")
        if missing:
            raise UsageError("; ".join(missing) + self.config.unread_hint())

    def require_existing(self, targets: Sequence[TargetId]) -> None:
        """``--only``: the guests the targets require and that are not among them must exist,
        since they will not be built; every one missing is named (exit 2, nothing run)."""
        wanted = set(targets)
        seen: dict[TargetId, bool] = {}
        missing = []
        for ident in targets:
            for need in self.config.target(ident).requires:
                # Host features are checked by the guests' own steps, as without --only.
                if need in wanted or self.config.is_host(need):
                    continue
                if need not in seen:
                    required = self.config.target(need)
                    manager = self.plugins.manager(required.kind)
                    seen[need] = (
                        manager is not None
                        and manager.observe(required, self.context(required)).exists
                    )
                if not seen[need]:
                    missing.append(
                        f"{ident} requires {self.config.target(need)}, which does not exist"
                    )
        if missing:
            raise UsageError(f"--only: {'; '.join(missing)} (build it first, or leave out --only)")

    # -- running ---------------------------------------------------------------------------
    def host_for(self, guest: TargetConfig) -> Host:
        """The host ``guest`` lives on, confirmed (once per run) to be a machine its manager
        changes: nothing runs on a host that fails its manager's node probe."""
        host = self.hosts.for_node(guest.common.node)
        registered = self.plugins.by_kind.get(guest.kind)
        if registered is not None and registered.spec.node_probe is not None:
            self.hosts.confirm(host, registered.spec.node_probe)
        if not self.dry_run:
            return host
        return self._dry_hosts.setdefault(id(host), DryRunHost(host))

    def context(
        self,
        guest: TargetConfig,
        lease: Lease | None = None,
        starting: Callable[[], contextlib.AbstractContextManager[None]] | None = None,
    ) -> RunContext:
        ctx = RunContext(
            self.host_for(guest), self.config, self.dry_run, self.options, scope=self.scope
        )
        if lease is not None and not self.dry_run:
            ctx.acquire, ctx.release = lease.acquire, lease.release
        if starting is not None:
            ctx.starting = starting
        return ctx

    def manager_of(self, guest: TargetConfig) -> Manager:
        manager = self.plugins.manager(guest.kind)
        assert manager is not None, "require_managers() runs first"
        return manager

    def run(self, verb: str, ids: Sequence[str | int], *, only: bool = False) -> RunResult:
        """Run ``verb`` (create, converge, plan, start, stop, restart, delete) on targets.

        Without ids the verb takes every guest it can: see :meth:`managed_all`. With
        ``only`` the targets alone run, without their requirement chain, whose guests must
        exist already (:meth:`require_existing`).
        """
        result = RunResult(verb, self.dry_run or verb_named(verb).dry)
        if ids:
            targets = self.resolve(ids)
            ordered = self.order(verb, targets, only=only)
            self.require_managers(ordered, targets)
        else:
            targets, result.outcomes = self.managed_all(verb)
            ordered = self.order(verb, targets, only=only)
        if only and verb_named(verb).order == "build":
            self.require_existing(ordered)
        if problems := [p for i in ordered for p in self.config.broken.get(i, [])]:
            raise ConfigError(problems)
        if verb_named(verb).guards_dependents and not self.options.force:
            self._refuse_delete_with_dependents(targets)
        checked: set[TargetId] = set()
        if verb_named(verb).order == "build" and not self.options.with_host:
            ordered, checked = self.host_checks(ordered, targets)
        gate, last, groups = None, None, None
        if verb_named(verb).boots:
            # Starts follow boot order whatever the number of workers, as LetsGo's do.
            guests = [self.config.target(i) for i in ordered]
            groups = boot_groups(guests)
            # Listed (and, one worker, run) by boot group, ties in dependency order.
            ordered = sorted(ordered, key=groups.__getitem__)
            delays = {g.id: g.common.boot_delay for g in guests} if self.boot_delay else {}
            gate = BootGate(groups, delays, self.graph.edges)
        result.plan = self.plan(
            verb, ordered, targets, dry_run=result.dry_run, checked=checked, boot_groups=groups
        )
        if gate is not None:
            last = {a.id: a.key for a in result.plan.actions}
        with interrupt.handling():
            self.ready(result.plan)
            with self.run_lock(result):
                result.outcomes += self.execute(result.plan, result.dry_run, gate, last)
            result.signal = interrupt.received()
        return result

    def host_checks(
        self, ordered: Sequence[TargetId], targets: Sequence[TargetId]
    ) -> tuple[list[TargetId], set[TargetId]]:
        """The host parts guests pulled in are checked, not applied (``--with-host`` applies
        them): returns ``ordered`` without the parts only other checked parts need (a storage
        in sync needs no look at the packages it was once set up with), and the checked ones.
        A host target asked for, and all it requires, is applied.
        """
        is_host = self.config.is_host
        applied = set(self.graph.order([t for t in targets if is_host(t)]))
        direct = {
            need
            for ident in ordered
            if not is_host(ident)
            for need in self.config.target(ident).requires
            if is_host(need)
        }
        kept = [i for i in ordered if not is_host(i) or i in applied or i in direct]
        return kept, {i for i in kept if is_host(i) and i not in applied}

    def ready(self, plan: Plan) -> None:
        """Open and confirm every host the plan acts on, before any action starts: a host
        that is not a node, or cannot be reached, ends the run here with nothing run on any
        node. A signal meanwhile leaves the rest to the executor, which then starts nothing."""
        try:
            for action in plan.actions:
                self.host_for(action.target)
        except interrupt.Interrupted:
            return

    @contextlib.contextmanager
    def run_lock(self, result: RunResult) -> Iterator[None]:
        """The run lock of every node the plan changes (none for a dry run). A signal while
        it is taken (a ``--wait-lock`` wait) leaves the rest to the executor, which then
        starts nothing: the run ends at once with its summary."""
        if result.dry_run or result.plan is None:
            yield
            return
        hosts: dict[int, Host] = {}
        for action in result.plan.actions:
            host = self.hosts.for_node(action.target.common.node)
            hosts.setdefault(id(host), host)
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(
                    runlock.holding(
                        list(hosts.values()),
                        verb=result.verb,
                        run_id=self.run_id,
                        wait=self.wait_lock,
                    )
                )
            except interrupt.Interrupted as exc:
                logger.debug("{}", exc)
            yield

    def plan(
        self,
        verb: str,
        ordered: Sequence[TargetId],
        targets: Sequence[TargetId] = (),
        *,
        dry_run: bool,
        boot_groups: dict[TargetId, int] | None = None,
        checked: set[TargetId] | None = None,
    ) -> Plan:
        """The DAG of ``verb`` over ``ordered``: what each action waits for and holds (a dry
        run holds the same, so ``plan`` shows the real run's schedule)."""
        order = verb_named(verb).order
        if order == "runtime":
            edges = {i: self.config.target(i).common.dependencies for i in ordered}
        elif order == "reverse":
            edges = {i: list(d) for i, d in self.graph.dependents().items()}
        else:
            edges = {i: self.config.target(i).requires for i in ordered}
        return build_plan(
            verb,
            [self.config.target(i) for i in ordered],
            edges,
            asked=targets,
            resources_of=self._resources,
            boot_groups=boot_groups,
            checked=checked,
        )

    def _resources(self, verb: str, target: TargetConfig) -> set[Resource]:
        held = set(self.manager_of(target).resources(verb_named(verb).steps, target, self.config))
        return held | {Resource.guest(target.id)}

    def execute(
        self,
        plan: Plan,
        dry_run: bool,
        gate: BootGate | None = None,
        last: dict[TargetId, ActionKey] | None = None,
    ) -> list[Outcome]:
        """Run the plan's actions with :attr:`jobs` workers; outcomes in plan order.

        With a boot ``gate``, a guest is settled when ``last[id]``, its last action, ends
        or will not run."""
        if self.progress is not None:
            self.progress.expect(len(plan))

        def settle(action: Action) -> None:
            if gate is not None and last is not None and last.get(action.id) == action.key:
                gate.settle(action.id)

        def perform(action: Action, lease: Lease) -> Outcome:
            try:
                return self._one(action, plan.verb, dry_run, lease, gate)
            finally:
                settle(action)

        def skip(action: Action, note: str) -> Outcome:
            return self._skipped(action.verb, action.target, note)

        executor = Executor(
            perform,
            skip,
            jobs=self.jobs,
            keep_going=self.keep_going,
            abandon=settle,
            past_failures=dry_run,
        )
        return executor.run(plan)

    def managed_all(self, verb: str) -> tuple[list[TargetId], list[Outcome]]:
        """Every target an installed manager can handle, and a ``skipped`` outcome for the rest.

        A user with phoenix-lxc alone can still converge all containers whose dependency
        chain needs no guest of a file it cannot read; each guest left out says why.
        """
        managed: list[TargetId] = []
        skipped: dict[TargetId, Outcome] = {}
        for ident in self.order("converge", self.all_ids()):
            if ident not in self.config:
                continue
            target = self.config.target(ident)
            blocker = next(
                (d for d in target.requires if d in skipped or d not in self.config), None
            )
            if self.plugins.manager(target.kind) is None:
                note = f"no installed manager handles {target.kind} targets"
            elif blocker is not None and blocker not in self.config:
                note = f"requires {blocker}, which is not defined in the files read"
                note += self.config.unread_hint(": ")
            elif blocker is not None:
                note = f"requires {blocker}, which is skipped"
            else:
                managed.append(ident)
                continue
            skipped[ident] = self._skipped(verb, target, note)
            logger.warning("{}: skipped: {}", target, note)
        wanted = set(managed)
        return [i for i in self.all_ids() if i in wanted], list(skipped.values())

    def letsgo(self, *, only_installed: bool = False) -> RunResult:
        """Converge every target in dependency order, then start non-templates by boot group.

        Starts, also those provisioning needs, wait for the guest's boot group
        (:class:`~phoenix_core.boot.BootGate`). Refuses up front when guests need managers
        that are not installed, unless ``only_installed``: then the run is partial.
        """
        result = RunResult("LetsGo", self.dry_run)
        targets, skipped = self.managed_all("converge")
        if skipped and not only_installed:
            raise UsageError(self._missing_for_letsgo(skipped))
        result.outcomes, result.partial = list(skipped), bool(skipped)
        ordered = self.order("converge", targets)
        guests = [self.config.target(i) for i in ordered]
        groups = boot_groups(guests)
        converge = self.plan("converge", ordered, dry_run=result.dry_run, boot_groups=groups)
        # Listed (and, one worker, run) by boot group, ties in dependency order.
        # Power follows the configuration: only guests desired running are started.
        booted = sorted((g.id for g in guests if g.starts_at_boot), key=groups.__getitem__)
        start = self.plan("start", booted, dry_run=result.dry_run, boot_groups=groups)
        # Each start comes after its own guest's build (and its runtime dependencies' starts).
        starts = tuple(attrs.evolve(a, after=(("converge", a.id), *a.after)) for a in start.actions)
        result.plan = Plan("LetsGo", converge.actions + starts)
        last = {a.id: a.key for a in result.plan.actions}
        delays = {g.id: g.common.boot_delay for g in guests} if self.boot_delay else {}
        gate = BootGate(groups, delays, self.graph.edges)
        with interrupt.handling():
            self.ready(result.plan)
            with self.run_lock(result):
                result.outcomes += self.execute(result.plan, result.dry_run, gate, last)
            result.signal = interrupt.received()
        return result

    def _missing_for_letsgo(self, skipped: Sequence[Outcome]) -> str:
        """Which distributions to install, for how many guests, and the way around it."""
        kinds = sorted({o.kind for o in skipped if self.plugins.manager(o.kind) is None})
        dists = {f"phoenix-{k}" for k in kinds} | set(self.config.unread.values())
        ids = ", ".join(str(o.id) for o in skipped)
        return (
            f"LetsGo would leave {len(skipped)} guest(s) unbuilt ({ids}): install "
            f"{', '.join(sorted(dists)) or 'their managers'}, or pass --only-installed to "
            "build the others"
        )

    def _skipped(self, verb: str, guest: TargetConfig, note: str) -> Outcome:
        return Outcome(guest.id, guest.kind, guest.name, verb, "skipped", note=note)

    def _one(
        self,
        action: Action,
        run_verb: str,
        dry_run: bool,
        lease: Lease,
        gate: BootGate | None,
    ) -> Outcome:
        guest = action.target
        self._notify("phoenix_action_started", verb=action.verb, target=guest, dry_run=dry_run)
        started = time.perf_counter()
        registered = self.plugins.by_kind[guest.kind]

        def starting() -> contextlib.AbstractContextManager[None]:
            if gate is None:
                return contextlib.nullcontext()
            return gate.turn(guest.id, building=not verb_named(action.verb).boots)

        # Built inside the attempt: opening the node's connection can fail like any command.
        context = functools.partial(self.context, guest, lease, starting)
        # LetsGo's starts start what its converges just built (in a dry run, not at all).
        must_exist = run_verb in VERBS and VERBS[run_verb].must_exist
        with logger.contextualize(manager=registered.spec.name, prefix=f"{guest.id} "):
            outcome = self._attempt(action, context, dry_run, must_exist=must_exist)
        outcome.duration = time.perf_counter() - started
        self._notify("phoenix_action_finished", verb=action.verb, target=guest, outcome=outcome)
        return outcome

    def _attempt(
        self,
        action: Action,
        context: Callable[[], RunContext],
        dry_run: bool,
        *,
        must_exist: bool,
    ) -> Outcome:
        verb, guest = verb_named(action.verb), action.target
        manager = self.manager_of(guest)
        outcome = Outcome(guest.id, guest.kind, guest.name, verb.name, "ok")
        try:
            ctx = context()
            if verb.starts and guest.is_template:
                outcome.status, outcome.note = "skipped", "a template is never started"
                return outcome
            # Checked here, not left to the tool: a dry run would otherwise plan a start of a
            # guest that is not there, and a stop of one would look "in sync".
            if must_exist and not manager.observe(guest, ctx).exists:
                raise PhoenixError(
                    f"{guest} does not exist (create it first: phoenix create {guest.id})"
                )
            if action.check_only:
                return self._check_only(action, manager, ctx, outcome)
            # The seed's create: targets are converged (created, or confirmed and repaired,
            # never recreated); a dependency is finished unless its build is known complete.
            if verb.creates and action.dependency:
                state = manager.observe(guest, ctx)
                if state.exists and state.build_complete:
                    outcome.status, outcome.note = "exists", "built; left alone"
                    logger.info("{} is built, left alone", guest)
                    return outcome
            on_step = (
                None if self.progress is None else functools.partial(self.progress.step, guest.id)
            )
            steps = manager.steps(verb.steps, guest, ctx)
            try:
                outcome.reports = run_steps(steps, dry_run=dry_run, on_step=on_step)
            finally:
                outcome.reboot = dict(ctx.reboot)
            # Health checks look at what the steps built: nothing to look at in a dry run.
            verify = getattr(manager, "verify", None)
            if verify is not None and not dry_run:
                outcome.reports += run_steps(
                    verify(verb.steps, guest, ctx), dry_run=False, on_step=on_step
                )
        except PhoenixError as exc:
            outcome.status, outcome.error = "failed", scrub(str(exc))
            logger.error("{} failed: {}", guest, exc)
            return outcome
        except Exception as exc:  # a manager bug must not lose the summary of the run
            outcome.status = "failed"
            outcome.error = (
                f"internal error in the {guest.kind} manager: {type(exc).__name__}: {exc}"
            )
            logger.opt(exception=exc).debug("traceback")
            logger.error("{}: {}", guest, outcome.error)
            return outcome
        if outcome.changes:
            outcome.status = "planned" if dry_run else "changed"
        return outcome

    def _check_only(
        self, action: Action, manager: Manager, ctx: RunContext, outcome: Outcome
    ) -> Outcome:
        """Check a host part a guest needs, on a host that changes nothing; drift fails it
        with how to apply it (the layout's ``apply_hint``)."""
        target = action.target
        if not isinstance(ctx.host, DryRunHost):
            ctx.host = DryRunHost(ctx.host)
        steps = manager.steps(verb_named(action.verb).steps, target, ctx)
        changes = [c for report in run_steps(steps, dry_run=True) for c in report.changes]
        outcome.reboot = dict(ctx.reboot)
        if not changes:
            outcome.note = "checked"
            return outcome
        layout = self.plugins.by_kind[target.kind].spec.config
        hint = getattr(layout, "apply_hint", "phoenix converge {target}")
        # The part with what it needs first, as the command that applies them takes them.
        needed = [self.config.target(i) for i in self.graph.order([target.id])]
        parts = " ".join(t.part for t in needed if t.part is not None)
        shown = "; ".join(str(c) for c in changes[:3]) + ("; ..." if len(changes) > 3 else "")
        raise PhoenixError(
            f"{target} is out of sync ({len(changes)} change(s): {shown}); the guests that "
            f"need it are not built on it: run "
            f"{hint.format(part=target.part, parts=parts, target=target.id)}, or pass --with-host"
        )

    def _refuse_delete_with_dependents(self, targets: Sequence[TargetId]) -> None:
        """Refuse (exit 2, before anything runs) while a guest outside ``targets`` depends on
        one of them and exists, or its existence cannot be known; name every such guest."""
        wanted = set(targets)
        dependents = self.graph.dependents()
        blocking = []
        for ident in targets:
            for dependent in dependents.get(ident, []):
                reason = None if dependent in wanted else self._blocks_delete(dependent)
                if reason:
                    blocking.append(f"{ident}: {reason}")
        if blocking:
            raise UsageError(
                f"refusing to delete {'; '.join(blocking)}; delete them too, or pass --force"
            )
        if self.config.unread:
            logger.warning(
                "guests in files no installed manager reads are not checked for depending on {}{}",
                ", ".join(map(str, targets)),
                self.config.unread_hint(": "),
            )

    def _blocks_delete(self, ident: TargetId) -> str | None:
        dependent = self.config.target(ident)
        manager = self.plugins.manager(dependent.kind)
        if manager is None:
            return (
                f"{dependent} depends on it, and whether it exists cannot be known: "
                f"no installed manager handles {dependent.kind} targets"
            )
        if manager.observe(dependent, self.context(dependent)).exists:
            return f"{dependent} depends on it and exists"
        return None

    # -- status ------------------------------------------------------------------------------
    def status(self, ids: Sequence[str | int]) -> list[tuple[TargetConfig, GuestState | None]]:
        """Live state of each target (all when none given); None where no manager is installed."""
        targets = self.resolve(ids) if ids else self.all_ids()
        if ids:
            self.require_managers(targets, targets)
        rows = []
        for ident in targets:
            target = self.config.target(ident)
            manager = self.plugins.manager(target.kind)
            state = manager.observe(target, self.context(target)) if manager else None
            rows.append((target, state))
        return rows

    def guest_managers(self) -> list[tuple[str, Manager]]:
        """(kind, manager) of every installed manager of guests configured in a file."""
        found = []
        for spec in self.plugins.specs():
            manager = self.plugins.manager(spec.kind)
            if isinstance(spec.config, GuestFile) and manager is not None:
                found.append((spec.kind, manager))
        return found

    def unmanaged(self) -> list[tuple[str, FoundGuest]]:
        """(kind, guest) for every guest on the node that no configuration file describes,
        as the managers that can list their guests find them (``inventory``), by id."""
        ctx = RunContext(self.hosts.for_node(None), self.config, scope=self.scope)
        rows = [
            (kind, found)
            for kind, manager in self.guest_managers()
            if hasattr(manager, "inventory")
            for found in manager.inventory(ctx)
            if found.id not in self.config.guests
        ]
        return sorted(rows, key=lambda row: row[1].id)

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call the observers through pluggy; each one's exception is already logged by the
        guard :mod:`phoenix_core.plugins` puts around it, a wrapper's is logged here."""
        try:
            getattr(self.plugins.hook, hook_name)(**kwargs)
        except Exception as exc:
            logger.warning(
                "an observer wrapper of {} raised {}: {}", hook_name, type(exc).__name__, exc
            )
