"""Container templates as files in the node directory, where a real node has them.

On a real node a template on a storage whose plugin keeps files in a directory is a file:
pve-storage src/PVE/Storage/Plugin.pm ``list_volumes`` lists ``vztmpl`` volumes as the files
of ``get_subdir($scfg, 'vztmpl')``, which is ``<path>/template/cache`` (``$vtype_subdirs``)
unless the storage's ``content-dirs`` option names another directory for ``vztmpl``
(``decode_value``: ``PVE::Tools::split_list`` of ``type=dir`` pairs, the directory relative
to ``path``). The plugins that keep ``path`` and inherit that listing: DirPlugin, NFSPlugin,
CIFSPlugin, CephFSPlugin, BTRFSPlugin (its own ``filesystem_path`` changes only ``images``).
So ``pveam download`` leaves a file there and ``pvesm free`` removes it; ``pvesm remove``
only drops the storage.cfg section (src/PVE/API2/Storage/Config.pm ``delete``: the plugin's
``on_delete_hook``, none of which removes files), so the files stay.

fakepve keeps volumes in memory; :func:`sync` makes the files follow it after every mutating
command and at start. They are empty placeholders: only their existence is read, and a real
template is hundreds of MiB.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from .node import Node

#: The storage types whose templates are files under their ``path`` (see the module doc).
PATH_BASED = frozenset({"dir", "nfs", "cifs", "cephfs", "btrfs"})
#: Plugin.pm ``$vtype_subdirs``: where a storage keeps templates without ``content-dirs``.
TEMPLATE_SUBDIR = "template/cache"


def default_path(storage: str) -> str:
    """The ``path`` a storage has when its section names none: ``local``'s is forced by
    Plugin.pm ``parse_config``; NFSPlugin, CIFSPlugin and CephFSPlugin ``check_config`` set
    ``/mnt/pve/<id>`` when the storage is added."""
    return "/var/lib/vz" if storage == "local" else f"/mnt/pve/{storage}"


def template_dir(storage: str, store: dict[str, Any]) -> str:
    """The node path of the directory ``storage`` keeps its templates in."""
    base = str(store.get("path") or default_path(storage))
    pairs = re.split(r"[,;\s]+", str(store.get("content-dirs") or "").strip())
    dirs = dict(p.split("=", 1) for p in pairs if "=" in p)
    return posixpath.join(base, dirs.get("vztmpl", TEMPLATE_SUBDIR).lstrip("/"))


def _wanted(storage: str, store: dict[str, Any], node: Node) -> set[Path]:
    directory = node.host.path(template_dir(storage, store))
    return {
        directory / volname.split("/", 1)[1]
        for volname in store.get("volumes", {})
        if volname.startswith("vztmpl/")
    }


def sync(node: Node) -> None:
    """Write a placeholder for every template on a path-based storage, and remove the file of
    one that left a storage still defined (the files of a removed storage stay, as on a node)."""
    written: dict[str, set[Path]] = {}
    for storage, store in node.pve.storages.items():
        if store.get("type") not in PATH_BASED:
            continue
        wanted = _wanted(storage, store, node)
        for path in wanted - node.template_files.get(storage, set()):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        for path in node.template_files.get(storage, set()) - wanted:
            path.unlink(missing_ok=True)
        written[storage] = wanted
    node.template_files = written
