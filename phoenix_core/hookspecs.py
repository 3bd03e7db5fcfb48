"""Hook specifications: what a phoenix plugin can implement.

A plugin is a module named by an entry point in the ``phoenix.managers`` group. It
implements any of these hooks with the :data:`hookimpl` marker::

    from phoenix_core.hookspecs import hookimpl
    from phoenix_core.manager import ManagerSpec

    @hookimpl
    def phoenix_register_managers(register):
        register(ManagerSpec(name="lxc", kind="lxc", factory=LxcManager))

Hook modules should import only the standard library and ``phoenix_core`` at import time;
heavy imports belong inside the functions that use them, so ``phoenix --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from phoenix_core.config.models import TargetConfig
    from phoenix_core.engine import Outcome
    from phoenix_core.manager import ManagerSpec

PROJECT = "phoenix"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def phoenix_register_managers(register: Callable[[ManagerSpec], None]) -> None:
    """Register the managers this plugin provides.

    Called once per run, right after the plugin is loaded, before any configuration is read.

    :param register: call it once per manager with a :class:`~phoenix_core.manager.ManagerSpec`.
        The core refuses a spec whose ``kind`` or ``name`` another plugin already registered
        (naming both distributions) and a spec whose ``api_version`` it does not support.

    The return value is ignored.
    """


@hookspec
def phoenix_register_commands(cli: click.Group) -> None:
    """Add verbs of this plugin to the ``phoenix`` command line.

    Called once per run while the command line is built (so also for ``--help``): keep it cheap.

    :param cli: a click group private to this plugin; add commands with ``@cli.command()`` or
        ``cli.add_command(...)``. The core copies them onto the root group and refuses a verb
        name that the core or another plugin already has, naming both distributions.

    The return value is ignored. Commands receive the run's state with
    ``click.get_current_context().obj`` (a :class:`phoenix_core.cli.App`).
    """


@hookspec
def phoenix_action_started(verb: str, guest: TargetConfig, dry_run: bool) -> None:
    """Observe the start of a verb on one guest (before any command runs for it).

    :param verb: the verb being run for this guest: ``create``, ``converge``, ``start``,
        ``stop``, ``restart``, ``delete``.
    :param guest: the guest's configuration.
    :param dry_run: True for ``plan`` and ``--dry-run``, when nothing is changed.

    The return value is ignored. An exception raised here is logged and does not stop the run.
    """


@hookspec
def phoenix_action_finished(verb: str, guest: TargetConfig, outcome: Outcome) -> None:
    """Observe the end of a verb on one guest, successful or not.

    :param verb: as for :func:`phoenix_action_started`.
    :param guest: the guest's configuration.
    :param outcome: what happened: ``outcome.status`` (``ok``, ``changed``, ``exists``,
        ``planned``, ``failed``, ``skipped``), the step reports and the error, if any.

    Use it to trigger integrations when a guest is ready (a sync, a notification) without
    changing any manager. The return value is ignored; exceptions are logged, not raised.
    """
