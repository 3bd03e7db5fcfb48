"""Names and defaults every part of the core agrees on: the hypervisor file, the host
targets, the number of workers. Imported by ``phoenix --help``: standard library only."""

from __future__ import annotations

#: The file every configuration directory holds; guest files are registered by managers.
HYPERVISOR_FILE = "phoenix_hypervisor_config.json"
#: The node a target without ``node`` lives on: the one ``--host`` names, or this machine.
DEFAULT_NODE = "default"
#: The id of the default node's host target; ``host:NODE`` names a node of ``nodes``.
HOST = "host"
#: ``--jobs`` when neither the option nor ``PHOENIX_JOBS`` says: Proxmox serialises guest
#: operations on its config and storage locks, so a few at once gain nearly all there is.
DEFAULT_JOBS = 4
