"""``nfs``: the exports in a phoenix-owned ``/etc/exports.d/phoenix.exports``, re-exported with
``exportfs -ra``, and a Proxmox NFS storage on each.

The old tool truncated ``/etc/exports`` (a backup aside) and rewrote it; phoenix leaves that
file to the administrator (nfs-utils reads ``/etc/exports.d/*.exports`` as well).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.features.storage import WantedStorage, storage_step
from phoenix_hypervisor.hostfs import HEADER

EXPORTS = "/etc/exports.d/phoenix.exports"
#: What an NFS storage holds here: files, not guest disks (those stay on the local datasets).
CONTENT = "backup,iso,vztmpl,snippets"


def exports_text(ctx: HostContext) -> str:
    lines = [HEADER.rstrip("\n")]
    for export in ctx.spec.nfs.exports:
        options = ",".join(export.options)
        clients = " ".join(f"{client}({options})" for client in export.clients)
        lines.append(f"{export.path} {clients}")
    return "\n".join(lines) + "\n"


def exports_step(ctx: HostContext) -> Step:
    def check() -> list[Change]:
        wanted, have = exports_text(ctx), ctx.files.read(EXPORTS)
        if have == wanted:
            return []
        paths = ", ".join(e.path for e in ctx.spec.nfs.exports)
        return [Change(EXPORTS, "missing" if have is None else "differs", paths, wanted)]

    def apply(changes: Sequence[Change]) -> None:
        if changes[0].before == "missing":
            ctx.ensure_dir(posixpath.dirname(EXPORTS))
        ctx.files.write(EXPORTS, changes[0].data)
        ctx.change(["exportfs", "-ra"])

    return Step("nfs: exports", check, apply)


def nfs_storages(ctx: HostContext) -> list[WantedStorage]:
    server = ctx.spec.address or "127.0.0.1"
    return [
        WantedStorage(
            f"nfs-{posixpath.basename(export.path.rstrip('/'))}",
            "nfs",
            (("server", server), ("export", export.path)),
            CONTENT,
            (("options", "vers=4.2"),),
        )
        for export in ctx.spec.nfs.exports
    ]


def steps(ctx: HostContext) -> list[Step]:
    if not ctx.spec.nfs.exports:
        return []
    return [exports_step(ctx), storage_step(ctx, "nfs: storages", nfs_storages(ctx))]
