"""`pveversion` and `pveam`: the version line and the template catalogue."""

from __future__ import annotations

from . import storagefiles
from .argv import Args
from .common import Verb, call, task
from .node import Node
from .result import CliError, Result, lines


async def pveversion(node: Node, args: Args) -> Result:
    if args.positional:
        raise CliError("USAGE: pveversion [--verbose]")
    release = node.profile
    version, repoid, kernel = release.manager, release.repoid, release.kernel
    if not args.flag("verbose") and not args.flag("v"):
        return Result(0, f"pve-manager/{version}/{repoid} (running kernel: {kernel})\n")
    return Result(
        0,
        lines(
            [
                f"proxmox-ve: {version} (running kernel: {kernel})",
                f"pve-manager: {version} (running version: {version}/{repoid})",
                f"proxmox-kernel-helper: {version}",
                *(f"{name}: {package}" for name, package in release.packages),
            ]
        ),
    )


def _has_templates(node: Node, storage: str) -> bool:
    content = str(node.pve.storages.get(storage, {}).get("content", ""))
    return "vztmpl" in content.split(",")


async def pveam_list(node: Node, args: Args) -> Result:
    storage = args.positional[0]
    # pve-manager PVE/CLI/pveam.pm index: die "Storage does not support templates!\n".
    if storage in node.pve.storages and not _has_templates(node, storage):
        raise CliError("Storage does not support templates!")
    data = await call(
        node, "GET", f"/nodes/{node.name}/storage/{storage}/content", [("content", "vztmpl")]
    )
    out = ["{:<60} {:<6}".format("NAME", "SIZE")]
    for e in sorted(data, key=lambda e: e["volid"]):
        out.append("{:<60} {:.2f}MB".format(e["volid"], int(e.get("size") or 0) / 1024**2))
    return Result(0, lines(out))


async def pveam_available(node: Node, args: Args) -> Result:
    return Result(0, lines(["{:<15} {}".format("system", n) for n in sorted(node.catalogue)]))


async def pveam_update(node: Node, args: Args) -> Result:
    return Result(0, "update successful\n")


async def pveam_download(node: Node, args: Args) -> Result:
    storage, name = args.positional[:2]
    if name not in node.catalogue:
        raise CliError(
            "400 Parameter verification failed.\ntemplate: no such template\n"
            "pveam download <storage> <template>"
        )
    # pve-manager API2/Nodes.pm apl_download checks the storage before forking its worker.
    if storage in node.pve.storages and not _has_templates(node, storage):
        raise CliError(f"storage '{storage}' does not support templates")
    upid = await call(
        node,
        "POST",
        f"/nodes/{node.name}/storage/{storage}/download-url",
        [
            ("content", "vztmpl"),
            ("filename", name),
            ("size", str(128 * 1024**2)),
            ("url", f"http://download.proxmox.com/images/system/{name}"),
        ],
    )
    target = f"{storagefiles.template_dir(storage, node.pve.storages.get(storage, {}))}/{name}"
    head = [f"downloading http://download.proxmox.com/images/system/{name} to {target}"]
    # pveam.pm's cmddef for download has no $upid_exit: a failed task still exits 0.
    result = await task(node, upid, head, upid_exit=False)
    result.stdout = "".join(
        line
        for line in result.stdout.splitlines(keepends=True)
        if line.startswith(f"downloading http://download.proxmox.com/images/system/{name} to /")
        or not line.startswith("downloading ")
    )
    if not result.stderr:
        result.stdout += (
            f"download of 'http://download.proxmox.com/images/system/{name}' to "
            f"'{target}' finished\n"
        )
    return result


PVEVERSION: dict[str, Verb] = {"": Verb(pveversion, False)}
PVEAM: dict[str, Verb] = {
    "list": Verb(pveam_list, False, ("storage",)),
    "available": Verb(pveam_available, False),
    "update": Verb(pveam_update, False),
    "download": Verb(pveam_download, True, ("storage", "template")),
}
