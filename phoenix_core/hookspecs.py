"""Hook specifications: what a phoenix plugin can implement.

A plugin is a module named by an entry point in the ``phoenix.managers`` group. It
implements any of these hooks with the :data:`hookimpl` marker::

    from phoenix_core.hookspecs import hookimpl
    from phoenix_core.layout import GuestFile
    from phoenix_core.manager import ManagerSpec

    @hookimpl
    def phoenix_register_managers(register):
        register(ManagerSpec(name="lxc", kind="lxc", factory=LxcManager,
                             api_version=2, config=GuestFile(...)))

Hook modules should import only the standard library and ``phoenix_core`` at import time;
heavy imports belong inside the functions that use them, so ``phoenix --help`` stays fast.
``docs/plugins/hooks.md`` repeats every docstring below; a test keeps the two the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from phoenix_core.config.models import TargetConfig
    from phoenix_core.manager import ManagerSpec
    from phoenix_core.outcome import Outcome

PROJECT = "phoenix"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def phoenix_register_managers(register: Callable[[ManagerSpec], None]) -> None:
    """Register the managers this plugin provides.

    Called once per run, right after the plugin is loaded, before any configuration is read.

    :param register: call it once per manager with a ``phoenix_core.manager.ManagerSpec``
        naming the manager, the kind of targets it owns, its factory, the manager API version
        it was written for, and where its targets are configured (a ``GuestFile`` layout, or
        ``HostTargets``). The core refuses a spec that claims a kind, name, file, hypervisor
        section or the host targets another plugin already claimed (naming both
        distributions), and a spec whose ``api_version`` it does not support.

    The return value is ignored. If this hook raises, the plugin is skipped whole.
    """


@hookspec
def phoenix_register_commands(cli: click.Group) -> None:
    """Add verbs of this plugin to the ``phoenix`` command line.

    Called once per run while the command line is built (so also for ``--help``): keep it cheap.

    :param cli: a click group private to this plugin; add commands with ``@cli.command()`` or
        ``cli.add_command(...)``. The core copies them onto the root group and refuses a verb
        name that the core or another plugin already has, naming both distributions.

    The return value is ignored. Commands receive the run's state with
    ``click.get_current_context().obj`` (a ``phoenix_core.app.App``).
    """


@hookspec
def phoenix_action_started(verb: str, target: TargetConfig, dry_run: bool) -> None:
    """Observe the start of a verb on one target (before any command runs for it).

    :param verb: the verb being run for this target: ``create``, ``converge``, ``plan``,
        ``start``, ``stop``, ``restart``, ``delete``.
    :param target: the target's configuration: a guest, or a host target (``target.is_host``).
    :param dry_run: True for ``plan`` and ``--dry-run``, when nothing is changed.

    Called through pluggy: ``tryfirst``, ``trylast`` and ``wrapper=True`` work as pluggy
    documents them. The return value is ignored. An exception raised here is logged with
    the plugin's name; the run and the other observers go on.
    """


@hookspec
def phoenix_action_finished(verb: str, target: TargetConfig, outcome: Outcome) -> None:
    """Observe the end of a verb on one target, successful or not.

    :param verb: as for ``phoenix_action_started``.
    :param target: as for ``phoenix_action_started``.
    :param outcome: what happened: ``outcome.status`` (``ok``, ``changed``, ``exists``,
        ``planned``, ``failed``, ``skipped``), the step reports and the error, if any.

    Use it to trigger integrations when a target is ready (a sync, a notification) without
    changing any manager. Called through pluggy like ``phoenix_action_started``; the
    return value is ignored and exceptions are logged, not raised.
    """
