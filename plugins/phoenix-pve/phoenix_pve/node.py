"""The node's name and memory, read as files: ``/etc/pve/.members`` and ``/proc/meminfo``.

- The name: pve-cluster src/pmxcfs/status.c ``cfs_create_memberlist_msg`` answers a read of
  ``/etc/pve/.members`` with the node's own ``"nodename"`` (on every node, clustered or not).
- The memory: pve-manager ``PVE/API2/Cluster.pm`` (``resources``) lists a node's ``maxmem``
  from ``PVE/API2Tools.pm`` ``extract_node_stats`` (its rrd data, which pvestatd fills from
  ``PVE::ProcFSTools::read_meminfo``, pve-common src/PVE/ProcFSTools.pm: ``MemTotal`` of
  ``/proc/meminfo``, in kB). Read at pve-manager 14a22df3.

Both are file reads (no Perl start-up). Without ``.members`` (pmxcfs not answering) the node is
asked with ``pvesh get /cluster/resources --type node`` as before.
"""

from __future__ import annotations

import json
import re

from phoenix_core.capacity import NodeFacts
from phoenix_core.hosts.base import Host
from phoenix_pve import etcpve

NODES = ["pvesh", "get", "/cluster/resources", "--type", "node", "--output-format", "json"]
MEMINFO = "/proc/meminfo"
_MEMTOTAL = re.compile(r"^MemTotal:\s+(\d+)\s*kB", re.MULTILINE)


def facts(host: Host, node: str | None, pve_etc: str) -> NodeFacts | None:
    """``node`` (None: the only node there is) as the node reached through ``host`` names
    itself; None when it is another node or nothing answers."""
    own = _read(host, f"{pve_etc.rstrip('/')}/.members")
    try:
        name = etcpve.parse_members(own) if own is not None else None
    except etcpve.FileFormatError:
        name = None
    if name is None:
        return _listed_facts(host, node)
    if node is not None and node != name:
        return None
    meminfo = _read(host, MEMINFO) or ""
    total = _MEMTOTAL.search(meminfo)
    return NodeFacts(name, int(total[1]) * 1024 if total else 0)


def _read(host: Host, path: str) -> str | None:
    try:
        return host.read_file(path).decode(errors="replace")
    except FileNotFoundError:
        return None


def _listed_facts(host: Host, node: str | None) -> NodeFacts | None:
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
