"""The host manager: what the core calls for the ``host`` target (and ``host:NODE``).

``steps("converge", ...)`` lists every feature's steps in :data:`FEATURES` order (all, or
those ``phoenix setup FEATURE...`` named). Each step is wrapped so that a feature that fails
skips only its own remaining steps and those of the features that need it; the others run,
and a last step fails the target naming every failed feature. Steps that need a reboot record
why in the context; ``setup`` prints it and reboots only with ``--allow-reboot``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from phoenix_core import checks as core
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.local import LocalHost
from phoenix_core.logs import logger
from phoenix_core.manager import GuestState, Resource, RunContext, StepVerb
from phoenix_core.steps import Change, Step
from phoenix_hypervisor import checks as host_checks
from phoenix_hypervisor.features import (
    ALLOW_REBOOT,
    Feature,
    HostContext,
    apparmor,
    cron,
    dns,
    firewall,
    hosts,
    nfs,
    nvidia,
    packages,
    samba,
    storage,
    timesync,
    users,
    vfio,
    zfs,
)
from phoenix_hypervisor.hostfs import NodeFiles, node_root
from phoenix_hypervisor.model import HostSpec, parse_spec
from phoenix_pve import health
from phoenix_pve.scripts import SearchPath
from phoenix_pve.shell import HostShell

#: The features, in the order setup runs them (docs/hypervisor.md lists the same).
FEATURES: tuple[Feature, ...] = (
    Feature("apt", "Proxmox no-subscription repository, enterprise disabled", packages.apt_steps),
    Feature("packages", "Debian packages the features need", packages.package_steps, ("apt",)),
    Feature("time", "time zone and chrony", timesync.steps, ("packages",)),
    Feature("hosts", "the node name resolves to its address", hosts.steps),
    Feature("zfs", "pools, datasets and properties, ARC limit", zfs.steps),
    Feature("storage", "Proxmox storages on the datasets", storage.steps, ("zfs",)),
    Feature("nfs", "exports and NFS storages", nfs.steps, ("packages", "zfs")),
    Feature("samba", "shares and the Samba user", samba.steps, ("packages", "zfs")),
    Feature("users", "admin account, sudo, Proxmox user and role", users.steps, ("packages",)),
    Feature("firewall", "datacenter firewall options and global rules", firewall.steps),
    Feature("nvidia", "host driver and persistence unit", nvidia.steps, ("packages",)),
    Feature("vfio", "PCI devices for VM passthrough, IOMMU flag", vfio.steps),
    Feature("apparmor", "the AppArmor profiles phoenix ships", apparmor.steps),
    Feature("dns", "dnsmasq for the domain, a record per guest", dns.steps, ("packages",)),
    Feature("cron", "the certificate-renewal cron entry", cron.steps),
)
NAMES = tuple(f.name for f in FEATURES)


class FeatureRun:
    """The failures of one run, so a failed feature stops only itself and its dependents."""

    def __init__(self) -> None:
        self.failed: dict[str, str] = {}

    def blocked(self, feature: Feature) -> str | None:
        if feature.name in self.failed:
            return feature.name
        return next((a for a in feature.after if a in self.failed), None)

    def guard(self, feature: Feature, step: Step) -> Step:
        def check() -> Sequence[Change]:
            if self.blocked(feature):
                return []
            return self._guarded(feature, step.check, ())

        def apply(changes: Sequence[Change]) -> None:
            self._guarded(feature, lambda: step.apply(changes), None)

        return Step(step.name, check, apply)

    def _guarded(self, feature: Feature, call: Callable[[], object], default: object) -> object:
        try:
            return call()
        except PhoenixError as exc:
            self.failed[feature.name] = str(exc)
            logger.error("setup {} failed: {}", feature.name, exc)
            for other in FEATURES:
                if feature.name in other.after and other.name not in self.failed:
                    logger.warning("setup {} skipped: it needs {}", other.name, feature.name)
            return default

    def summary(self) -> Step:
        def check() -> list[Change]:
            if self.failed:
                raise PhoenixError(
                    "setup failed for "
                    + "; ".join(f"{name}: {why}" for name, why in self.failed.items())
                )
            return []

        return Step("setup: result", check, lambda _changes: None)


def selected(only: Sequence[str]) -> list[Feature]:
    return [f for f in FEATURES if not only or f.name in only]


class HypervisorManager:
    """Converges the Proxmox node itself (see ``docs/hypervisor.md``)."""

    def __init__(self) -> None:
        #: The context of the last steps() call: setup reads its reboot reasons.
        self.last: HostContext | None = None

    def parse(self, target: TargetConfig, diagnostics: Diagnostics) -> HostSpec | None:
        return parse_spec(target, diagnostics)

    def validate(self, target: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        """Warn about every test script of ``tests`` that is not under ``tests/``: ``phoenix
        test host`` reports it as a failed test."""
        if target.spec is None:
            return
        for entry in test_entries(target.spec, Path(config.directory)):
            if entry.check is None:
                diagnostics.warn(target.file, entry.key, entry.problem)

    def checks(self, target: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix health-check host``: the checks of :mod:`phoenix_hypervisor.checks` for
        the features the file configures (each one read-only command or two)."""
        return host_checks.shipped(self.context(target, ctx))

    def tests(self, target: TargetConfig, ctx: RunContext) -> list[core.Check]:
        """``phoenix test host``: the file's ``tests`` suites, each script read by bash on the
        node (no guest id: the node is the target)."""
        entries = test_entries(target.spec, Path(ctx.config.directory))
        return health.runnable_entries(
            health.Target(ctx.host), HostShell(ctx.host), entries, timeout=health.TEST_TIMEOUT
        )

    def context(self, target: TargetConfig, ctx: RunContext) -> HostContext:
        root = node_root(ctx.config.hypervisor.pve_etc)
        return HostContext(
            host=ctx.host,
            files=NodeFiles(ctx.host, root),
            spec=target.spec,
            config=ctx.config,
            flags=ctx.options.flags,
            remote=not isinstance(getattr(ctx.host, "inner", ctx.host), LocalHost),
        )

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        """The node's state per feature, from the checks alone (no command changes anything)."""
        host = self.context(target, ctx)
        details = []
        for feature in FEATURES:
            try:
                changes = [c for s in feature.steps(host) for c in s.check()]
            except PhoenixError as exc:
                details.append((feature.name, f"failed: {exc}"))
                continue
            if changes:
                details.append((feature.name, f"drift ({len(changes)} changes)"))
            elif feature.name in host.reboot:
                details.append((feature.name, "reboot required"))
            else:
                details.append((feature.name, "in sync"))
        states = {state.split(" ")[0] for _, state in details}
        overall = next((s for s in ("failed:", "drift", "reboot") if s in states), "in").rstrip(":")
        shown = {"in": "in sync", "reboot": "reboot required"}.get(overall, overall)
        return GuestState(exists=True, status=shown, name=target.name, details=tuple(details))

    def resources(self, verb: StepVerb, target: TargetConfig, config: Config) -> set[Resource]:
        # Exclusive on its node: nothing else runs there while the host is being set up.
        return {Resource.node(target.common.node, shared=False)}

    def steps(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        if verb != "converge":
            return []
        host = self.context(target, ctx)
        self.last = host
        run = FeatureRun()
        steps = [
            run.guard(feature, step)
            for feature in selected(ctx.options.only)
            for step in feature.steps(host)
        ]
        return [*steps, reboot_step(host, run), run.summary()]


def test_entries(spec: HostSpec, config_dir: Path) -> list[health.Entry]:
    """The ``tests`` suites' cases, resolved under ``tests/``; on the node whatever their
    ``where`` says (a node has no guest to push them into)."""
    suites = {
        name: [attrs.evolve(case, where="host") for case in cases]
        for name, cases in spec.tests.items()
    }
    return health.test_cases(suites, SearchPath(config_dir, "hypervisor"))


def reboot_step(host: HostContext, run: FeatureRun) -> Step:
    """Reboots only with ``--allow-reboot`` and when every feature succeeded (a half set-up
    node is left running for the operator); otherwise the reasons stay in the context."""

    def check() -> list[Change]:
        if host.reboot and host.allowed(ALLOW_REBOOT) and not run.failed:
            return [Change("reboot", "pending", "now", "; ".join(host.reboot.values()))]
        return []

    def apply(changes: Sequence[Change]) -> None:
        host.change(["systemctl", "reboot"])

    return Step("reboot", check, apply)
