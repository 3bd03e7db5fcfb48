"""`zpool`, `zfs` and `blkid`: pools on named disks, datasets and their properties.

Output and error texts follow OpenZFS 2.2 (cmd/zpool/zpool_main.c, cmd/zpool/zpool_vdev.c,
cmd/zfs/zfs_main.c, lib/libzfs/libzfs_util.c zfs_nicestrtonum) and util-linux blkid
(misc-utils/blkid.c); the conformance tests cite each one.
"""

from __future__ import annotations

import re

from .argv import Args
from .common import Verb
from .hoststate import HostState
from .node import Node
from .result import CliError, Result, lines

#: Inheritable properties and their defaults, as `zfs get -p` prints them.
DEFAULTS = {"recordsize": "131072", "compression": "on", "sync": "standard", "atime": "on"}
NOT_INHERITED = {"quota": "0", "reservation": "0"}
CHOICES = {
    "compression": re.compile(r"(on|off|lz4|zle|lzjb|gzip(-[1-9])?|zstd(-fast)?(-\d+)?)$"),
    "sync": re.compile(r"(standard|always|disabled)$"),
    "atime": re.compile(r"(on|off)$"),
}
SIZES = {"recordsize", "quota", "reservation"}
#: Properties `zfs get` computes rather than reads from DEFAULTS (mountpoint, mounted).
COMPUTED = {"mountpoint", "mounted"}
SUFFIX = "BKMGTPEZ"


def nicestrtonum(text: str) -> int:
    """libzfs zfs_nicestrtonum: a number with an optional K/M/G/T/P/E/Z suffix (B, iB allowed),
    fractions allowed, in powers of 1024, truncated to an integer; its errors "bad numeric
    value" (not starting with a digit or '.') and "invalid numeric suffix" (str2shift)."""
    found = re.match(r"\d+(?:\.\d*)?|\.\d+", text)
    if found is None:
        raise ValueError(f"bad numeric value '{text}'")
    rest = text[found.end() :]
    unit = rest[:1].upper()
    tail = rest[1:].upper()
    if rest and (unit not in SUFFIX or (tail and (unit == "B" or tail not in ("B", "IB")))):
        raise ValueError(f"invalid numeric suffix '{rest}'")
    shift = SUFFIX.index(unit) if rest else 0
    return int(float(found[0]) * 1024**shift)


def _state(node: Node) -> HostState:
    return node.host


def _options(argv: list[str], letters: str, valued: str) -> tuple[dict[str, list[str]], list[str]]:
    """glibc getopt(3) for `-Hp -o a,b`: flags in ``letters``, options taking a value in
    ``valued``; options may follow operands (glibc permutes) until `--`, which ends them."""
    opts: dict[str, list[str]] = {}
    operands: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return opts, operands + argv[i + 1 :]
        if not token.startswith("-") or token == "-":
            operands.append(token)
            i += 1
            continue
        j = 1
        while j < len(token):
            letter = token[j]
            if letter in valued:
                value = token[j + 1 :] or (argv[i + 1] if i + 1 < len(argv) else None)
                if value is None:
                    raise CliError(f"missing argument for '{letter}' option", rc=2)
                if not token[j + 1 :]:
                    i += 1
                opts.setdefault(letter, []).append(value)
                break
            if letter not in letters:
                raise CliError(f"invalid option '{letter}'", rc=2)
            opts.setdefault(letter, []).append("")
            j += 1
        i += 1
    return opts, operands


def _property(name: str, value: str) -> str:
    """A property value as stored (`zfs get -p` form), or zfs's error for a bad one."""
    if name in SIZES:
        try:
            number = 0 if value == "none" else nicestrtonum(value)
        except ValueError as exc:
            raise CliError(f"cannot set property: {exc}", rc=1) from None
        if name == "recordsize" and (number < 512 or number > 1 << 24 or number & (number - 1)):
            raise CliError(f"cannot set property: '{name}' must be power of 2 from 512B to 16M", 1)
        return str(number)
    pattern = CHOICES.get(name)
    if pattern is None and name != "mountpoint":
        raise CliError(f"invalid property '{name}'", rc=2)
    if pattern is not None and not pattern.match(value):
        raise CliError(f"cannot set property: bad {name} value '{value}'", rc=1)
    return value


def _get(state: HostState, dataset: str, prop: str) -> tuple[str, str]:
    """(value, source) with inheritance along the dataset's parents."""
    if prop == "mountpoint":
        own = state.datasets[dataset].get(prop)
        return (own, "local") if own else (f"/{dataset}", "default")
    if prop == "mounted":  # read-only, no source (zfsprops(7))
        return ("yes" if state.mountpoint(dataset) else "no", "-")
    if prop in NOT_INHERITED:
        own = state.datasets[dataset].get(prop)
        return (own, "local") if own is not None else (NOT_INHERITED[prop], "default")
    name = dataset
    while True:
        if prop in state.datasets[name]:
            source = "local" if name == dataset else f"inherited from {name}"
            return state.datasets[name][prop], source
        if "/" not in name:
            return DEFAULTS[prop], "default"
        name = name.rsplit("/", 1)[0]


def _require(state: HostState, dataset: str) -> None:
    if dataset not in state.datasets:
        raise CliError(f"cannot open '{dataset}': dataset does not exist", rc=1)


# ------------------------------------------------------------------ zpool


async def zpool_list(node: Node, args: Args) -> Result:
    """`zpool list [-H] [-o field,...] [pool...]`: tab-separated with -H, no header."""
    state = _state(node)
    opts, pools = _options(args.positional, "Hpv", "o")
    fields = (opts.get("o") or ["name,size,alloc,free,health"])[-1].split(",")
    rows = []
    for pool in pools or sorted(state.pools):
        if pool not in state.pools:
            raise CliError(f"cannot open '{pool}': no such pool", rc=1)
        health = state.pool_health(pool)
        values = {"name": pool, "health": health, "size": "1.81T", "alloc": "0", "free": "1.81T"}
        rows.append([values.get(f, "-") for f in fields])
    if "H" in opts:
        return Result(0, lines(["\t".join(r) for r in rows]))
    return Result(0, lines(["  ".join(f.upper() for f in fields), *("  ".join(r) for r in rows)]))


#: Pool properties `zpool create -o` takes, with the values of the index ones
#: (module/zcommon/zpool_prop.c zprop_register_index: "on | off", "wait | continue | panic").
POOL_INDEX = {
    "autotrim": ("on", "off"), "autoexpand": ("on", "off"), "autoreplace": ("on", "off"),
    "listsnapshots": ("on", "off"), "multihost": ("on", "off"),
    "failmode": ("wait", "continue", "panic"),
}  # fmt: skip
POOL_STRINGS = {"comment", "cachefile", "altroot"}


def _pool_property(pool: str, item: str) -> None:
    """lib/libzfs/libzfs_pool.c zpool_valid_proplist (openzfs zfs-2.2.7), each error as
    `cannot create 'POOL': ...`: an unknown name "invalid property 'x'", an index value
    outside its list "'x' must be one of 'on | off'" (libzfs_util.c zprop_parse_value),
    ashift not 0 or 9-16 (ASHIFT_MIN/MAX, include/sys/spa.h) "property 'ashift' number N is
    invalid, only values between 9 and 16 are allowed.", a bad number
    zfs_nicestrtonum's text."""
    name, _, value = item.partition("=")
    head = f"cannot create '{pool}'"
    if name == "ashift":
        try:
            number = nicestrtonum(value)
        except ValueError as exc:
            raise CliError(f"{head}: {exc}", rc=1) from None
        if number != 0 and not 9 <= number <= 16:
            raise CliError(
                f"{head}: property 'ashift' number {number} is invalid, only values between 9 "
                "and 16 are allowed.",
                rc=1,
            )
    elif name in POOL_INDEX:
        if value not in POOL_INDEX[name]:
            shown = " | ".join(POOL_INDEX[name])
            raise CliError(f"{head}: '{name}' must be one of '{shown}'", rc=1)
    elif name not in POOL_STRINGS:
        raise CliError(f"{head}: invalid property '{name}'", rc=1)


async def zpool_create(node: Node, args: Args) -> Result:
    """`zpool create [-f] [-o p=v] [-O p=v] pool [mirror|raidz1] disk...`."""
    state = _state(node)
    opts, rest = _options(args.positional, "fn", "oOm")
    if len(rest) < 2:
        raise CliError("missing vdev specification", rc=2)
    pool, vdevs = rest[0], rest[1:]
    for item in opts.get("o", []):
        _pool_property(pool, item)
    kind = vdevs[0] if vdevs[0] in ("mirror", "raidz", "raidz1") else ""
    disks = vdevs[1:] if kind else vdevs
    if pool in state.pools:
        raise CliError(f"cannot create '{pool}': pool already exists", rc=1)
    if kind == "mirror" and len(disks) < 2:
        raise CliError("invalid vdev specification: mirror requires at least 2 devices", rc=1)
    for disk in disks:
        if disk not in state.disks:
            raise CliError(f"cannot resolve path '{disk}'", rc=1)
        owner = next((p for p, (_, d) in state.pools.items() if disk in d), None)
        if owner is not None:
            raise CliError(
                f"invalid vdev specification\nuse '-f' to override the following errors:\n"
                f"{disk} is part of active pool '{owner}'",
                rc=1,
            )
    signed = [d for d in disks if state.disks[d]]
    if signed and "f" not in opts:
        found = [f"{d} contains a filesystem of type '{state.disks[d]}'" for d in signed]
        raise CliError(
            "invalid vdev specification\nuse '-f' to override the following errors:\n"
            + "\n".join(found),
            rc=1,
        )
    props = {}
    for item in opts.get("O", []):
        key, _, value = item.partition("=")
        props[key] = _property(key, value)
    for disk in disks:
        state.disks[disk] = "zfs_member"
    state.pools[pool] = ("raidz1" if kind == "raidz" else kind, disks)
    state.datasets[pool] = props
    state.mount(pool)
    return Result()


STATUS_TEXT = {
    # zfs include/libzfs.h ZPOOL_STATUS_OFFLINE_DEV, explained in zpool_main.c status_callback.
    "DEGRADED": (
        "One or more devices has been taken offline by the administrator.\n"
        "\tSufficient replicas exist for the pool to continue functioning in a\n"
        "\tdegraded state.",
        "Online the device using 'zpool online' or replace the device with\n\t'zpool replace'.",
    ),
    "FAULTED": (
        "One or more devices could not be used because the label is missing or\n"
        "\tinvalid.  There are insufficient replicas for the pool to continue\n\tfunctioning.",
        "Destroy and re-create the pool from\n\ta backup source.",
    ),
}


def _status(state: HostState, pool: str) -> list[str]:
    """One pool as `zpool status` prints it (zpool_main.c status_callback, print_status_config:
    the config table is NAME STATE READ WRITE CKSUM, members indented two spaces per level)."""
    kind, disks = state.pools[pool]
    health = state.pool_health(pool)
    out = [f"  pool: {pool}", f" state: {health}"]
    if health in STATUS_TEXT:
        status, action = STATUS_TEXT[health]
        out += [f"status: {status}", f"action: {action}"]
    rows = [(pool, health)]
    indent = "  "
    if kind:
        rows.append((f"  {kind}-0", health))
        indent = "    "
    rows += [(indent + d.rsplit("/", 1)[-1], "OFFLINE" if d in state.offline else "ONLINE")
             for d in disks]  # fmt: skip
    width = max(len(name) for name, _ in rows) + 2  # print_status_config's name width
    out += ["config:", "", f"\t{'NAME':<{width}}{'STATE':<8}  READ WRITE CKSUM"]
    out += [f"\t{name:<{width}}{st:<8}     0     0     0" for name, st in rows]
    return [*out, "", "errors: No known data errors"]


async def zpool_status(node: Node, args: Args) -> Result:
    """`zpool status [-x] [pool...]`: with -x only unhealthy pools, or "all pools are
    healthy" (zpool_main.c zpool_do_status); "no pools available" on stderr without pools."""
    state = _state(node)
    opts, pools = _options(args.positional, "xvPLp", "")
    for pool in pools:
        if pool not in state.pools:
            raise CliError(f"cannot open '{pool}': no such pool", rc=1)
    chosen = pools or sorted(state.pools)
    if not chosen:
        return Result(0, "", "no pools available\n")
    if "x" in opts:
        chosen = [p for p in chosen if state.pool_health(p) != "ONLINE"]
        if not chosen:
            shown = f"pool '{pools[0]}' is healthy" if len(pools) == 1 else "all pools are healthy"
            return Result(0, f"{shown}\n")
    blocks = [_status(state, p) for p in chosen]
    return Result(0, "\n\n".join("\n".join(b) for b in blocks) + "\n")


async def zpool_offline(node: Node, args: Args) -> Result:
    """`zpool offline POOL DEVICE`: a member of a redundant vdev only (zpool_main.c,
    libzfs_pool.c zpool_vdev_offline: "cannot offline X: no valid replicas", exit 1)."""
    state = _state(node)
    _opts, rest = _options(args.positional, "tf", "")
    if len(rest) != 2:
        raise CliError("missing pool name or device", rc=2)
    pool, disk = rest
    if pool not in state.pools:
        raise CliError(f"cannot open '{pool}': no such pool", rc=1)
    kind, disks = state.pools[pool]
    member = next((d for d in disks if disk in (d, d.rsplit("/", 1)[-1])), None)
    if member is None:
        raise CliError(f"cannot offline {disk}: no such device in pool", rc=1)
    others = [d for d in disks if d != member and d not in state.offline]
    if not kind or not others:
        raise CliError(f"cannot offline {disk}: no valid replicas", rc=1)
    state.offline.add(member)
    return Result()


async def zpool_online(node: Node, args: Args) -> Result:
    """`zpool online POOL DEVICE`."""
    state = _state(node)
    _opts, rest = _options(args.positional, "e", "")
    if len(rest) != 2 or rest[0] not in state.pools:
        raise CliError(f"cannot open '{rest[0] if rest else ''}': no such pool", rc=1)
    state.offline -= {d for d in state.pools[rest[0]][1] if rest[1] in (d, d.rsplit("/", 1)[-1])}
    return Result()


# ------------------------------------------------------------------ zfs


async def zfs_list(node: Node, args: Args) -> Result:
    """`zfs list -H -o name [-r] [dataset...]`."""
    state = _state(node)
    opts, names = _options(args.positional, "Hpr", "ot")
    fields = (opts.get("o") or ["name"])[-1].split(",")
    selected = []
    for name in names or sorted(state.datasets):
        _require(state, name)
        selected.append(name)
        if "r" in opts:
            selected.extend(d for d in sorted(state.datasets) if d.startswith(name + "/"))
    rows = [[d if f == "name" else _get(state, d, f)[0] for f in fields] for d in selected]
    return Result(0, lines(["\t".join(r) for r in rows]))


async def zfs_get(node: Node, args: Args) -> Result:
    """`zfs get -H -p -o name,property,value,source prop[,prop] dataset...`."""
    state = _state(node)
    opts, rest = _options(args.positional, "Hp", "o")
    if len(rest) < 2:
        raise CliError("missing property argument", rc=2)
    fields = (opts.get("o") or ["name,property,value,source"])[-1].split(",")
    props = rest[0].split(",")
    out = []
    for dataset in rest[1:]:
        _require(state, dataset)
        for prop in props:
            if prop not in DEFAULTS and prop not in NOT_INHERITED and prop not in COMPUTED:
                raise CliError(f"bad property list: invalid property '{prop}'", rc=2)
            value, source = _get(state, dataset, prop)
            row = {"name": dataset, "property": prop, "value": value, "source": source}
            out.append("\t".join(row[f] for f in fields))
    return Result(0, lines(out))


async def zfs_create(node: Node, args: Args) -> Result:
    state = _state(node)
    opts, rest = _options(args.positional, "pu", "o")
    if len(rest) != 1:
        raise CliError("missing filesystem argument" if not rest else "too many arguments", rc=2)
    name = rest[0]
    if name in state.datasets:
        raise CliError(f"cannot create '{name}': dataset already exists", rc=1)
    parent = name.rsplit("/", 1)[0]
    if "/" not in name or parent not in state.datasets:
        raise CliError(f"cannot create '{name}': parent does not exist", rc=1)
    props = {}
    for item in opts.get("o", []):
        key, _, value = item.partition("=")
        props[key] = _property(key, value)
    state.datasets[name] = props
    state.mount(name)
    return Result()


async def zfs_set(node: Node, args: Args) -> Result:
    """`zfs set prop=value ... dataset` (several assignments since OpenZFS 2.1)."""
    state = _state(node)
    rest = args.positional
    if len(rest) < 2:
        raise CliError("missing dataset name" if rest else "missing arguments", rc=2)
    dataset = rest[-1]
    updates = {}
    for item in rest[:-1]:
        key, eq, value = item.partition("=")
        if not eq:
            raise CliError(f"missing '=' for property argument '{item}'", rc=2)
        updates[key] = _property(key, value)
    _require(state, dataset)
    state.datasets[dataset].update(updates)
    return Result()


# ------------------------------------------------------------------ blkid


async def blkid(node: Node, args: Args) -> Result:
    """`blkid -p -o export -- DEVICE`: low-level probe of one device.

    util-linux misc-utils/blkid.c: a device that cannot be opened prints
    `blkid: error: DEV: No such file or directory` and exits 2 (BLKID_EXIT_NOTFOUND); a device
    without a signature prints nothing and exits 2; a found signature prints KEY=value lines."""
    state = _state(node)
    _opts, devices = _options(args.positional, "p", "o")
    out, rc = [], 0
    for device in devices:
        if device not in state.disks:
            return Result(2, lines(out), f"blkid: error: {device}: No such file or directory\n")
        signature = state.disks[device]
        if signature is None:
            rc = 2
            continue
        out += [f"DEVNAME={device}", f"TYPE={signature}", "USAGE=filesystem"]
    return Result(rc if not out else 0, lines(out))


ZPOOL: dict[str, Verb] = {
    "list": Verb(zpool_list, False, raw=True),
    "create": Verb(zpool_create, True, raw=True),
    "status": Verb(zpool_status, False, raw=True),
    "offline": Verb(zpool_offline, True, raw=True),
    "online": Verb(zpool_online, True, raw=True),
}
ZFS: dict[str, Verb] = {
    "list": Verb(zfs_list, False, raw=True),
    "get": Verb(zfs_get, False, raw=True),
    "create": Verb(zfs_create, True, raw=True),
    "set": Verb(zfs_set, True, raw=True),
}
BLKID: dict[str, Verb] = {"": Verb(blkid, False, raw=True)}
