"""Shell completion of guest ids, tags and kinds, through click's own completion
(``eval "$(_PHOENIX_COMPLETE=bash_source phoenix)"``).

Completing reads the configuration the command line names (``--config-dir``, else the usual
places) with the installed plugins; a configuration that does not load offers nothing rather
than an error in the middle of a command line being typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from phoenix_core.config.models import Config
    from phoenix_core.plugins import Plugins

#: What a completer offers for a loaded configuration: (value, help) pairs.
Offer = Callable[["Config"], list[tuple[str, str]]]


def _plugins(ctx: click.Context) -> Plugins | None:
    from phoenix_core.plugins import Plugins

    obj = ctx.find_root().obj
    return obj if isinstance(obj, Plugins) else getattr(obj, "plugins", None)


def _config(ctx: click.Context) -> Config | None:
    from phoenix_core.config import config_dir, load_config
    from phoenix_core.errors import PhoenixError

    plugins = _plugins(ctx)
    if plugins is None:
        return None
    try:
        return load_config(config_dir(ctx.find_root().params.get("config_dir")), plugins)
    except PhoenixError:
        return None


def ids(config: Config) -> list[tuple[str, str]]:
    """Every target id, with its kind and name."""
    return [(str(i), f"{t.kind} {t.name}") for i, t in {**config.hosts, **config.guests}.items()]


def tags(config: Config) -> list[tuple[str, str]]:
    from phoenix_core.select import known_tags

    return [(t, "tag") for t in known_tags(config)]


def kinds(config: Config) -> list[tuple[str, str]]:
    return [(k, "kind") for k in sorted({t.kind for t in config.guests.values()})]


def complete(ctx: click.Context, offer: Offer, incomplete: str) -> list[CompletionItem]:
    """``offer``'s values that start as typed, for a click ``shell_complete`` callback."""
    config = _config(ctx)
    if config is None:
        return []
    return [CompletionItem(v, help=text) for v, text in offer(config) if v.startswith(incomplete)]
