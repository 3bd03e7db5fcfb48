"""The node-wide files of DIR/etc/pve: ``.vmlist``, ``.members`` and ``storage.cfg``.

Rewritten after every mutating command (and when the node starts), each only when its text
changes, so a reader sees what a node's pmxcfs would show:

- ``.vmlist`` and ``.members`` are not stored files but pmxcfs plugs: pve-cluster
  src/pmxcfs/pmxcfs.c ``pmxcfs_plug_init`` (``cfs_plug_func_new(".vmlist", 0440,
  create_dot_vmlist_cb, NULL)``, the same for ``.members``) answers a read with
  src/pmxcfs/status.c ``cfs_create_vmlist_msg`` and ``cfs_create_memberlist_msg``, whose
  text is reproduced here byte for byte: ``{``, the list's ``"version"`` (bumped by
  ``vmlist_register_vm``/``vmlist_delete_vm``), then ``"ids"`` with one ``"<vmid>": { "node":
  ..., "type": "lxc"|"qemu", "version": N }`` per guest (``vmlist_hash_insert_vm`` gives each
  new entry the next value of a global counter). The guests are written in vmid order, one of
  the orders a GHashTable walk can give. A standalone node's ``.members`` has only
  ``nodename`` and ``version`` (no corosync cluster: ``nodes_byid`` is empty).
- ``storage.cfg`` is pve-storage's section config (src/PVE/Storage/Plugin.pm
  ``cfs_register_file('storage.cfg', parse_config, write_config)``), written as pve-common
  src/PVE/SectionConfig.pm ``write_config`` writes it: ``<type>: <id>``, then one
  ``\\t<key> <value>`` line per option (``comment`` first, ``disable`` bare, then the options
  the type requires, sorted, then the others, sorted), a blank line after each section; the
  sections in the order they were added. Required options are those each plugin's
  ``options`` does not mark optional (DirPlugin ``path``; ZFSPoolPlugin ``pool``; NFSPlugin
  ``path``, ``server``, ``export``; CIFSPlugin ``path``, ``server``, ``share``; LVMPlugin
  ``vgname``; LvmThinPlugin ``thinpool``, ``vgname``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import conffile, pmxcfs
from .node import Node

VMLIST, MEMBERS = pmxcfs.PLUGS
STORAGE_CFG = "storage.cfg"
#: The storage options fakepve keeps that are state, not storage.cfg lines.
STATE_KEYS = frozenset({"files", "avail", "active", "volumes", "total", "digest", "storage"})
#: Per type, the options its plugin requires (``options`` without ``optional => 1``).
REQUIRED = {
    "dir": ("path",),
    "zfspool": ("pool",),
    "nfs": ("export", "path", "server"),
    "cifs": ("path", "server", "share"),
    "lvm": ("vgname",),
    "lvmthin": ("thinpool", "vgname"),
}


def vmlist_text(version: int, ids: dict[int, tuple[str, str, int]]) -> str:
    """cfs_create_vmlist_msg's text; ``ids``: vmid -> (node, type, entry version)."""
    if not ids:
        return f'{{\n"version": {version}\n\n}}\n'
    entries = ",\n".join(
        f'"{vmid}": {{ "node": "{node}", "type": "{kind}", "version": {entry} }}'
        for vmid, (node, kind, entry) in sorted(ids.items())
    )
    return f'{{\n"version": {version},\n"ids": {{\n{entries}}}\n\n}}\n'


def members_text(nodename: str, version: int = 1) -> str:
    """cfs_create_memberlist_msg's text on a node that is in no cluster."""
    return f'{{\n"nodename": "{nodename}",\n"version": {version}\n}}\n'


def storage_text(storages: dict[str, dict[str, Any]]) -> str:
    """storage.cfg as SectionConfig write_config writes it."""
    out = ""
    for sid, store in storages.items():
        kind = str(store.get("type", "dir"))
        options = {k: v for k, v in store.items() if k not in STATE_KEYS and k != "type"}
        required = [k for k in REQUIRED.get(kind, ()) if k in options]
        rest = sorted(k for k in options if k not in (*required, "comment", "disable"))
        data = f"{kind}: {sid}\n"
        if options.get("comment"):
            data += f"\tcomment {options['comment']}\n"
        if options.get("disable"):
            data += "\tdisable\n"
        for key in (*required, *rest):
            value = options[key]
            if value is not None and str(value) != "":
                data += f"\t{key} {value}\n"
        out += data + "\n"
    return out


def _current_vmlist(path: Path) -> tuple[int, dict[int, tuple[str, str, int]]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0, {}
    ids = {
        int(vmid): (str(e["node"]), str(e["type"]), int(e["version"]))
        for vmid, e in (data.get("ids") or {}).items()
    }
    return int(data.get("version") or 0), ids


def write_vmlist(node: Node) -> None:
    """``.vmlist`` after guests were created, destroyed or moved: the list's version goes up
    once per change, a new entry gets the next entry version, the others keep theirs."""
    path = node.pve_etc / VMLIST
    version, old = _current_vmlist(path)
    guests = {g.vmid: (g.node, node.kind(g)) for g in (*node.pve.vms, *node.pve.cts)}
    if guests == {vmid: (n, kind) for vmid, (n, kind, _) in old.items()} and path.exists():
        return
    counter = max((entry for *_, entry in old.values()), default=0)
    ids = {}
    for vmid, (where, kind) in guests.items():
        before = old.get(vmid)
        if before is not None and before[:2] == (where, kind):
            ids[vmid] = before
        else:
            counter += 1
            ids[vmid] = (where, kind, counter)
    _write(path, vmlist_text(version + 1, ids), mode=pmxcfs.PLUG_MODE)


def _write(path: Path, text: str, mode: int | None = None) -> None:
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    conffile.write_file(path, text)
    if mode is not None:
        path.chmod(mode)


def write_all(node: Node) -> None:
    """Every node-wide file, as the node's state now is."""
    write_vmlist(node)
    _write(node.pve_etc / MEMBERS, members_text(node.name), mode=pmxcfs.PLUG_MODE)
    _write(node.pve_etc / STORAGE_CFG, storage_text(node.pve.storages))
