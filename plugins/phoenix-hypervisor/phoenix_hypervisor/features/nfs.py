"""``nfs``: the exports in a phoenix-owned ``/etc/exports.d/phoenix.exports``, re-exported with
``exportfs -ra``, and a Proxmox NFS storage on each.

The old tool truncated ``/etc/exports`` (a backup aside) and rewrote it; phoenix leaves that
file to the administrator (nfs-utils reads ``/etc/exports.d/*.exports`` as well).

An NFS storage's server is the node itself (``network.interfaces.address``), and ``pvesm add``
mounts the export to add it (pve-storage ``NFSPlugin``): before adding, ``exportfs -v`` must
list the export for a client that covers that address, or the feature fails saying which
export is not served to it.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Callable, Sequence

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


def storage_id(path: str) -> str:
    """The Proxmox storage on an export: ``nfs-<basename>``."""
    return f"nfs-{posixpath.basename(path.rstrip('/'))}"


def exported(text: str) -> set[tuple[str, str]]:
    """(path, client) of each export ``exportfs -v`` lists: ``PATH<tab>CLIENT(opts)``, or a
    long path alone on its line with ``<tab><tab>CLIENT(opts)`` on the next (nfs-utils
    utils/exportfs/exportfs.c dump)."""
    found, path = set(), ""
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            path, _, line = line.partition("\t")
            path = path.strip()
        client = line.strip().split("(", 1)[0]
        if client:
            found.add((path, client))
    return found


def _covers(ctx: HostContext, client: str, address: str) -> bool:
    """Whether a client as ``exportfs -v`` prints it admits ``address``: ``<world>``, the
    address, a subnet holding it, or a name ``getent hosts`` resolves to it."""
    if client in ("<world>", address):
        return True
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(client, strict=False)
    except ValueError:
        pass
    if any(c in client for c in "*?[@"):
        return False
    found = ctx.query(["getent", "hosts", client])
    return found.ok and found.stdout.split()[:1] == [address]


def unserved(export: str, server: str) -> Callable[[HostContext], str | None]:
    def missing(ctx: HostContext) -> str | None:
        listed = ctx.query(["exportfs", "-v"])
        clients = [c for p, c in exported(listed.stdout) if p == export]
        if not clients:
            return f"{export} is not exported (`exportfs -v` does not list it)"
        if not any(_covers(ctx, c, server) for c in clients):
            return (
                f"{export} is not exported to {server}, the storage's server (this node); "
                f"add it to that export's clients (exported to {', '.join(sorted(clients))})"
            )
        return None

    return missing


def nfs_storages(ctx: HostContext) -> list[WantedStorage]:
    server = ctx.spec.address or "127.0.0.1"
    return [
        WantedStorage(
            storage_id(export.path),
            "nfs",
            (("server", server), ("export", export.path)),
            CONTENT,
            (("options", "vers=4.2"),),
            unserved(export.path, server),
        )
        for export in ctx.spec.nfs.exports
    ]


def steps(ctx: HostContext) -> list[Step]:
    if not ctx.spec.nfs.exports:
        return []
    return [exports_step(ctx), storage_step(ctx, "nfs: storages", nfs_storages(ctx))]
