"""The node's name and memory, in one read: ``pvesh get /cluster/resources --type node``.

pve-manager ``PVE/API2/Cluster.pm`` (``resources``) lists every node of the cluster with
``node`` (its name) and ``maxmem`` ("Number of available memory in bytes"), which
``PVE/API2Tools.pm`` ``extract_node_stats`` takes from the node's rrd data (its total memory;
the same ``memtotal`` that ``/nodes/{node}/status`` reads from /proc/meminfo). Read at
pve-manager 14a22df3.
"""

from __future__ import annotations

import json

from phoenix_core.capacity import NodeFacts
from phoenix_core.hosts.base import Host

NODES = ["pvesh", "get", "/cluster/resources", "--type", "node", "--output-format", "json"]


def facts(host: Host, node: str | None) -> NodeFacts | None:
    """``node`` (None: the only node there is) as the cluster lists it; None when the node
    cannot be told (several nodes and none named) or pvesh does not answer."""
    listed = _listed(host)
    chosen = [e for e in listed if node is None or e.get("node") == node]
    if len(chosen) != 1 or not isinstance(chosen[0].get("node"), str):
        return None
    entry = chosen[0]
    return NodeFacts(entry["node"], int(entry.get("maxmem") or 0))


def _listed(host: Host) -> list[dict]:
    result = host.query(NODES)
    if not result.ok:
        return []
    try:
        data = json.loads(result.stdout)
    except ValueError:
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
