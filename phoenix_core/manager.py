"""The contract between the core and a manager plugin.

A manager owns one kind of guest (``lxc``, ``vm``) or the host itself. The core loads the
configuration, orders the targets and drives the verbs; the manager answers three questions
for an id: what its typed configuration is (:meth:`Manager.parse`), what state it is in now
(:meth:`Manager.observe`), and which :class:`~phoenix_core.steps.Step` objects bring it to the
state a verb asks for (:meth:`Manager.steps`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from phoenix_core.config.diagnostics import Diagnostics
    from phoenix_core.config.models import Config, TargetConfig
    from phoenix_core.hosts.base import Host
    from phoenix_core.steps import Step

#: The manager API version this core speaks. A manager declaring another one is refused,
#: so a plugin built for a future contract fails loudly instead of half-working.
API_VERSION = 1
SUPPORTED_API_VERSIONS = frozenset({1})

#: Verbs a manager turns into steps. ``create`` is ``converge`` of a guest that is missing.
StepVerb = Literal["converge", "start", "stop", "restart", "delete"]


@attrs.frozen
class ManagerSpec:
    """What a plugin registers through ``phoenix_register_managers``.

    ``kind`` is the kind of guest the manager owns: ``lxc`` for ids from
    ``phoenix_lxc_configs.json``, ``vm`` for ids from ``phoenix_vm_configs.json``. ``factory``
    builds the manager lazily, so registering costs nothing at ``phoenix --help``.
    """

    name: str
    kind: str
    factory: Callable[[], Manager]
    api_version: int = API_VERSION
    description: str = ""


@attrs.frozen
class GuestState:
    """What the node says about a guest right now."""

    exists: bool
    status: str | None = None
    lock: str | None = None
    template: bool = False
    name: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"


MISSING = GuestState(exists=False)


@attrs.frozen
class VerbOptions:
    """The flags of the verb being run, as the command line gave them.

    ``timeout`` is the clean-shutdown budget of ``stop``/``restart``/``delete`` in seconds
    (None: the manager's default); ``force`` lets ``delete`` go on while dependents exist.
    """

    force: bool = False
    timeout: int | None = None


@attrs.define
class RunContext:
    """Everything a manager needs to act on one target.

    ``host`` is the node the target lives on (already wrapped for dry runs), ``config`` the
    whole loaded configuration, ``options`` the verb's flags.
    """

    host: Host
    config: Config
    dry_run: bool = False
    options: VerbOptions = VerbOptions()


@runtime_checkable
class Manager(Protocol):
    """Implemented by every manager plugin (see ``docs/plugins/hooks.md``)."""

    def parse(self, guest: TargetConfig, diagnostics: Diagnostics) -> Any:
        """Validate the guest's own keys and return the manager's typed spec.

        Report problems with ``diagnostics.error``/``warn`` (naming the JSON path) rather than
        raising, so one run lists every mistake. Called once per guest at load time.
        """
        ...

    def observe(self, guest: TargetConfig, ctx: RunContext) -> GuestState:
        """Read the guest's live state with queries only."""
        ...

    def steps(self, verb: StepVerb, guest: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        """The steps that bring the guest to what ``verb`` asks, in order."""
        ...
