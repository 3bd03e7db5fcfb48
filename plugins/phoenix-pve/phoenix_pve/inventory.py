"""Every guest of one kind on the node, with its state, in one read: ``pvesh get
/cluster/resources --type vm`` (pve-manager PVE/API2/Cluster.pm ``resources``: one row per
guest of the cluster with ``vmid``, ``type`` (``lxc``/``qemu``), ``node``, ``name``,
``status``, ``template`` and, while one is held, ``lock``). ``status --all`` lists those no file
describes; ``import`` asks which kind an id is.
"""

from __future__ import annotations

import json

from phoenix_core.hosts.base import Host
from phoenix_core.manager import FoundGuest, GuestState
from phoenix_pve import errors
from phoenix_pve.guest import GuestKind

ARGV = ["pvesh", "get", "/cluster/resources", "--type", "vm", "--output-format", "json"]


def guests(host: Host, kind: GuestKind) -> list[FoundGuest]:
    """The guests of ``kind`` in the cluster the node belongs to, by id."""
    rows = json.loads(errors.check(host.query(ARGV)).stdout or "[]")
    found = [
        FoundGuest(
            id=int(row["vmid"]),
            node=str(row.get("node") or ""),
            state=GuestState(
                exists=True,
                status=row.get("status"),
                lock=row.get("lock") or None,
                template=bool(row.get("template")),
                name=row.get("name"),
                build_complete=None,
            ),
        )
        for row in rows
        if row.get("type") == kind.api and "vmid" in row
    ]
    return sorted(found, key=lambda guest: guest.id)
