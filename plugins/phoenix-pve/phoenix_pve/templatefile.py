"""Where a container template is a file on the node: the path ``pveam list`` finds it at.

Read in pve-storage: src/PVE/Storage/Plugin.pm ``list_volumes`` lists a storage's ``vztmpl``
volumes, when the storage has a ``path``, as the files of ``get_subdir($scfg, 'vztmpl')``
that are not directories and whose names end as src/PVE/Storage.pm ``$VZTMPL_EXT_RE_1``
says (``$get_subdir_files``); ``parse_volname`` takes ``vztmpl/<name>`` with the same
pattern. ``get_subdir`` is ``<path>/<subdir>``: the storage's ``content-dirs`` entry for
``vztmpl`` (``decode_value``: pve-common ``PVE::Tools::split_list`` of ``type=dir`` pairs,
split at ``,``, ``;`` and white space), else ``template/cache`` (``$vtype_subdirs``). The
plugins that keep that listing and that path: DirPlugin, NFSPlugin, CIFSPlugin,
CephFSPlugin, BTRFSPlugin (its own ``filesystem_path`` differs for ``images`` only). Every
other type is left to ``pveam list``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

#: The storage types whose templates are files under their ``path`` (see the module doc).
PATH_BASED = frozenset({"dir", "nfs", "cifs", "cephfs", "btrfs"})
#: Plugin.pm ``$vtype_subdirs``: the template directory without ``content-dirs``.
DEFAULT_SUBDIR = "template/cache"
#: Plugin.pm ``parse_volname``'s ``vztmpl/([^/]+$VZTMPL_EXT_RE_1)``; Storage.pm has
#: ``qr/\.(?|(tar)(?!\.)|tar\.(gz|xz|zst|bz2))/i``.
_VOLNAME = re.compile(r"vztmpl/([^/]+\.(?:tar|tar\.(?:gz|xz|zst|bz2)))", re.IGNORECASE)
_LIST_SEPARATORS = re.compile(r"[,;\s]+")


def subdir(conf: Mapping[str, object]) -> str:
    """The directory, under its ``path``, where the storage ``conf`` keeps templates."""
    dirs = {}
    for pair in _LIST_SEPARATORS.split(str(conf.get("content-dirs") or "")):
        content, equals, directory = pair.partition("=")
        if equals:
            dirs[content] = directory
    return dirs.get("vztmpl", DEFAULT_SUBDIR)


def template_path(conf: Mapping[str, object], volid: str) -> str | None:
    """The node path of the file ``volid`` is, on the storage that ``conf`` (its storage.cfg
    section, as :func:`phoenix_pve.etcpve.parse_storage_cfg` gives it) defines; None where
    only ``pveam list`` can tell: not that storage, a type not read here, no ``path``, no
    ``vztmpl`` content (pve-manager PVE/CLI/pveam.pm ``index`` refuses to list it), or a
    name Proxmox does not take for a template."""
    storage, _, volname = volid.partition(":")
    name = _VOLNAME.fullmatch(volname)
    contents = str(conf.get("content") or "").split(",")
    path = conf.get("path")
    if (
        name is None
        or conf.get("storage") != storage
        or conf.get("type") not in PATH_BASED
        or "vztmpl" not in contents
        or not isinstance(path, str)
        or not path.startswith("/")
    ):
        return None
    return posixpath.join(path, subdir(conf).lstrip("/"), name[1])
