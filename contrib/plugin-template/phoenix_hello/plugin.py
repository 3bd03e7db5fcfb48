"""The hooks. ``phoenix --help`` imports this module: keep it to the stdlib and phoenix_core."""

from __future__ import annotations

import json
import os
from typing import Any

from phoenix_core.hookspecs import hookimpl

#: Where the observer appends one JSON line per finished action (unset: it does nothing).
ENV_EVENTS = "PHOENIX_HELLO_EVENTS"


@hookimpl
def phoenix_register_commands(cli: Any) -> None:
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
def phoenix_action_finished(verb: str, guest: Any, outcome: Any) -> None:
    """Record each finished action: where an integration would trigger a sync or a message."""
    path = os.environ.get(ENV_EVENTS)
    if not path:
        return
    event = {
        "verb": verb,
        "id": guest.id,
        "status": outcome.status,
        "changes": len(outcome.changes),
    }
    with open(path, "a", encoding="utf-8") as events:
        events.write(json.dumps(event) + "\n")
