"""`qm`: VM commands translated to fakepve API calls (pve-cli.md §2.3).

fakepve's qemu side lacks pending-merged config, resize, disk import and cloud-init dumps
(fakepve.md §0); those are done here against the fakepve objects directly.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from . import ctsetup, formats, guest_verbs, vmguest
from .argv import FALSE, Args
from .cloudinit import CI_KEY
from .cloudinit import ci_values as _ci_values
from .common import Verb, call, task, vmid_of
from .node import Node
from .result import CliError, Result, lines

DISK = re.compile(r"^(scsi|virtio|sata|ide|efidisk|tpmstate|unused)\d+$")
UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


_vm = guest_verbs.locator("qemu")


def _usage(verb: str, extra: str = "") -> str:
    return f"qm {verb} <vmid>{extra} [OPTIONS]"


async def create(node: Node, args: Args) -> Result:
    vmid = vmid_of(args.positional[0])
    imported = _printed(
        _imported(node, _cli_params(args), args.cwd, f"unable to create VM {vmid} - ")
    )
    params = [("vmid", str(vmid)), *imported]
    upid = await call(node, "POST", f"/nodes/{node.name}/qemu", params, _usage("create"))
    result = await task(node, upid)
    if result.rc == 0:
        _name_cloudinit_drives(node, vmid, [k for k, v in params if v.endswith(":cloudinit")])
    return result


CLOUDINIT_VOLUME = re.compile(r"[:/](?:vm-\d+-)?cloudinit(?:\.(?:raw|qcow2|vmdk))?$")


def _name_cloudinit_drives(node: Node, vmid: int, keys: list[str]) -> None:
    """A cloud-init drive's volume is `vm-<id>-cloudinit` (qemu-server
    src/PVE/QemuServer/Drive.pm drive_is_cloudinit recognises it by that name), where
    fakepve allocates a numbered disk: rename it in the storage and the config."""
    vm = node.guest(vmid)
    for key in keys:
        volid, _, props = str(vm.config.get(key, "")).partition(",")
        sid, _, volname = volid.partition(":")
        volumes = (node.pve.storages.get(sid) or {}).get("volumes", {})
        if volname not in volumes or CLOUDINIT_VOLUME.search(volid):
            continue
        new = f"vm-{vmid}-cloudinit"
        volumes[new] = volumes.pop(volname)
        vm.config[key] = f"{sid}:{new}" + (f",{props}" if props else "")


def _clone_cloudinit_drives(node: Node, source_id: int, newid: int, storage: str | None) -> None:
    """qemu-server src/PVE/API2/Qemu.pm clone_vm: a cloud-init drive is always copied (a full
    clone of it, even for a linked clone), so the clone gets its own `vm-<newid>-cloudinit`."""
    vm = node.guest(newid)
    for key, value in list(vm.config.items()):
        volid, _, props = str(value).partition(",")
        if not DISK.match(key) or not CLOUDINIT_VOLUME.search(volid):
            continue
        sid = storage or volid.partition(":")[0]
        allocated, _fmt = node.pve._qm_alloc(sid, newid, None, 4 * UNITS["M"])
        vm.config[key] = allocated + (f",{props}" if props else "")
        _name_cloudinit_drives(node, newid, [key])


def _cli_params(args: Args) -> list[tuple[str, str]]:
    """On the CLI `--sshkeys` is a file whose contents are URL-encoded (pve-cli.md §2.3)."""
    from urllib.parse import quote

    out = []
    for key, value in args.params():
        if key == "sshkeys":
            path = Path(args.cwd, value)
            try:
                value = quote(path.read_text(), safe="")
            except OSError as exc:
                raise CliError(f"unable to read '{value}' - {exc.strerror}") from None
        out.append((key, value))
    return out


async def clone(node: Node, args: Args) -> Result:
    vmid, path = _vm(node, args)
    newid = vmid_of(args.positional[1])
    source = node.guest(vmid)
    full = args.get("full")
    is_full = full.lower() in ("1", "yes", "true", "on") if full else not source.template
    params = [("newid", str(newid)), *args.params()]
    upid = await call(node, "POST", f"{path}/clone", params, _usage("clone", " <newid>"))
    kind = "full" if is_full else "linked"
    head = [
        f"create {kind} clone of drive {key} ({str(value).split(',')[0]})"
        for key, value in sorted(source.config.items())
        if DISK.match(key) and "media=cdrom" not in str(value) and not key.startswith("unused")
    ]
    result = await task(node, upid, head)
    if result.rc == 0:
        _clone_cloudinit_drives(node, vmid, newid, args.get("storage"))
        node.guestfs.copy_guest(vmid, newid)
    return result


async def set_(node: Node, args: Args) -> Result:
    _, path = _vm(node, args)
    vmid, _ = _vm(node, args)
    params = ctsetup.unique_tags(_printed(_imported(node, _cli_params(args), args.cwd, "")))
    await call(node, "PUT", f"{path}/config", params, _usage("set"))
    _name_cloudinit_drives(node, vmid, [k for k, v in params if v.endswith(":cloudinit")])
    return Result()


def print_drive(value: str) -> str:
    """A drive as the config stores it: qemu-server src/PVE/API2/Qemu.pm $check_drive_param
    and resize_vm write it through src/PVE/QemuServer/Drive.pm print_drive, that is pve-common
    src/PVE/JSONSchema.pm print_property_string: the default key (`file`) bare and first,
    then the other properties sorted by name (none of a drive's is required)."""
    parts = [p for p in value.split(",") if p]
    file = next((p for p in parts if "=" not in p), None)
    props = {p.split("=", 1)[0]: p for p in parts if "=" in p}
    if file is None and "file" in props:
        file = props.pop("file").split("=", 1)[1]
    return ",".join([*([file] if file else []), *(props[k] for k in sorted(props))])


def _printed(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, print_drive(v) if DISK.match(k) else v) for k, v in params]


IMPORT_FROM = re.compile(r"(?:^|,)import-from=([^,]+)")


def _imported(
    node: Node, params: list[tuple[str, str]], cwd: str, task_prefix: str
) -> list[tuple[str, str]]:
    """`--scsi0 STORAGE:0,import-from=SOURCE`: a new disk the size of SOURCE.

    qemu-server src/PVE/API2/Qemu.pm (9.2.6): $check_drive_param refuses any other size with
    a parameter error ("'import-from' requires special syntax - use <storage ID>:0,import-from=
    <source>"); create_disks then sizes the volume (`$import_from_volid`: "could not get size
    of <volid>", wrapped as "cannot import from '<volid>' - ..."; a path: "could not get file
    size of <path>"), inside the create task ("unable to create VM <id> - ..."), and the
    drive's config line keeps no `import-from`."""
    out = []
    for key, value in params:
        found = IMPORT_FROM.search(value) if DISK.match(key) else None
        if found is None:
            out.append((key, value))
            continue
        source = found.group(1)
        volume, _, _props = value.partition(",")
        sid, _, size = volume.partition(":")
        if size != "0":
            raise CliError(
                f"400 Parameter verification failed.\n{key}: 'import-from' requires special "
                f"syntax - use <storage ID>:0,import-from=<source>\n{_usage('create')}"
            )
        _check_import_type(key, source)
        try:
            nbytes = _import_size(node, source, cwd)
        except CliError as exc:
            raise CliError(task_prefix + exc.message.rstrip("\n")) from None
        rest = [p for p in value.split(",")[1:] if not p.startswith("import-from=")]
        gib = max(1, -(-nbytes // UNITS["G"]))
        out.append((key, ",".join([f"{sid}:{gib}", *rest])))
    return out


def _check_import_type(key: str, source: str) -> None:
    """qemu-server src/PVE/API2/Qemu.pm $check_storage_access: a storage volume to import
    from must be of type `images` or `import`, a parameter error before any task. Both
    profiles ship qemu-server >= 8.2.7, which says "needs to be 'images' or 'import'"
    (8.0.0-8.2.6 took `images` only: "<src> has wrong type '<vtype>' - not an image"). An
    absolute path is root's alone (PVE::Storage::check_volume_access); the simulated CLI is
    root."""
    if source.startswith("/"):
        return
    volname = source.partition(":")[2]
    vtype = volname.split("/")[0]
    if vtype in ("import", "images") or vtype.isdigit() or DISK_VOLUME.match(volname):
        return
    raise CliError(
        f"400 Parameter verification failed.\n{key}: {source} has wrong type '{vtype}' - "
        f"needs to be 'images' or 'import'\n{_usage('create')}"
    )


#: A disk volume on a block storage (lvm, zfs, rbd): pve-storage parse_volname gives `images`.
DISK_VOLUME = re.compile(r"^(?:vm|base)-\d+-disk-\d+")


def _import_size(node: Node, source: str, cwd: str) -> int:
    """The size of what `import-from` names: a volume of a storage, or a file by absolute
    path, which may be a storage's own file (a downloaded image under template/iso/)."""
    if source.startswith("/"):
        stored = _file_volume(node, source)
        if stored is not None:
            return int(stored.get("size") or UNITS["G"])
        host = Path(cwd, source)
        if not host.is_file():
            raise CliError(f"could not get file size of {source}")
        return host.stat().st_size
    sid, _, volname = source.partition(":")
    store = node.pve.storages.get(sid)
    if store is None:
        raise CliError(f"storage '{sid}' does not exist")
    volume = node.pve._volumes(sid).get(volname)
    if volume is None:
        raise CliError(f"cannot import from '{source}' - could not get size of {source}")
    return int(volume.get("size") or UNITS["G"])


#: Where a directory storage keeps files of a content type (pve-storage Plugin.pm
#: $vtype_subdirs).
FILE_DIRS = {"template/iso": "iso", "import": "import"}


def _file_volume(node: Node, path: str) -> dict[str, Any] | None:
    """The volume a storage's file path is (`<path>/template/iso/<f>` is `iso/<f>`)."""
    for sid, store in node.pve.storages.items():
        base = str(store.get("path") or "").rstrip("/")
        for folder, vtype in FILE_DIRS.items() if base else ():
            prefix = f"{base}/{folder}/"
            if path.startswith(prefix) and "/" not in path[len(prefix) :]:
                volume: dict[str, Any] | None = node.pve._volumes(sid).get(
                    f"{vtype}/{path[len(prefix) :]}"
                )
                return volume
    return None


async def status(node: Node, args: Args) -> Result:
    _, path = _vm(node, args)
    data = await call(node, "GET", f"{path}/status/current")
    if args.flag("verbose"):
        return Result(0, formats.verbose_status(data))
    return Result(0, f"status: {data.get('qmpstatus') or data.get('status') or 'unknown'}\n")


async def list_(node: Node, args: Args) -> Result:
    return Result(0, formats.qm_list(await call(node, "GET", f"/nodes/{node.name}/qemu")))


async def config(node: Node, args: Args) -> Result:
    _vmid, path = _vm(node, args)
    snapshot = args.get("snapshot")
    if snapshot:
        data = await call(node, "GET", f"{path}/snapshot/{snapshot}/config")
    else:
        data = dict(await call(node, "GET", f"{path}/config"))
        if not args.flag("current"):
            for item in await call(node, "GET", f"{path}/pending"):
                if item.get("delete"):
                    data.pop(item["key"], None)
                elif "pending" in item:
                    data[item["key"]] = item["pending"]
    if "cipassword" in data:
        data["cipassword"] = "**********"
    return Result(0, formats.config_text(data, []))


async def pending(node: Node, args: Args) -> Result:
    _, path = _vm(node, args)
    items = await call(node, "GET", f"{path}/pending")
    for item in items:
        if item["key"] == "cipassword":
            item.update({k: "**********" for k in ("value", "pending") if k in item})
    return Result(0, formats.pending_text(items))


async def snapshot(node: Node, args: Args) -> Result:
    _, path = _vm(node, args)
    params = [("snapname", args.positional[1]), *args.params()]
    upid = await call(node, "POST", f"{path}/snapshot", params, _usage("snapshot", " <snapname>"))
    return await task(node, upid)


async def rollback(node: Node, args: Args) -> Result:
    _, path = _vm(node, args)
    upid = await call(node, "POST", f"{path}/snapshot/{args.positional[1]}/rollback", args.params())
    return await task(node, upid)


async def template(node: Node, args: Args) -> Result:
    _, path = _vm(node, args)
    upid = await call(node, "POST", f"{path}/template", args.params())
    return await task(node, upid, upid_exit=False)


async def destroy(node: Node, args: Args) -> Result:
    vmid, path = _vm(node, args)
    upid = await call(node, "DELETE", path, args.params(), _usage("destroy"))
    result = await task(node, upid)
    if result.rc == 0:
        node.guestfs.drop_guest(vmid)
    return result


def _bytes(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", text)
    if not match:
        raise CliError(
            "400 Parameter verification failed.\nsize: value does not match the "
            "regex pattern\nqm resize <vmid> <disk> <size> [OPTIONS]"
        )
    return int(float(match.group(1)) * UNITS.get(match.group(2), 1))


def _size_text(size: int) -> str:
    for unit in ("T", "G", "M", "K"):
        if size % UNITS[unit] == 0:
            return f"{size // UNITS[unit]}{unit}"
    return str(size)


async def resize(node: Node, args: Args) -> Result:
    """qemu-server src/PVE/API2/Qemu.pm resize_vm (the same in 8.0.2, 8.3.13, 9.2.6): the size
    checks run inside a worker task ("disk '<disk>' does not exist", "shrinking disks is not
    supported"), and src/PVE/CLI/qm.pm's `disk resize` has no $upid_exit: a failed resize
    prints its error and exits 0. The current size is the volume's (volume_size_info), and
    the drive is written back with `size=` as pve-common JSONSchema.pm format_size prints it.
    fakepve's qemu resize is generic, so the size= of the drive is changed here."""
    vmid, _ = _vm(node, args)
    disk, size = args.positional[1], args.positional[2]
    grow = _bytes(size[1:]) if size.startswith("+") else _bytes(size)
    vm = node.guest(vmid)
    value = str(vm.config.get(disk) or "")
    if not value or not DISK.match(disk):
        return Result(0, "", f"disk '{disk}' does not exist\n")
    parts = [p for p in value.split(",") if not p.startswith("size=")]
    volume = node.pve._qm_volume(parts[0])
    current = re.search(r"(?:^|,)size=([^,]+)", value)
    old = int(volume["size"]) if volume and volume.get("size") else _config_size(current)
    new = old + grow if size.startswith("+") else grow
    if new < old:
        return Result(0, "", "shrinking disks is not supported\n")
    vm.config[disk] = print_drive(",".join([*parts, f"size={_size_text(new)}"]))
    # The volume itself grows too, so a clone or a `pvesm list` sees the new size.
    if volume is not None:
        volume["size"] = new
    return Result()


def _config_size(found: re.Match[str] | None) -> int:
    return _bytes(found.group(1)) if found else 0


async def disk_import(node: Node, args: Args) -> Result:
    """`qm disk import <vmid> <source> <storage>`: allocate a volume and attach it."""
    vmid, _path = _vm(node, args)
    source, storage = args.positional[1], args.positional[2]
    size = 2 * 1024**3
    if ":" in source and not source.startswith("/"):
        sid, _, volname = source.partition(":")
        volume = node.pve.storages.get(sid, {}).get("volumes", {}).get(volname)
        if volume is None:
            raise CliError(f"{source}: non-existent or non-regular file")
        size = int(volume.get("size") or size)
    else:
        host = Path(args.cwd, source)
        if not host.is_file():
            raise CliError(f"{source}: non-existent or non-regular file")
        size = max(host.stat().st_size, 1024**2)
    vm = node.guest(vmid)
    used = " ".join(str(v) for v in vm.config.values())
    index = 0
    while f"vm-{vmid}-disk-{index}" in used:
        index += 1
    fmt = args.get("format")
    params = [
        ("vmid", str(vmid)),
        ("filename", f"vm-{vmid}-disk-{index}"),
        ("size", f"{-(-size // 1024)}"),
    ]
    if fmt:
        params.append(("format", fmt))
    volid = await call(node, "POST", f"/nodes/{node.name}/storage/{storage}/content", params)
    target = args.get("target-disk")
    if not target:
        n = 0
        while f"unused{n}" in vm.config:
            n += 1
        target = f"unused{n}"
    vm.config[target] = volid if target.startswith("unused") else f"{volid},size={_size_text(size)}"
    return Result(
        0,
        lines(
            [
                f"importing disk '{source}' to VM {vmid} ...",
                f"transferred {size} of {size} bytes (100.00%)",
                f"{target}: successfully imported disk '{volid}'",
            ]
        ),
    )


def check_snippets(node: Node, vmid: int) -> None:
    """Generating the drive reads every `cicustom` snippet: qemu-server
    src/PVE/QemuServer/Cloudinit.pm read_cloudinit_snippets_file ("<volid> is not in the
    snippets directory") and pve-common src/PVE/File.pm file_get_contents ("can't open
    '<path>' - No such file or directory"), under the storage's path on the node."""
    custom = _ci_values(node.guest(vmid)).get("cicustom", "")
    for part in filter(None, custom.split(",")):
        volid = part.partition("=")[2]
        sid, _, volname = volid.partition(":")
        if not volname.startswith("snippets/"):
            raise CliError(f"{volid} is not in the snippets directory")
        path = Path(str((node.pve.storages.get(sid) or {}).get("path", "")), volname)
        if not node.host.path(str(path)).is_file():  # the node's path, in the node directory
            raise CliError(f"can't open '{path}' - No such file or directory")


def regenerate(node: Node, vmid: int) -> None:
    """The cloud-init drive now holds the config's values (a start or `cloudinit update`).

    qemu-server PVE/QemuServer.pm vmconfig_update_cloudinit_drive: pending cloud-init keys of
    a running VM are applied to its config when the drive is regenerated."""
    vm = node.guest(vmid)
    for key in [k for k in vm.pending if CI_KEY.match(k)]:
        value = vm.pending.pop(key)
        if value is None:
            vm.config.pop(key, None)
        else:
            vm.config[key] = value
    node.cloudinit_applied[vmid] = _ci_values(vm)


async def cloudinit_update(node: Node, args: Args) -> Result:
    """qemu-server PVE/API2/Qemu.pm cloudinit_update: regenerate the drive now."""
    vmid, _ = _vm(node, args)
    check_snippets(node, vmid)
    regenerate(node, vmid)
    node.sync(vmid)
    return Result()


async def cloudinit_pending(node: Node, args: Args) -> Result:
    """qemu-server PVE/API2/Qemu.pm cloudinit_pending: each cloud-init key, `cur` as the
    drive has it, `new` when the config holds another value, `del` when it was removed."""
    vmid, _ = _vm(node, args)
    have = node.cloudinit_applied.get(vmid, {})
    want = _ci_values(node.guest(vmid))
    items: list[dict[str, object]] = []
    for key in sorted(set(have) | set(want)):
        item: dict[str, object] = {"key": key}
        if key in have:
            item["value"] = have[key]
        if key not in want:
            item["delete"] = 1
        elif have.get(key) != want[key]:
            item["pending"] = want[key]
        if key == "cipassword":
            item.update({k: "**********" for k in ("value", "pending") if k in item})
        items.append(item)
    return Result(0, formats.pending_text(items))


async def start(node: Node, args: Args) -> Result:
    """`qm start`: the cloud-init drive is regenerated at every start (vm_start)."""
    vmid, _ = _vm(node, args)
    check_snippets(node, vmid)
    result = await _power_start(node, args)
    if result.rc == 0:
        regenerate(node, vmid_of(args.positional[0]))
    return result


async def cloudinit_dump(node: Node, args: Args) -> Result:
    vmid, _ = _vm(node, args)
    kind = args.positional[1]
    cfg = node.guest(vmid).config
    if kind == "user":
        out = [
            "#cloud-config",
            f"hostname: {cfg.get('name', f'VM{vmid}')}",
            "manage_etc_hosts: true",
        ]
        if cfg.get("ciuser"):
            out.append(f"user: {cfg['ciuser']}")
        if cfg.get("sshkeys"):
            from urllib.parse import unquote

            keys = [k for k in unquote(str(cfg["sshkeys"])).splitlines() if k.strip()]
            out += ["ssh_authorized_keys:", *[f"  - {k}" for k in keys]]
        out += [
            "chpasswd:",
            "  expire: False",
            "users:",
            "  - default",
            "package_upgrade: " + ("true" if str(cfg.get("ciupgrade", 1)) == "1" else "false"),
        ]
        return Result(0, lines(out))
    if kind == "network":
        out = ["version: 1", "config:"]
        for key in sorted(k for k in cfg if k.startswith("ipconfig")):
            out += ["    - type: physical", f"      name: eth{key[8:]}", "      subnets:"]
            opts = dict(p.split("=", 1) for p in str(cfg[key]).split(",") if "=" in p)
            if opts.get("ip") == "dhcp":
                out.append("      - type: dhcp4")
            elif opts.get("ip"):
                out += ["      - type: static", f"        address: '{opts['ip']}'"]
                if opts.get("gw"):
                    out.append(f"        gateway: '{opts['gw']}'")
        if cfg.get("nameserver") or cfg.get("searchdomain"):
            out.append("    - type: nameserver")
            out.append("      address:")
            out += [f"      - '{a}'" for a in str(cfg.get("nameserver", "")).split()]
            out.append("      search:")
            out += [f"      - '{d}'" for d in str(cfg.get("searchdomain", "")).split()]
        return Result(0, lines(out))
    if kind == "meta":
        return Result(0, f"instance-id: {node.guest(vmid).digest()}\n")
    raise CliError(
        "400 Parameter verification failed.\ntype: value 'x' does not have a value "
        "in the enumeration 'user, network, meta'"
    )


def _agent_ready(node: Node, vmid: int) -> Any:
    """qemu-server PVE/QemuServer/Agent.pm agent_available: the config must enable the agent
    ("No QEMU guest agent configured"), the VM must run ("VM <id> is not running"), and the
    agent inside must answer ("QEMU guest agent is not running"), which a booting guest does
    only after node.agent_delay seconds."""
    vm = node.guest(vmid)
    agent = str(vm.config.get("agent", "0"))
    if not (agent.startswith("1") or "enabled=1" in agent):
        raise CliError("No QEMU guest agent configured")
    if vm.status != "running":
        raise CliError(f"VM {vmid} is not running")
    started = getattr(vm, "started_at", None) or 0.0
    if time.time() - started < node.agent_delay:
        raise CliError("QEMU guest agent is not running")
    if vm.agent is None:
        vm.agent = {}
    return vm


async def guest_cmd(node: Node, args: Args) -> Result:
    vmid, path = _vm(node, args)
    command = args.positional[1]
    vm = _agent_ready(node, vmid)
    if command == "network-get-interfaces":
        # The guest configured its network from the cloud-init drive it booted with.
        booted = {**vm.config, **node.cloudinit_applied.get(vmid, {})}
        vm.agent["interfaces"] = vmguest.interfaces(vmid, booted)  # type: ignore[attr-defined]
    method = "GET" if command.startswith(("get-", "info", "network-get")) else "POST"
    data = await call(node, method, f"{path}/agent/{command}")
    if command == "ping":
        return Result()
    result = data.get("result", data) if isinstance(data, dict) else data
    return Result(0, json.dumps(result, indent=3, sort_keys=True, separators=(",", " : ")) + "\n")


def _json(body: object) -> str:
    return json.dumps(body, indent=3, sort_keys=True, separators=(",", " : ")) + "\n"


def _exec_timeout(args: Args) -> int | None:
    """`--timeout`: an integer >= 0 (qemu-server src/PVE/CLI/qm.pm `exec` parameters); with
    `--synchronous 0` it is refused (`exec` code: raise_param_exc)."""
    usage = "qm guest exec <vmid> [<extra-args>] [OPTIONS]"
    timeout = args.get("timeout")
    if timeout is not None and not re.fullmatch(r"\d+", timeout):
        raise CliError(
            "400 Parameter verification failed.\ntimeout: type check ('integer') failed - "
            f"got '{timeout}'\n{usage}"
        )
    if timeout is not None and (args.get("synchronous") or "1").lower() in FALSE:
        raise CliError(
            "400 Parameter verification failed.\nsynchronous: needs to be set for 'timeout'\n"
            + usage
        )
    return None if timeout is None else int(timeout)


async def guest_exec(node: Node, args: Args) -> Result:
    """Exit code 0 whatever the guest command did; read `exitcode` (pve-cli.md §2.3).

    qemu-server src/PVE/CLI/qm.pm `exec` (the same in 8.0.2, 8.3.13 and 9.2.6): `--pass-stdin`
    sends the CLI's stdin as the agent's input-data. Synchronous (the default), it polls
    exec-status until the command exited or `--timeout` seconds (default 30) passed, `0`
    waiting without limit; past the limit it warns "timeout reached, returning pid" and
    prints the pid. `--synchronous 0` prints `{"pid": N}` at once, whose result `qm guest
    exec-status <vmid> <pid>` then gives (src/PVE/API2/Qemu/Agent.pm). The simulated guest
    answers at once, so a synchronous call returns the result."""
    vmid, _ = _vm(node, args)
    _exec_timeout(args)
    _agent_ready(node, vmid)
    command = args.rest or args.positional[1:]
    if not command:
        raise CliError("No command given")
    stdin = (args.stdin or "") if args.flag("pass-stdin") else None
    answer = node.guestfs.exec(vmid, command, stdin)
    body: dict[str, object] = {"exitcode": answer.rc, "exited": 1}
    if answer.stdout:
        body["out-data"] = answer.stdout
    if answer.stderr:
        body["err-data"] = answer.stderr
    if (args.get("synchronous") or "1").lower() in FALSE:
        execs = node.agent_execs.setdefault(vmid, {})
        pid = 1000 + len(execs) + sum(len(v) for v in node.agent_execs.values())
        execs[pid] = body
        return Result(0, _json({"pid": pid}))
    return Result(0, _json(body))


async def guest_exec_status(node: Node, args: Args) -> Result:
    """The result of a detached `qm guest exec`; qemu-ga forgets a pid once it reported it
    exited (qga/commands.c guest-exec-status), so a second read is the agent's error."""
    vmid, _ = _vm(node, args)
    _agent_ready(node, vmid)
    pid = args.positional[1]
    body = node.agent_execs.get(vmid, {}).pop(int(pid), None) if pid.isdigit() else None
    if body is None:
        raise CliError("Agent error: Invalid parameter 'pid'")
    return Result(0, _json(body))


ACTIONS = ("start", "stop", "shutdown", "reboot", "reset", "suspend", "resume")
_power_start = guest_verbs.power(_vm, "qm", "start", _usage("start"))
VERBS: dict[str, Verb] = {
    "create": Verb(create, True, ("vmid",)),
    "clone": Verb(clone, True, ("vmid", "newid")),
    "set": Verb(set_, True, ("vmid",)),
    **{a: Verb(guest_verbs.power(_vm, "qm", a, _usage(a)), True, ("vmid",)) for a in ACTIONS},
    "status": Verb(status, False, ("vmid",)),
    "list": Verb(list_, False),
    "config": Verb(config, False, ("vmid",)),
    "pending": Verb(pending, False, ("vmid",)),
    "snapshot": Verb(snapshot, True, ("vmid", "snapname")),
    "listsnapshot": Verb(guest_verbs.listsnapshot(_vm), False, ("vmid",)),
    "delsnapshot": Verb(guest_verbs.delsnapshot(_vm), True, ("vmid", "snapname")),
    "rollback": Verb(rollback, True, ("vmid", "snapname")),
    "template": Verb(template, True, ("vmid",)),
    "destroy": Verb(destroy, True, ("vmid",)),
    "start": Verb(start, True, ("vmid",)),
    "resize": Verb(resize, True, ("vmid", "disk", "size")),
    "disk resize": Verb(resize, True, ("vmid", "disk", "size")),
    "unlock": Verb(guest_verbs.unlock(_vm), True, ("vmid",)),
    "importdisk": Verb(disk_import, True, ("vmid", "source", "storage")),
    "disk import": Verb(disk_import, True, ("vmid", "source", "storage")),
    "cloudinit update": Verb(cloudinit_update, True, ("vmid",)),
    "cloudinit dump": Verb(cloudinit_dump, False, ("vmid", "type")),
    "cloudinit pending": Verb(cloudinit_pending, False, ("vmid",)),
    "guest exec-status": Verb(guest_exec_status, False, ("vmid", "pid")),
    "guest cmd": Verb(guest_cmd, False, ("vmid", "command")),
    "agent": Verb(guest_cmd, False, ("vmid", "command")),
    "guest exec": Verb(guest_exec, False, ("vmid",)),
}
