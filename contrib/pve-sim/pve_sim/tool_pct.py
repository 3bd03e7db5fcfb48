"""`pct`: container commands translated to fakepve API calls (pve-cli.md §2.2)."""

from __future__ import annotations

import copy
from pathlib import Path

from . import ctsetup, formats, guest_verbs, storagefiles, subid
from .argv import Args
from .common import Handler, Verb, call, task, vmid_of
from .node import Node
from .profile import PVE9
from .result import CliError, Result

BIND_OR_DEV = ("/",)


_ct = guest_verbs.locator("lxc")


def _host_path(args: Args, path: str) -> Path:
    return Path(args.cwd, path) if not path.startswith("/") else Path(path)


async def create(node: Node, args: Args) -> Result:
    vmid = vmid_of(args.positional[0])
    ostemplate = args.positional[1]
    params = [("vmid", str(vmid)), ("ostemplate", ostemplate)]
    if args.get("unprivileged") is None and not node.profile.unprivileged_default:
        params.append(("unprivileged", "0"))
    secrets: dict[str, str] = {}
    for key, value in args.params():
        if key == "ssh-public-keys":
            try:
                value = _host_path(args, value).read_text()
            except OSError as exc:
                raise CliError(f"unable to read '{value}' - {exc.strerror}") from None
        if key == "password" and value == "":
            value = ctsetup.read_password(args.stdin)
        if key in ("password", "ssh-public-keys"):
            secrets[key] = value
        params.append((key, value))
    ctsetup.check_params(node.sim_dir, params, USAGE["create"])
    upid = await call(node, "POST", f"/nodes/{node.name}/lxc", params, USAGE["create"])
    result = await task(node, upid)
    if result.rc == 0:
        ctsetup.write_root_access(
            node.guestfs.path(vmid, "/"), secrets.get("password"), secrets.get("ssh-public-keys")
        )
        sid, _, volname = ostemplate.partition(":")
        directory = storagefiles.template_dir(sid, node.pve.storages.get(sid, {}))
        arch = (node.guest(vmid).config.get("arch") if node.guest(vmid) else None) or "amd64"
        head = [
            f"extracting archive '{directory}/{volname.split('/')[-1]}'",
            "Total bytes read: 524288000 (500MiB, 512MiB/s)",
            f"Detected container architecture: {arch}",
        ]
        result.stdout = "".join(f"{h}\n" for h in head) + result.stdout
    return result


async def clone(node: Node, args: Args) -> Result:
    vmid, path = _ct(node, args)
    newid = vmid_of(args.positional[1])
    source = node.guest(vmid)
    full = args.get("full")
    is_full = (
        (full.lower() in ("1", "yes", "true", "on")) if full else not source.config.get("template")
    )
    raw = node.raw_lines(vmid)
    try:
        upid = await call(
            node, "POST", f"{path}/clone", [("newid", str(newid)), *args.params()], USAGE["clone"]
        )
    except CliError as exc:
        if exc.message == PVE9.running_full_clone + "\n":
            raise CliError(node.profile.running_full_clone) from None
        raise
    head = []
    for key in sorted(source.config, key=lambda k: (k != "rootfs", k)):
        if key == "rootfs" or (key.startswith("mp") and key[2:].isdigit()):
            volid = str(source.config[key]).split(",")[0]
            if volid.startswith(BIND_OR_DEV):
                continue
            if is_full:
                head.append(f"create full clone of mountpoint {key} ({volid})")
            else:
                head.append(f"create linked clone of mount point {key} ({volid})")
    result = await task(node, upid, head)
    if not node.profile.clone_banner:
        result.stdout = "".join(
            line
            for line in result.stdout.splitlines(keepends=True)
            if not line.startswith("creating a clone of container ")
        )
    if result.rc == 0:
        node.guestfs.copy_guest(vmid, newid)
        node.sync(newid, {"": raw})
        # API2/LXC.pm clone_vm: PVE::Firewall::clone_vmfw_conf($vmid, $newid).
        guests = node.pve._fw()["guests"]
        if vmid in guests:
            guests[newid] = copy.deepcopy(guests[vmid])
    return result


def bind_mounts(node: Node, vmid: int) -> list[str]:
    """The host paths of a CT's bind and device mount points (mpN values that are paths)."""
    config = node.guest(vmid).config
    return [
        str(config[key]).split(",")[0]
        for key in sorted(config)
        if key.startswith("mp")
        and key[2:].isdigit()
        and str(config[key]).split(",")[0].startswith(BIND_OR_DEV)
    ]


async def start(node: Node, args: Args) -> Result:
    """Starting runs lxc-start, which maps the CT's ids through newuidmap/newgidmap (subid.py):
    PVE::LXC::vm_start dies with "startup for container '<id>' failed" when lxc-start fails."""
    vmid, _ = _ct(node, args)
    guest = node.guest(vmid)
    if guest.status != "running" and not guest.config.get("template"):
        unprivileged = bool(int(guest.config.get("unprivileged") or 0))
        lxc = subid.refusal(node.sim_dir / "etc", vmid, node.raw_lines(vmid), unprivileged)
        if lxc is not None:
            return Result(255, lxc, f"startup for container '{vmid}' failed\n")
    return await _start(node, args)


def _with_facts(power: Handler) -> Handler:
    """A start (a reboot starts again) runs pve-container's prestart hook, which writes the
    container's host name, hosts, resolver and network files (Node.container_started)."""

    async def run(node: Node, args: Args) -> Result:
        vmid, _ = _ct(node, args)
        result = await power(node, args)
        if result.rc == 0:
            node.container_started(vmid)
        return result

    return run


async def set_(node: Node, args: Args) -> Result:
    _, path = _ct(node, args)
    ctsetup.check_params(node.sim_dir, args.params(), USAGE["set"])
    await call(node, "PUT", f"{path}/config", args.params(), USAGE["set"])
    return Result()


async def status(node: Node, args: Args) -> Result:
    _, path = _ct(node, args)
    data = await call(node, "GET", f"{path}/status/current")
    if args.flag("verbose"):
        return Result(0, formats.verbose_status(data))
    return Result(0, f"status: {data.get('status') or 'unknown'}\n")


async def list_(node: Node, args: Args) -> Result:
    return Result(0, formats.pct_list(await call(node, "GET", f"/nodes/{node.name}/lxc")))


async def config(node: Node, args: Args) -> Result:
    vmid, path = _ct(node, args)
    snapshot = args.get("snapshot")
    data = await call(node, "GET", f"{path}/config", args.params(), USAGE["config"])
    return Result(0, formats.config_text(data, node.raw_lines(vmid, snapshot or "")))


async def pending(node: Node, args: Args) -> Result:
    _, path = _ct(node, args)
    return Result(0, formats.pending_text(await call(node, "GET", f"{path}/pending")))


def _running(node: Node, vmid: int) -> bool:
    return node.guest(vmid).status == "running"


async def exec_(node: Node, args: Args) -> Result:
    vmid, _ = _ct(node, args)
    if not _running(node, vmid):
        raise CliError(f"container '{vmid}' not running!")
    command = args.rest or args.positional[1:]
    if not command:
        raise CliError("missing command")
    return node.guestfs.exec(vmid, command)


async def push(node: Node, args: Args) -> Result:
    vmid, _ = _ct(node, args)
    if not _running(node, vmid):
        raise CliError("can only push files to a running CT")
    source = _host_path(args, args.positional[1])
    if not source.is_file():
        # An in-task failure: pct push has no $upid_exit, so it exits 0 (pve-cli.md §2.2).
        return Result(0, "", f"failed to open {source} for reading\n")
    node.guestfs.push(vmid, source, args.positional[2], args.get("perms"))
    return Result()


async def pull(node: Node, args: Args) -> Result:
    vmid, _ = _ct(node, args)
    if not _running(node, vmid):
        raise CliError("can only pull files from a running CT")
    inner = args.positional[1]
    if not node.guestfs.path(vmid, inner).is_file():
        return Result(0, "", f"failed to open {inner} for reading\n")
    node.guestfs.pull(vmid, inner, _host_path(args, args.positional[2]))
    return Result()


async def snapshot(node: Node, args: Args) -> Result:
    vmid, path = _ct(node, args)
    name = args.positional[1]
    # pve-guest-common AbstractConfig.pm snapshot_prepare dies unless has_feature('snapshot'),
    # and pve-container LXC/Config.pm has_feature asks PVE::Storage::volume_has_feature for
    # every mount point: a bind or device mount (a path) has no storage, so no feature.
    if bind_mounts(node, vmid):
        raise CliError("snapshot feature is not available")
    raw = node.raw_lines(vmid)
    params = [("snapname", name), *args.params()]
    upid = await call(node, "POST", f"{path}/snapshot", params, USAGE["snapshot"])
    result = await task(node, upid)
    if result.rc == 0:
        sections = {"": raw, name: raw}
        sections.update({k: v for k, v in _raw_sections(node, vmid).items() if k not in sections})
        node.sync(vmid, sections)
    return result


def _raw_sections(node: Node, vmid: int) -> dict[str, list[tuple[str, str]]]:
    from . import conffile

    return conffile.read_raw(node.conf_path(vmid, "lxc"))


async def rollback(node: Node, args: Args) -> Result:
    vmid, path = _ct(node, args)
    name = args.positional[1]
    sections = _raw_sections(node, vmid)
    upid = await call(node, "POST", f"{path}/snapshot/{name}/rollback", args.params())
    result = await task(node, upid)
    if result.rc == 0 and name in sections:
        sections[""] = sections[name]
        node.sync(vmid, sections)
    return result


async def template(node: Node, args: Args) -> Result:
    vmid, path = _ct(node, args)
    guest = node.guest(vmid)
    paths = bind_mounts(node, vmid)
    if paths and guest.status != "running" and not guest.snapshots and not guest.template:
        # LXC.pm template_create, inside the task: "Template feature is not available for
        # '<volid>'"; pct template has no $upid_exit, so the CLI still exits 0.
        return Result(0, "", f"Template feature is not available for '{paths[0]}'\n")
    upid = await call(node, "POST", f"{path}/template")
    return await task(node, upid, upid_exit=False)


async def destroy(node: Node, args: Args) -> Result:
    vmid, path = _ct(node, args)
    upid = await call(node, "DELETE", path, args.params(), USAGE["destroy"])
    head = [f"purging CT {vmid} from related configurations.."] if args.flag("purge") else []
    result = await task(node, upid, head)
    if result.rc == 0:
        node.guestfs.drop_guest(vmid)
        # API2/LXC.pm destroy_vm -> PVE::LXC::destroy_lxc_container: remove_vmfw_conf($vmid).
        node.pve._fw()["guests"].pop(vmid, None)
    return result


async def resize(node: Node, args: Args) -> Result:
    _, path = _ct(node, args)
    params = [("disk", args.positional[1]), ("size", args.positional[2]), *args.params()]
    upid = await call(node, "PUT", f"{path}/resize", params, USAGE["resize"])
    return await task(node, upid)


USAGE = {
    "create": "pct create <vmid> <ostemplate> [OPTIONS]",
    "clone": "pct clone <vmid> <newid> [OPTIONS]",
    "set": "pct set <vmid> [OPTIONS]",
    "config": "pct config <vmid> [OPTIONS]",
    "snapshot": "pct snapshot <vmid> <snapname> [OPTIONS]",
    "destroy": "pct destroy <vmid> [OPTIONS]",
    "resize": "pct resize <vmid> <disk> <size> [OPTIONS]",
}
for _verb in ("start", "stop", "shutdown", "reboot", "suspend", "resume"):
    USAGE[_verb] = f"pct {_verb} <vmid> [OPTIONS]"
_start = _with_facts(guest_verbs.power(_ct, "pct", "start", USAGE["start"]))

VERBS: dict[str, Verb] = {
    "create": Verb(create, True, ("vmid", "ostemplate")),
    "clone": Verb(clone, True, ("vmid", "newid")),
    "set": Verb(set_, True, ("vmid",)),
    "start": Verb(start, True, ("vmid",)),
    "stop": Verb(guest_verbs.power(_ct, "pct", "stop", USAGE["stop"]), True, ("vmid",)),
    "shutdown": Verb(guest_verbs.power(_ct, "pct", "shutdown", USAGE["shutdown"]), True, ("vmid",)),
    "reboot": Verb(
        _with_facts(guest_verbs.power(_ct, "pct", "reboot", USAGE["reboot"])), True, ("vmid",)
    ),
    "suspend": Verb(guest_verbs.power(_ct, "pct", "suspend", USAGE["suspend"]), True, ("vmid",)),
    "resume": Verb(guest_verbs.power(_ct, "pct", "resume", USAGE["resume"]), True, ("vmid",)),
    "status": Verb(status, False, ("vmid",)),
    "list": Verb(list_, False),
    "config": Verb(config, False, ("vmid",)),
    "pending": Verb(pending, False, ("vmid",)),
    "exec": Verb(exec_, False, ("vmid",)),
    "push": Verb(push, True, ("vmid", "file", "destination")),
    "pull": Verb(pull, False, ("vmid", "path", "destination")),
    "snapshot": Verb(snapshot, True, ("vmid", "snapname")),
    "listsnapshot": Verb(guest_verbs.listsnapshot(_ct), False, ("vmid",)),
    "delsnapshot": Verb(guest_verbs.delsnapshot(_ct), True, ("vmid", "snapname")),
    "rollback": Verb(rollback, True, ("vmid", "snapname")),
    "template": Verb(template, True, ("vmid",)),
    "destroy": Verb(destroy, True, ("vmid",)),
    "resize": Verb(resize, True, ("vmid", "disk", "size")),
    "unlock": Verb(guest_verbs.unlock(_ct), True, ("vmid",)),
}
