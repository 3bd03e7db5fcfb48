"""The hooks. ``phoenix --help`` imports this module: keep it to the stdlib and phoenix_core."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from phoenix_core.hookspecs import hookimpl
from phoenix_core.layout import GuestFile
from phoenix_core.manager import ManagerSpec

if TYPE_CHECKING:
    import click

    from phoenix_core.config.models import TargetConfig
    from phoenix_core.manager import Manager
    from phoenix_core.outcome import Outcome

#: Where hello targets are configured: ``{"greetings": {"120": {...}}}`` in their own file.
LAYOUT = GuestFile(file="phoenix_hello_configs.json", key="greetings")
#: The section of ``phoenix_hypervisor_config.json`` the manager owns (``{"hello": {...}}``).
SECTION = "hello"

#: Where the observer appends one JSON line per finished action (unset: it does nothing).
ENV_EVENTS = "PHOENIX_HELLO_EVENTS"


def _factory() -> Manager:
    # Imported on first use, so `phoenix --help` never pays for the manager's imports.
    from phoenix_hello.manager import HelloManager

    return HelloManager()


@hookimpl
def phoenix_register_managers(register: Any) -> None:
    register(
        ManagerSpec(
            name="hello",
            kind="hello",
            factory=_factory,
            # The manager API this plugin was written for: a literal, never core's constant,
            # so a core speaking another version refuses it instead of running it.
            api_version=2,
            config=LAYOUT,
            description="greeting files on the node",
            # Optional: the hypervisor-file sections it reads; its settings_model types them.
            sections={SECTION},
        )
    )


@hookimpl
def phoenix_register_commands(cli: click.Group) -> None:
    import click

    @cli.command()
    @click.argument("ids", nargs=-1)
    def hello(ids: tuple[str, ...]) -> None:
        """Greet the configured guests (all when no ids)."""
        app = click.get_current_context().obj
        for guest in app.config.guests.values():
            if not ids or str(guest.id) in ids:
                click.echo(f"hello, {guest.kind} {guest.id} {guest.name}")


@hookimpl
def phoenix_action_finished(verb: str, target: TargetConfig, outcome: Outcome) -> None:
    """Record each finished action: where an integration would trigger a sync or a message."""
    path = os.environ.get(ENV_EVENTS)
    if not path:
        return
    event = {
        "verb": verb,
        "id": target.id,
        "status": outcome.status,
        "changes": len(outcome.changes),
    }
    with open(path, "a", encoding="utf-8") as events:
        events.write(json.dumps(event) + "\n")
