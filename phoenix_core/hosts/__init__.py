"""Where commands run: the local machine, a node over SSH, or a dry run that records changes."""

from phoenix_core.hosts.base import BaseHost, CommandResult, Host
from phoenix_core.hosts.dryrun import DryRunHost, PlannedCommand
from phoenix_core.hosts.local import LocalHost

__all__ = [
    "BaseHost",
    "CommandResult",
    "DryRunHost",
    "Host",
    "LocalHost",
    "PlannedCommand",
]
