"""The host manager: what the core calls for the host targets (``host``, ``host:NODE``) and
their features (``host:zfs``, ``host:NODE:zfs``).

Each feature is a target of its own whose ``converge`` steps are that feature's; a host
target requires all its features and has no steps of its own. The core orders them by
:data:`~phoenix_hypervisor.order.NEEDS` and skips a feature whose needed feature failed, so
a failed feature stops only itself and those that need it. A guest requires the features
that :meth:`HypervisorManager.provides` names for what its manager says it needs (its
storages, GPU driver, AppArmor profile, NFS exports); the core only checks those unless
the run applies them. A step that needs a reboot records why in the run context, which the
engine puts in the outcome; ``setup`` prints it and reboots only with ``--allow-reboot``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

import attrs

from phoenix_core import checks as core
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.local import LocalHost
from phoenix_core.manager import BaseManager, GuestState, HostNeed, Resource, RunContext, StepVerb
from phoenix_core.steps import Change, Step
from phoenix_hypervisor import checks as host_checks
from phoenix_hypervisor.features import (
    Feature,
    HostContext,
    PackageLists,
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
from phoenix_hypervisor.hostfs import NodeFiles
from phoenix_hypervisor.model import HostSpec, parse_spec
from phoenix_pve import health
from phoenix_pve import storages as node_storages
from phoenix_pve.scripts import SearchPath
from phoenix_pve.shell import HostShell

#: The features, in the order setup runs them (docs/hypervisor.md lists the same); what each
#: needs first is :data:`~phoenix_hypervisor.order.NEEDS`.
FEATURES: tuple[Feature, ...] = (
    Feature("apt", "Proxmox no-subscription repository, enterprise disabled", packages.apt_steps),
    Feature("packages", "Debian packages the features need", packages.package_steps),
    Feature("time", "time zone and chrony", timesync.steps),
    Feature("hosts", "the node name resolves to its address", hosts.steps),
    Feature("zfs", "pools, datasets and properties, ARC limit", zfs.steps),
    Feature("storage", "Proxmox storages on the datasets", storage.steps),
    Feature("nfs", "exports and NFS storages", nfs.steps),
    Feature("samba", "shares and the Samba user", samba.steps),
    Feature("users", "admin account, sudo, Proxmox user and role", users.steps),
    Feature("firewall", "datacenter firewall options and global rules", firewall.steps),
    Feature("nvidia", "host driver and persistence unit", nvidia.steps),
    Feature("vfio", "PCI devices for VM passthrough, IOMMU flag", vfio.steps),
    Feature("apparmor", "the AppArmor profiles phoenix ships", apparmor.steps),
    Feature("dns", "dnsmasq for the domain, a record per guest", dns.steps),
    Feature("cron", "the certificate-renewal cron entry", cron.steps),
)
NAMES = tuple(f.name for f in FEATURES)
BY_NAME = {f.name: f for f in FEATURES}


class HypervisorManager(BaseManager):
    """Converges the Proxmox node itself (see ``docs/hypervisor.md``)."""

    def parse(self, target: TargetConfig, diagnostics: Diagnostics) -> HostSpec | None:
        return parse_spec(target, diagnostics)

    def validate(self, target: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        """Warn about every test script of ``tests`` that is not under ``tests/``: ``phoenix
        test host`` reports it as a failed test."""
        if target.spec is None or target.part is not None:
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
        return HostContext(
            host=ctx.host,
            files=NodeFiles(ctx.host),
            spec=target.spec,
            config=ctx.config,
            flags=ctx.options.flags,
            remote=not isinstance(getattr(ctx.host, "inner", ctx.host), LocalHost),
            reboot=ctx.reboot,
            lists=ctx.scope.get(("phoenix_hypervisor.lists", target.common.node), PackageLists),
            reads=ctx.scope.get(("phoenix_hypervisor.reads", target.common.node), dict),
        )

    def features(self, target: TargetConfig) -> Sequence[Feature]:
        """The features a target stands for: its own, or all of a host's."""
        return FEATURES if target.part is None else [BY_NAME[target.part]]

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        """The node's state per feature, from the checks alone (no command changes anything)."""
        host = self.context(target, ctx)
        details = []
        for feature in self.features(target):
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
        """A feature's steps; a host has none of its own (it requires its features)."""
        if verb != "converge" or target.part is None:
            return []
        return [
            _rereads_storages(s, ctx) for s in BY_NAME[target.part].steps(self.context(target, ctx))
        ]

    def provides(self, need: HostNeed, host: TargetConfig) -> str | None:
        """The feature that makes what a guest needs, or None when phoenix does not make it
        (a storage the installer created, a profile phoenix does not ship)."""
        spec: HostSpec | None = host.spec
        if spec is None:
            return None
        if need.what == "storage":
            if need.value in {spec.storage_id(d) for d in spec.zfs.datasets}:
                return "storage"
            if need.value in {nfs.storage_id(e.path) for e in spec.nfs.exports}:
                return "nfs"
            return None
        if need.what == "export":
            exports = {posixpath.normpath(e.path) for e in spec.nfs.exports}
            return "nfs" if posixpath.normpath(need.value) in exports else None
        if need.what == "apparmor":
            return "apparmor" if need.value in apparmor.shipped() else None
        return {"gpu": "nvidia", "pci": "vfio"}.get(need.what)


def _rereads_storages(step: Step, ctx: RunContext) -> Step:
    """``step``, after whose apply the run reads the node's storages again: a feature may add
    or reconfigure a storage, or what one rests on (a pool, a dataset, an NFS mount), and a
    guest created later in the run must see it (``pvesm status``, ``pveam list`` and ``pvesm
    list`` are read once per run and node, :mod:`phoenix_pve.storages`). Also after a failed
    apply: part of it may have been made."""

    def apply(changes: Sequence[Change]) -> None:
        try:
            step.apply(changes)
        finally:
            node_storages.changed(ctx)

    return attrs.evolve(step, apply=apply)


def test_entries(spec: HostSpec, config_dir: Path) -> list[health.Entry]:
    """The ``tests`` suites' cases, resolved under ``tests/``; on the node whatever their
    ``where`` says (a node has no guest to push them into)."""
    suites = {
        name: [attrs.evolve(case, where="host") for case in cases]
        for name, cases in spec.tests.items()
    }
    return health.test_cases(suites, SearchPath(config_dir, "hypervisor"))
