"""The contract between the core and a manager plugin.

A manager owns one kind of target: guests configured in a file (``lxc``, ``vm``, or a kind a
third party adds) or the host itself. The core loads the configuration, orders the targets and
drives the verbs; the manager answers, for a target: its typed configuration
(:meth:`Manager.parse`), its live state (:meth:`Manager.observe`), what it holds while acting
(:meth:`Manager.resources`), and which :class:`~phoenix_core.steps.Step` objects bring it to
the state a verb asks for (:meth:`Manager.steps`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import attrs

from phoenix_core.hosts.probe import NodeProbe
from phoenix_core.layout import GuestFile, HostTargets
from phoenix_core.names import DEFAULT_NODE
from phoenix_core.verbs import StepVerb

if TYPE_CHECKING:
    from pathlib import Path

    from phoenix_core.config.diagnostics import Diagnostics
    from phoenix_core.config.models import Config, TargetConfig
    from phoenix_core.hosts.base import Host
    from phoenix_core.steps import Step

T = TypeVar("T")

#: The manager API version this core speaks. Every :class:`ManagerSpec` names the version it
#: was written for (there is no default), and a version this core does not support is refused,
#: so a plugin built for another contract fails loudly instead of half-working.
API_VERSION = 2
SUPPORTED_API_VERSIONS = frozenset({API_VERSION})


@attrs.frozen
class Resource:
    """Something an action holds while it runs; two actions holding one never overlap.

    Names are ``guest:<id>`` (its config lock), ``storage:<node>:<id>`` (heavy allocation:
    a template download, a disk import) and ``node:<name>``. A ``shared`` hold only excludes
    exclusive holds of the same name: every guest action holds its node shared, host setup
    holds it exclusively. A ``brief`` hold is taken only around one operation, through
    :meth:`RunContext.holding` (a clone holds its source while the clone command runs);
    declaring it lets the engine see that the actions needing it form a chain.
    """

    name: str
    shared: bool = False
    brief: bool = attrs.field(default=False, eq=False)

    @classmethod
    def guest(cls, ident: object, *, brief: bool = False) -> Resource:
        return cls(f"guest:{ident}", brief=brief)

    @classmethod
    def storage(cls, node: str | None, storage: str, *, brief: bool = False) -> Resource:
        return cls(f"storage:{node or DEFAULT_NODE}:{storage}", brief=brief)

    @classmethod
    def node(cls, name: str | None, *, shared: bool) -> Resource:
        return cls(f"node:{name or DEFAULT_NODE}", shared)


@attrs.frozen
class HostNeed:
    """What a guest needs its node's host to provide, in the guest's own terms: ``what`` is
    ``storage`` (a Proxmox storage id), ``gpu`` (a GPU driver), ``apparmor`` (a profile
    name), ``pci`` (a device for passthrough) or ``export`` (an NFS export path); ``value``
    says which. The host manager's ``provides`` maps each to the part of the host that makes
    it (or None: the host has it without phoenix)."""

    what: str
    value: str


@attrs.frozen
class Claim:
    """Something a target holds that no other target may hold too: ``namespace`` names what
    (``IP``, ``MAC``, ``port``), ``value`` which one, ``path`` the JSON path in the target's
    file where it is written. The core reports two targets claiming one (namespace, value),
    whatever their kinds, naming both files and paths."""

    namespace: str
    value: str
    path: str


#: :meth:`RunContext.holding`, as a step takes it: hold a resource around one operation.
Holding = Callable[[Resource], "contextlib.AbstractContextManager[None]"]


@attrs.frozen(kw_only=True)
class ManagerSpec:
    """What a plugin registers through ``phoenix_register_managers``.

    ``kind`` names the targets the manager owns (``lxc``, ``vm``, ``hypervisor``); ``config``
    says where they are configured: a :class:`GuestFile` layout, or :class:`HostTargets`.
    ``factory`` builds the manager lazily, so registering costs nothing at ``phoenix --help``.
    ``api_version`` is the manager API the plugin was written for: required, compared with
    :data:`SUPPORTED_API_VERSIONS`. ``node_probe`` says what a host must be for the manager to
    change it (phoenix-pve's: a Proxmox VE node); the engine confirms it once per host and run
    before the first command there, and refuses the run (exit 2) on a host that is not.
    """

    name: str
    kind: str
    factory: Callable[[], Manager]
    api_version: int
    config: GuestFile | HostTargets
    description: str = ""
    node_probe: NodeProbe | None = None
    #: Top-level keys of the hypervisor file the manager reads (two managers may share one);
    #: the core declares none of them. Its :meth:`Manager.parse_settings` types them. A key
    #: no installed manager declares is an error when a :class:`HostTargets` manager (which
    #: owns the file) is installed, else a warning. Optional: added in API version 2.
    sections: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)
    #: Keys of the hypervisor file's ``core_paths`` the manager reads (its layout's
    #: ``path_key`` is its own already). Optional, like :attr:`sections`.
    paths: frozenset[str] = attrs.field(default=frozenset(), converter=frozenset)


@attrs.frozen
class GuestState:
    """What the node says about a guest right now."""

    exists: bool
    status: str | None = None
    lock: str | None = None
    template: bool = False
    name: str | None = None
    #: A converge of this guest ran to its end at least once, as recorded on the node (so any
    #: workstation sees it). None: the manager does not record it. ``create`` of a dependent
    #: leaves an existing dependency alone only when this is True, and finishes it otherwise.
    build_complete: bool | None = None
    #: Parts of the target and the state of each (a host's features: ``in sync``, ``drift``,
    #: ``reboot required``), which ``status`` lists under the target's row.
    details: tuple[tuple[str, str], ...] = ()
    #: The guest's IP addresses as it reports them (a VM's guest agent); empty when unknown.
    addresses: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.status == "running"


MISSING = GuestState(exists=False)


@attrs.frozen
class FoundGuest:
    """A guest a manager found on the node, described by a configuration file or not
    (``status --all``, ``import``)."""

    id: int
    node: str
    state: GuestState


#: The ``--rerun-features`` value that means every feature and application script.
ALL_FEATURES = "all"
#: ``status --addresses`` (in :attr:`VerbOptions.flags`): read the addresses each running
#: guest reports, which may cost a call per guest (a VM's guest agent); without it a status
#: reads the node in a constant number of calls and lists no addresses.
ADDRESSES = "addresses"


@attrs.frozen
class VerbOptions:
    """The flags of the verb being run, as the command line gave them.

    ``timeout`` is the clean-shutdown budget of ``stop``/``restart``/``delete`` in seconds
    (None: the manager's default); ``force`` lets ``delete`` go on while dependents exist.
    ``rerun_features`` names feature or application scripts that ``converge``/``create`` run
    again although already applied with the same content (:data:`ALL_FEATURES`: every one).
    ``lock_timeout`` is how long a command refused because another operation holds a lock
    on the node is retried, in seconds (None: the manager's default).
    A plugin's own verb passes its switches in ``flags`` (``allow-destructive``).
    ``restart_if_needed`` lets ``converge`` restart a running guest whose configuration
    changes wait for a reboot (otherwise they are only reported). ``with_host`` applies the
    host parts the guests need instead of only checking them.
    """

    force: bool = False
    timeout: int | None = None
    rerun_features: frozenset[str] = frozenset()
    lock_timeout: float | None = None
    flags: frozenset[str] = frozenset()
    restart_if_needed: bool = False
    with_host: bool = False

    def rerun(self, name: str) -> bool:
        """Was a rerun of script ``name`` asked for?"""
        return name in self.rerun_features or ALL_FEATURES in self.rerun_features


class RunScope:
    """What the actions of one run share: a manager keeps here what it reads once per run
    (a node's state, read in a constant number of calls), so each action need not read it
    again. The core never looks inside; one scope lives as long as one verb's run."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under ``key``, made by ``make()`` by the first action that asks
        (``make`` must be quick: it runs under the scope's lock; read lazily later)."""
        with self._lock:
            if key not in self._values:
                self._values[key] = make()
            value: T = self._values[key]
            return value


@attrs.define
class RunContext:
    """Everything a manager needs to act on one target.

    ``host`` is the node the target lives on (already wrapped for dry runs), ``config`` the
    whole loaded configuration, ``options`` the verb's flags.

    :meth:`holding` holds a resource for one operation (a clone's source while the clone
    command runs, a storage while a template downloads): it waits while another action holds
    it, so Proxmox's own locks are not fought. A manager starts the guest inside
    ``with ctx.starting():``: under ``LetsGo`` it waits for the guest's boot group, and later
    groups wait until the block is done. ``scope`` is shared by every action of the run.

    ``reboot`` collects why the node needs a reboot (a driver installed): steps add to it, the
    engine puts it in the action's outcome.
    """

    host: Host
    config: Config
    dry_run: bool = False
    options: VerbOptions = VerbOptions()
    acquire: Callable[[Resource], None] = lambda _resource: None
    release: Callable[[Resource], None] = lambda _resource: None
    starting: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
    scope: RunScope = attrs.field(factory=RunScope)
    reboot: dict[str, str] = attrs.Factory(dict)

    @contextlib.contextmanager
    def holding(self, resource: Resource) -> Iterator[None]:
        """Hold ``resource`` for the duration of the block."""
        self.acquire(resource)
        try:
            yield
        finally:
            self.release(resource)


@runtime_checkable
class Manager(Protocol):
    """Implemented by every manager plugin (see ``docs/plugins/hooks.md``);
    :class:`BaseManager` gives every method but :meth:`observe` and :meth:`steps` a default.

    A manager may also set ``config_model``, the attrs class of its spec, from which
    ``phoenix config schema <kind>`` generates the JSON Schema of its targets, and a guest
    manager may implement :class:`GuestDiscovery` for ``status --all`` and ``import``.
    """

    def parse(self, target: TargetConfig, diagnostics: Diagnostics) -> Any:
        """Validate the target's own keys and return the manager's typed spec.

        Report problems with ``diagnostics.error``/``warn`` (naming the JSON path) rather than
        raising, so one run lists every mistake. Called once per target at load time; the
        result is stored in ``target.spec``.
        """
        ...

    def validate(self, target: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        """Checks that need the whole configuration, once every target parsed (a script on the
        search path, an address another guest uses too)."""
        ...

    def parse_settings(
        self, file: Path, sections: Mapping[str, Any], diagnostics: Diagnostics
    ) -> Any:
        """Validate the hypervisor-file sections the manager's spec declares
        (:attr:`ManagerSpec.sections`, those present) and return its typed settings, kept in
        ``Config.settings`` under the manager's kind. Called once per load, before
        :meth:`parse`."""
        ...

    def claims(self, target: TargetConfig) -> Sequence[Claim]:
        """What the target holds that must be unique among all targets (an IP address, a
        published port), once parsed; the core reports duplicates across every kind."""
        ...

    def host_needs(self, target: TargetConfig, config: Config) -> Sequence[HostNeed]:
        """What the target needs its node's host to provide (its storages, GPU driver,
        AppArmor profile ...), read from its configuration at load time."""
        ...

    def provides(self, need: HostNeed, host: TargetConfig) -> str | None:
        """A host manager's answer: the part of ``host`` that provides ``need``, or None."""
        ...

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        """Read the target's live state with queries only."""
        ...

    def resources(self, verb: StepVerb, target: TargetConfig, config: Config) -> set[Resource]:
        """What acting on ``target`` for ``verb`` holds, from configuration alone.

        At least :meth:`Resource.guest` of the target itself (the engine adds it), and its
        node shared. The engine never runs two actions holding one resource together
        (``shared`` holds excepted), so Proxmox's own locks are not fought. What one step
        needs for one operation (a clone's source) is declared ``brief`` and held with
        :meth:`RunContext.holding` around that operation.
        """
        ...

    def steps(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        """The steps that bring the target to what ``verb`` asks, in order."""
        ...

    def verify(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        """Steps that only look (health checks), run after :meth:`steps` succeeded; the engine
        skips them in a dry run, where what they would look at was not built."""
        ...


class BaseManager:
    """Defaults of the :class:`Manager` contract: a manager subclasses it and writes what
    differs, at least :meth:`observe` and :meth:`steps` (health checks and tests are the
    optional :class:`~phoenix_core.checks.HealthChecks` methods).

    ``config_model`` is the attrs class of a target's own keys: the default :meth:`parse`
    structures them with the shared strict converter (unknown keys are errors with the nearest
    known key suggested), and ``phoenix config schema <kind>`` describes it.
    """

    config_model: type | None = None
    #: The attrs class of the hypervisor-file sections the spec declares: the default
    #: :meth:`parse_settings` structures them with it (unknown keys are errors).
    settings_model: type | None = None

    def parse_settings(
        self, file: Path, sections: Mapping[str, Any], diagnostics: Diagnostics
    ) -> Any:
        """The declared sections structured as :attr:`settings_model`; None without one."""
        if self.settings_model is None:
            return None
        return diagnostics.structure(file, "", dict(sections), self.settings_model)

    def claims(self, target: TargetConfig) -> Sequence[Claim]:
        """Nothing unique by default."""
        return []

    def parse(self, target: TargetConfig, diagnostics: Diagnostics) -> Any:
        """The target's own keys (not the ones every guest has) structured as
        :attr:`config_model`; None without a model."""
        if self.config_model is None:
            return None
        from phoenix_core.config.models import COMMON_KEYS

        own = {k: v for k, v in target.raw.items() if k not in COMMON_KEYS}
        return diagnostics.structure(target.file, target.path, own, self.config_model)

    def validate(self, target: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
        """Nothing beyond :meth:`parse` by default."""

    def host_needs(self, target: TargetConfig, config: Config) -> Sequence[HostNeed]:
        """Nothing of the host by default."""
        return []

    def provides(self, need: HostNeed, host: TargetConfig) -> str | None:
        """Not a host manager: no part provides anything."""
        return None

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        raise NotImplementedError(f"{type(self).__name__} must say how to observe a target")

    def resources(self, verb: StepVerb, target: TargetConfig, config: Config) -> set[Resource]:
        """The target itself and its node, shared."""
        return {Resource.guest(target.id), Resource.node(target.common.node, shared=True)}

    def steps(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        raise NotImplementedError(f"{type(self).__name__} must say which steps {verb} runs")

    def verify(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        """No health checks after a verb by default."""
        return []


class GuestDiscovery(Protocol):
    """Optional methods of a guest manager: the guests of its kind on the node, described by a
    file or not (``status --all``), and the entry describing one (``import``)."""

    def inventory(self, ctx: RunContext) -> Sequence[FoundGuest]:
        """Every guest of the manager's kind on the node ``ctx.host``, with queries only
        (``ctx.scope`` is the run's: what the status rows read of the node is shared)."""
        ...

    def describe(self, vmid: int, ctx: RunContext) -> dict[str, Any] | None:
        """The JSON entry of guest ``vmid`` in the file's format (its id under the layout's
        ``id_key`` if it has one), as the manager's steps compare it, so the next ``plan`` finds
        nothing to change; None when ``vmid`` is not a guest of this kind."""
        ...

    def adopt(self, vmid: int, ctx: RunContext) -> None:
        """Once the entry is written: record on the node what a converge would have."""
        ...
