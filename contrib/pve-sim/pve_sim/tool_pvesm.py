"""`pvesm`: storage status, listing and volume allocation (pve-cli.md §2.4)."""

from __future__ import annotations

from . import formats, storage_activation, storagefiles
from .argv import Args
from .common import Verb, call, task
from .node import Node
from .result import Result, lines


async def status(node: Node, args: Args) -> Result:
    params = [(k, v) for k, v in args.params() if k in ("storage", "content", "enabled", "target")]
    data = await call(node, "GET", f"/nodes/{node.name}/storage", params)
    return Result(0, formats.pvesm_status(data, node.profile.pvesm_header))


async def list_(node: Node, args: Args) -> Result:
    storage = args.positional[0]
    params = [(k, v) for k, v in args.params() if k in ("content", "vmid")]
    data = await call(node, "GET", f"/nodes/{node.name}/storage/{storage}/content", params)
    if not data:
        return Result()
    width = max(len(e["volid"]) for e in [*data, {"volid": "Volid"}])
    fmt = f"{{:<{width}}} {{:<6}} {{:<9}} {{:>10}} {{}}"
    out = [fmt.format("Volid", "Format", "Type", "Size", "VMID")]
    for e in sorted(data, key=lambda e: e["volid"]):
        fmt_name = "tzst" if e.get("format") == "zst" else e.get("format", "")
        out.append(
            fmt.format(
                e["volid"],
                fmt_name,
                e.get("content", ""),
                int(e.get("size") or 0),
                e.get("vmid", ""),
            ).rstrip()
        )
    return Result(0, lines(out))


async def alloc(node: Node, args: Args) -> Result:
    storage, vmid, filename, size = args.positional[:4]
    params = [("vmid", vmid), ("filename", filename), ("size", size), *args.params()]
    volid = await call(
        node,
        "POST",
        f"/nodes/{node.name}/storage/{storage}/content",
        params,
        "pvesm alloc <storage> <vmid> <filename> <size> [OPTIONS]",
    )
    return Result(0, f"successfully created '{volid}'\n")


async def path(node: Node, args: Args) -> Result:
    volid = args.positional[0]
    storage = volid.split(":", 1)[0]
    data = await call(node, "GET", f"/nodes/{node.name}/storage/{storage}/content/{volid}")
    return Result(0, f"{data['path']}\n")


async def free(node: Node, args: Args) -> Result:
    volid = args.positional[0]
    storage = args.get("storage") or volid.split(":", 1)[0]
    upid = await call(node, "DELETE", f"/nodes/{node.name}/storage/{storage}/content/{volid}")
    return await task(node, upid)


async def add(node: Node, args: Args) -> Result:
    """`pvesm add TYPE STORAGE [OPTIONS]`: POST /storage; prints nothing (pve-storage
    PVE/CLI/pvesm.pm cmddef: `add => [PVE::API2::Storage::Config, 'create', [type, storage]]`).
    The storage is activated first and not added when that fails (storage_activation)."""
    kind, storage = args.positional[:2]
    given = dict(args.params())
    if kind in ("nfs", "cifs", "cephfs") and "path" not in given:
        given["path"] = storagefiles.default_path(storage)  # their plugins' check_config
    if storage not in node.pve.storages:  # a duplicate id is the API's own refusal
        storage_activation.activate(node.host, node.name, kind, storage, given)
    params = [("type", kind), ("storage", storage), *given.items()]
    await call(node, "POST", "/storage", params, "pvesm add <type> <storage> [OPTIONS]")
    return Result()


async def set_(node: Node, args: Args) -> Result:
    """`pvesm set STORAGE [OPTIONS]`: PUT /storage/{storage}."""
    storage = args.positional[0]
    await call(node, "PUT", f"/storage/{storage}", args.params(), "pvesm set <storage> [OPTIONS]")
    return Result()


async def remove(node: Node, args: Args) -> Result:
    """`pvesm remove STORAGE`: DELETE /storage/{storage}."""
    await call(node, "DELETE", f"/storage/{args.positional[0]}")
    return Result()


VERBS: dict[str, Verb] = {
    "add": Verb(add, True, ("type", "storage")),
    "set": Verb(set_, True, ("storage",)),
    "remove": Verb(remove, True, ("storage",)),
    "status": Verb(status, False),
    "list": Verb(list_, False, ("storage",)),
    "alloc": Verb(alloc, True, ("storage", "vmid", "filename", "size")),
    "path": Verb(path, False, ("volume",)),
    "free": Verb(free, True, ("volume",)),
}
