"""Names every part of the core agrees on: the hypervisor file and the host targets."""

from __future__ import annotations

#: The file every configuration directory holds; guest files are registered by managers.
HYPERVISOR_FILE = "phoenix_hypervisor_config.json"
#: The node a target without ``node`` lives on: the one ``--host`` names, or this machine.
DEFAULT_NODE = "default"
#: The id of the default node's host target; ``host:NODE`` names a node of ``nodes``.
HOST = "host"
