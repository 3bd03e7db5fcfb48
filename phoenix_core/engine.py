"""Runs a verb over ordered targets, one guest at a time, and collects the outcomes.

The engine knows nothing about LXC or VMs: it orders ids with the dependency graph, finds
each guest's manager and host, runs the manager's steps (checks only, in a dry run) and
tells observers through the ``phoenix_action_*`` hooks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from phoenix_core.config.models import KIND_DISTRIBUTIONS, Config, TargetConfig
from phoenix_core.config.types import Id, parse_id
from phoenix_core.errors import PhoenixError, UsageError
from phoenix_core.graph import Graph
from phoenix_core.hosts.base import Host
from phoenix_core.hosts.dryrun import DryRunHost
from phoenix_core.hosts.pool import HostPool
from phoenix_core.logs import logger, scrub
from phoenix_core.manager import GuestState, Manager, RunContext, VerbOptions
from phoenix_core.outcome import Outcome, RunResult
from phoenix_core.plugins import Plugins
from phoenix_core.steps import run_steps

#: Where ``LetsGo`` puts guests without a ``boot_order`` (the old tool's default).
UNORDERED_BOOT = 999


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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.plugins = plugins
        self.hosts = hosts
        self.dry_run = dry_run
        self.keep_going = keep_going
        self.options = options or VerbOptions()
        self.sleep = sleep
        self.graph = Graph({i: g.requires for i, g in config.guests.items()})
        self._dry_hosts: dict[int, DryRunHost] = {}

    # -- targets -------------------------------------------------------------------------
    def resolve(self, ids: Iterable[str | int]) -> list[Id]:
        """Parse and check the requested ids (duplicates dropped); unknown ids are exit 2."""
        result: list[Id] = []
        for text in ids:
            try:
                ident = parse_id(text)
            except ValueError:
                raise UsageError(
                    f"{text!r} is not a guest id (expected a number like 101)"
                ) from None
            if ident not in self.config.guests:
                files = " or ".join(
                    sorted(n for n in self.config.files if n != "phoenix_hypervisor_config.json")
                )
                raise UsageError(f"{ident} is not defined in {files or 'any guest file'}")
            if ident not in result:
                result.append(ident)
        return result

    def all_ids(self) -> list[Id]:
        """Every guest: containers by id, then VMs in file order (the old tool's order)."""
        lxc = sorted(g.id for g in self.config.guests.values() if g.kind == "lxc")
        rest = [g.id for g in self.config.guests.values() if g.kind != "lxc"]
        return lxc + rest

    def order(self, verb: str, targets: Sequence[Id]) -> list[Id]:
        if verb in ("create", "converge", "plan", "start"):
            return self.graph.order(targets)
        if verb in ("stop", "delete"):
            return self.graph.reverse_order(targets)
        wanted = set(targets)
        return [i for i in self.graph.order(targets) if i in wanted]

    def require_managers(self, ordered: Sequence[Id], targets: Sequence[Id]) -> None:
        """Refuse, before anything runs, a plan that holds guests no installed manager handles.

        Every such guest is named, with the guest that pulled it in and the distribution
        to install, so one error message says all that is missing.
        """
        dependents = self.graph.dependents()
        missing: dict[str, list[str]] = {}
        for ident in ordered:
            guest = self.config.guests[ident]
            if self.plugins.manager(guest.kind) is not None:
                continue
            why = ""
            if ident not in targets:
                needed_by = next((d for d in dependents.get(ident, []) if d in ordered), None)
                why = f" (a dependency of {needed_by})" if needed_by else " (a dependency)"
            missing.setdefault(guest.kind, []).append(f"{guest.kind} {ident}{why}")
        if missing:
            raise UsageError(
                "; ".join(
                    f"no installed manager handles {', '.join(items)} "
                    f"(install {KIND_DISTRIBUTIONS.get(kind, 'a plugin for ' + kind)})"
                    for kind, items in missing.items()
                )
            )

    # -- running ---------------------------------------------------------------------------
    def host_for(self, guest: TargetConfig) -> Host:
        host = self.hosts.for_node(guest.common.node)
        if not self.dry_run:
            return host
        return self._dry_hosts.setdefault(id(host), DryRunHost(host))

    def context(self, guest: TargetConfig) -> RunContext:
        return RunContext(self.host_for(guest), self.config, self.dry_run, self.options)

    def manager_of(self, guest: TargetConfig) -> Manager:
        manager = self.plugins.manager(guest.kind)
        assert manager is not None, "require_managers() runs first"
        return manager

    def run(self, verb: str, ids: Sequence[str | int]) -> RunResult:
        """Run ``verb`` (create, converge, plan, start, stop, restart, delete) on ``ids``.

        Without ids the verb takes every guest it can: see :meth:`managed_all`.
        """
        result = RunResult(verb, self.dry_run or verb == "plan")
        if ids:
            targets = self.resolve(ids)
            ordered = self.order(verb, targets)
            self.require_managers(ordered, targets)
        else:
            targets, result.outcomes = self.managed_all(verb)
            ordered = self.order(verb, targets)
        if verb == "delete" and not self.options.force:
            self._refuse_delete_with_dependents(targets)
        self._run_each(verb, ordered, result)
        return result

    def managed_all(self, verb: str) -> tuple[list[Id], list[Outcome]]:
        """Every guest an installed manager can handle, and a ``skipped`` outcome for the rest.

        A user with phoenix-lxc alone can still converge all containers whose dependency
        chain holds no VM; each guest left out is listed with the plugin that would handle it.
        """
        managed: list[Id] = []
        skipped: dict[Id, Outcome] = {}
        for ident in self.order("converge", self.all_ids()):
            guest = self.config.guests[ident]
            blocker = next((d for d in guest.requires if d in skipped), None)
            if self.plugins.manager(guest.kind) is None:
                dist = KIND_DISTRIBUTIONS.get(guest.kind, f"a plugin for {guest.kind}")
                note = f"no installed manager handles {guest.kind} guests (install {dist})"
            elif blocker is not None:
                note = f"requires {blocker}, which no installed manager handles"
            else:
                managed.append(ident)
                continue
            skipped[ident] = self._skipped(verb, guest, note)
            logger.warning("{}: skipped: {}", guest, note)
        wanted = set(managed)
        return [i for i in self.all_ids() if i in wanted], list(skipped.values())

    def letsgo(self) -> RunResult:
        """Converge every guest in dependency order, then start non-templates by boot order."""
        result = RunResult("LetsGo", self.dry_run)
        targets, result.outcomes = self.managed_all("converge")
        ordered = self.order("converge", targets)
        self._run_each("converge", ordered, result)
        if result.failed and not self.keep_going:
            return result
        failed = {o.id for o in result.failed}
        boot = sorted(
            (g for g in map(self.config.guests.__getitem__, ordered) if not g.is_template),
            key=lambda g: (
                UNORDERED_BOOT if g.common.boot_order is None else g.common.boot_order,
                g.id,
            ),
        )
        for guest in boot:
            if guest.id in failed:
                continue
            outcome = self._one("start", guest, result)
            if outcome.status == "changed" and guest.common.boot_delay and not self.dry_run:
                logger.info("{}: waiting boot_delay {} s", guest.id, guest.common.boot_delay)
                self.sleep(guest.common.boot_delay)
        return result

    def _run_each(self, verb: str, ordered: Sequence[Id], result: RunResult) -> None:
        failed: set[Id] = set()
        for ident in ordered:
            guest = self.config.guests[ident]
            blocked = [d for d in guest.requires if d in failed]
            if blocked:
                failed.add(ident)
                result.outcomes.append(
                    self._skipped(verb, guest, f"dependency {blocked[0]} failed")
                )
                continue
            outcome = self._one(verb, guest, result)
            if outcome.status == "failed":
                failed.add(ident)
                if not self.keep_going:
                    break

    def _skipped(self, verb: str, guest: TargetConfig, note: str) -> Outcome:
        return Outcome(guest.id, guest.kind, guest.name, verb, "skipped", note=note)

    def _one(self, verb: str, guest: TargetConfig, result: RunResult) -> Outcome:
        self._notify("phoenix_action_started", verb=verb, guest=guest, dry_run=result.dry_run)
        started = time.perf_counter()
        registered = self.plugins.by_kind[guest.kind]
        with logger.contextualize(manager=registered.spec.name, prefix=f"{guest.id} "):
            outcome = self._attempt(verb, guest, result.dry_run)
        outcome.duration = time.perf_counter() - started
        result.outcomes.append(outcome)
        self._notify("phoenix_action_finished", verb=verb, guest=guest, outcome=outcome)
        return outcome

    def _attempt(self, verb: str, guest: TargetConfig, dry_run: bool) -> Outcome:
        manager = self.manager_of(guest)
        ctx = self.context(guest)
        outcome = Outcome(guest.id, guest.kind, guest.name, verb, "ok")
        try:
            if verb in ("start", "restart") and guest.is_template:
                outcome.status, outcome.note = "skipped", "a template is never started"
                return outcome
            if verb == "create":
                state = manager.observe(guest, ctx)
                if state.exists:
                    outcome.status, outcome.note = "exists", "already exists, left alone"
                    logger.info("{} already exists, left alone", guest)
                    return outcome
            step_verb = "converge" if verb in ("create", "plan") else verb
            outcome.reports = run_steps(manager.steps(step_verb, guest, ctx), dry_run=dry_run)
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

    def _refuse_delete_with_dependents(self, targets: Sequence[Id]) -> None:
        wanted = set(targets)
        dependents = self.graph.dependents()
        for ident in targets:
            for dependent in dependents.get(ident, []):
                if dependent in wanted:
                    continue
                guest = self.config.guests[dependent]
                manager = self.plugins.manager(guest.kind)
                state = manager.observe(guest, self.context(guest)) if manager else None
                if state is None or state.exists:
                    raise UsageError(
                        f"refusing to delete {ident}: {guest} depends on it and exists; "
                        "delete it too, or pass --force"
                    )

    # -- status ------------------------------------------------------------------------------
    def status(self, ids: Sequence[str | int]) -> list[tuple[TargetConfig, GuestState | None]]:
        """Live state of each target (all guests when none given); None where no manager is installed."""
        targets = self.resolve(ids) if ids else self.all_ids()
        if ids:
            self.require_managers(targets, targets)
        rows = []
        for ident in targets:
            guest = self.config.guests[ident]
            manager = self.plugins.manager(guest.kind)
            rows.append((guest, manager.observe(guest, self.context(guest)) if manager else None))
        return rows

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call each observer on its own, so one observer's bug cannot silence the others."""
        for impl in getattr(self.plugins.hook, hook_name).get_hookimpls():
            try:
                impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                logger.warning(
                    "observer {} of {} raised {}: {}",
                    impl.plugin_name,
                    hook_name,
                    type(exc).__name__,
                    exc,
                )
