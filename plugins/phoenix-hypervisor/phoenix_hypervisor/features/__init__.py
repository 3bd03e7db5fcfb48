"""Host features: named sets of steps, in the fixed order setup runs them.

A feature's steps are ordinary :class:`~phoenix_core.steps.Step` objects (read-only check,
apply only what the check found), so ``plan host``, ``setup --dry-run`` and a second run that
changes nothing come from the core. The manager wraps them so that a feature that fails stops
only its own remaining steps (and those of features that need it); the others still run and
the host target fails at the end, naming each failed feature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import attrs

from phoenix_core.config.models import Config
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import CommandResult, Host
from phoenix_core.steps import Step
from phoenix_hypervisor.hostfs import NodeFiles
from phoenix_hypervisor.model import HostSpec

#: The switches of ``phoenix setup`` (VerbOptions.flags).
ALLOW_DESTRUCTIVE = "allow-destructive"
ALLOW_NETWORK_CHANGE = "allow-network-change"
#: Seconds after which a network change made over SSH is undone unless phoenix, still
#: reaching the node, cancels the revert.
NETWORK_REVERT_AFTER = 120


class FeatureFailed(PhoenixError):
    """A feature cannot go on (a disk with data on it): its other steps are skipped."""


@attrs.define
class PackageLists:
    """The node's apt package lists during one run: refreshed (``apt-get update``) by the
    first step that needs them fresh, and not again unless a source changes. ``apt`` and
    ``packages`` are targets of their own, so this lives in the run's scope, one per node
    (see :meth:`~phoenix_hypervisor.manager.HypervisorManager.context`), not in a target's
    context."""

    _fresh: bool = False
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def sources_changed(self) -> None:
        """A repository was added or changed: the next :meth:`refresh` reads the lists."""
        with self._lock:
            self._fresh = False

    def refresh(self, change: Callable[[Sequence[str]], object]) -> None:
        """Run ``apt-get update`` through ``change`` unless this run already did since the
        last source change."""
        with self._lock:
            if not self._fresh:
                change(["apt-get", "update"])
                self._fresh = True


@attrs.define
class HostContext:
    """What a feature's steps share: the node, its files, the spec and the verb's switches.

    ``reboot`` collects why a reboot is needed (a driver installed, an initramfs rebuilt):
    the run context's, which the engine puts in the outcome; steps add to it and the run
    goes on.
    """

    host: Host
    files: NodeFiles
    spec: HostSpec
    config: Config
    flags: frozenset[str] = frozenset()
    #: phoenix reaches the node over the network (SSH), not as a local process: a change to
    #: how the node is reached could cut phoenix (and the operator) off.
    remote: bool = False
    reboot: dict[str, str] = attrs.Factory(dict)
    #: The node's package lists, shared by every feature of the run on this node.
    lists: PackageLists = attrs.Factory(PackageLists)
    _reads: dict[tuple[str, ...], CommandResult] = attrs.Factory(dict)

    def allowed(self, flag: str) -> bool:
        return flag in self.flags

    def query(self, argv: Sequence[str]) -> CommandResult:
        return self.host.query(list(argv))

    def read_once(self, argv: Sequence[str]) -> CommandResult:
        """A read the features share (``zpool list``, ``lspci``, ``pvesh get /storage``):
        run once until the next change, so each tool is read once per run, not once per
        feature or item (the reads live in the run's scope, one set per node; every
        Proxmox tool call is a Perl start-up on the node)."""
        key = tuple(argv)
        if key not in self._reads:
            self._reads[key] = self.query(argv)
        return self._reads[key]

    def change(self, argv: Sequence[str], *, input: str | None = None) -> CommandResult:
        """A mutating command; a failure raises with the tool's message."""
        self._reads.clear()
        return self.host.change(list(argv), input=input).check()

    def ensure_dir(self, absolute: str) -> None:
        self.change(["mkdir", "-p", "--", self.files.path(absolute)])


@attrs.frozen
class Feature:
    """One line of ``phoenix setup``: ``name`` (what users type) and its steps (the features
    it needs first are :data:`~phoenix_hypervisor.order.NEEDS`)."""

    name: str
    summary: str
    steps: Callable[[HostContext], list[Step]]
