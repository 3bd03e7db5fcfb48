"""Where commands run: the local machine, a node over SSH, or a dry run that records changes.

The names are imported when first used (PEP 562): ``phoenix --help`` imports the node probe's
module, which needs none of them, and ``LocalHost`` brings ``subprocess`` and ``secrets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phoenix_core.hosts.base import BaseHost, CommandResult, Host
    from phoenix_core.hosts.dryrun import DryRunHost, PlannedCommand
    from phoenix_core.hosts.local import LocalHost

#: Each public name and the module that defines it.
_HOMES = {
    "BaseHost": "base",
    "CommandResult": "base",
    "Host": "base",
    "DryRunHost": "dryrun",
    "PlannedCommand": "dryrun",
    "LocalHost": "local",
}

__all__ = ["BaseHost", "CommandResult", "DryRunHost", "Host", "LocalHost", "PlannedCommand"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
