"""The guest OS facts Proxmox writes into a container at start, and the tools that read them.

At every start, pve-container's prestart hook runs `PVE::LXC::Setup->pre_start_hook`
(src/PVE/LXC/Setup/Base.pm `pre_start_hook`): `set_hostname` writes /etc/hostname and the
PVE section of /etc/hosts (`update_etc_hosts`: `<net0 address> <name>.<searchdomain>...
<name>`, or 127.0.1.1 without a static address), `set_dns` writes /etc/resolv.conf from the
container's `nameserver`/`searchdomain`, else the host's (`lookup_dns_conf`, pve-common
src/PVE/INotify.pm `read_etc_resolv_conf`), and `setup_network` writes the interfaces:
Debian src/PVE/LXC/Setup/Debian.pm `setup_network` (/etc/network/interfaces), Ubuntu 17.10 and
later src/PVE/LXC/Setup/Ubuntu.pm -> Base.pm `setup_systemd_networkd`
(/etc/systemd/network/<if>.network). A file with a `.pve-ignore.<name>` beside it is left
alone (`ct_is_file_ignored`); an `unmanaged` container gets nothing. Sections are marked as
`ct_modify_file` marks them.

Inside a running container `ip -o addr` shows net0..netN's static addresses (iproute2
ip/ipaddress.c `print_addrinfo`), and `getent hosts|ahosts` resolves through /etc/hosts, then
the nameservers of /etc/resolv.conf (glibc nss/getent.c, `hosts: files dns`): a nameserver
answers when it is the node's own dnsmasq (dnsmasq.service active and its `listen-address`),
from its `host-record=`/`address=/.../` lines and the node's /etc/hosts (dnsmasq src/option.c);
the simulator reaches no other DNS server. Nothing found exits 2.

Devices: lxc mounts each `lxc.mount.entry` at start (lxc src/lxc/conf.c
`mount_entry_on_generic`): `create=file` first makes an empty regular file at the target
(`mount_entry_create_dir_file`), then the source is bind-mounted on it, and with `optional` a
missing source leaves only that empty file. pve-container's src/lxc-pve-autodev-hook puts each
`devN` device in. So a GPU passed through while the node's driver is not loaded is a plain
empty file in the container, and only a loaded driver makes it a character device.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .result import Result

BEGIN, END = "# --- BEGIN PVE ---\n", "# --- END PVE ---\n"
LO4 = "127.0.0.1 localhost.localnet localhost\n"
LO6 = "::1 localhost.localnet localhost\n"
Where = Callable[[str], Path]


def _props(value: Any) -> dict[str, str]:
    """A netN property string as its keys (`name=eth0,ip=...`)."""
    out = {}
    for part in str(value or "").split(","):
        key, _, val = part.partition("=")
        out[key] = val
    return out


def interfaces(config: Mapping[str, Any]) -> list[dict[str, str]]:
    """The container's netN entries that have a name, in netN order."""
    keys = sorted(
        (k for k in config if k.startswith("net") and k[3:].isdigit()), key=lambda k: int(k[3:])
    )
    return [net for net in (_props(config[k]) for k in keys) if net.get("name")]


def _static(value: str | None) -> bool:
    return bool(value) and value not in ("dhcp", "manual", "auto")


def _write(where: Where, inner: str, data: str, marked: bool = True, replace: bool = False) -> None:
    """Base.pm ct_modify_file (marked) or ct_file_set_contents, unless `.pve-ignore.<name>`."""
    path = where(inner)
    if (path.parent / f".pve-ignore.{path.name}").is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not marked:
        path.write_text(data)
        return
    section = BEGIN + data + END
    old = path.read_text() if path.is_file() else ""
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        path.write_text(head + section + rest.partition(END)[2])
    elif replace or not old:
        path.write_text(section)
    else:
        path.write_text(old.rstrip("\n") + "\n" + section)


def host_resolver(etc: Path) -> tuple[list[str], str | None]:
    """The host's nameservers (first three) and search domain (INotify read_etc_resolv_conf)."""
    path = etc / "resolv.conf"
    servers: list[str] = []
    search = None
    for line in path.read_text().splitlines() if path.is_file() else []:
        words = line.split()
        if len(words) >= 2 and words[0] in ("search", "domain"):
            search = words[1]
        elif len(words) >= 2 and words[0] == "nameserver" and len(servers) < 3:
            servers.append(words[1])
    return servers, search


def start(where: Where, config: Mapping[str, Any], host_etc: Path) -> None:
    """Write what pre_start_hook writes into a container about to start."""
    ostype = str(config.get("ostype") or "")
    if ostype == "unmanaged":
        return
    host_servers, host_search = host_resolver(host_etc)
    search = config.get("searchdomain") or host_search or ""
    servers = str(config["nameserver"]).split() if config.get("nameserver") else host_servers
    hostname = str(config.get("hostname") or "localhost")
    short = hostname.split(".")[0]
    nets = interfaces(config)
    primary = nets[0] if nets and config.get("net0") else {}
    address = next(
        (primary[k].split("/")[0] for k in ("ip", "ip6") if _static(primary.get(k))), None
    )
    if "." in hostname:
        names = f"{hostname} {short}"
    else:
        names = " ".join([*(f"{hostname}.{d}" for d in search.replace(",", " ").split()), hostname])
    hosts = "" if where("/etc/hosts").is_file() else LO4 + LO6
    hosts += (
        f"{address} {names}\n"
        if address
        else f"127.0.1.1 {names if short != 'localhost' else short}\n"
    )
    _write(where, "/etc/hosts", hosts)
    _write(where, "/etc/hostname", f"{short}\n", marked=False)
    resolv = (f"search {' '.join(search.replace(',', ' ').split())}\n" if search else "") + "".join(
        f"nameserver {s}\n" for s in servers
    )
    _write(where, "/etc/resolv.conf", resolv, replace=True)
    if ostype == "ubuntu":
        for net in nets:
            _write(
                where, f"/etc/systemd/network/{net['name']}.network", _networkd(net), marked=False
            )
    elif ostype == "debian":
        _write(where, "/etc/network/interfaces", _ifupdown(nets), marked=False)


def _networkd(net: Mapping[str, str]) -> str:
    """Base.pm setup_systemd_networkd for one interface (no off-link gateway routes)."""
    name = net["name"]
    text = f"[Match]\nName = {name}\n\n[Network]\n"
    text += f"Description = Interface {name} autoconfigured by PVE\n"
    dhcp = 0
    accept_ra = "false"
    if net.get("ip") == "dhcp":
        dhcp |= 1
    elif _static(net.get("ip")):
        text += f"Address = {net['ip']}\n"
    if net.get("gw"):
        text += f"Gateway = {net['gw']}\n"
    if net.get("ip6") == "dhcp":
        dhcp |= 2
        accept_ra = "true"
    elif net.get("ip6") == "auto":
        accept_ra = "true"
    elif _static(net.get("ip6")):
        text += f"Address = {net['ip6']}\n"
    if net.get("gw6"):
        accept_ra = "false"
        text += f"Gateway = {net['gw6']}\n"
    return text + f"DHCP = {('no', 'ipv4', 'ipv6', 'yes')[dhcp]}\nIPv6AcceptRA = {accept_ra}\n"


def _ifupdown(nets: list[dict[str, str]]) -> str:
    """Debian.pm setup_network for a template without interfaces of its own (Debian 10+)."""
    text = ""
    for net in sorted(nets, key=lambda n: n["name"]):
        name = net["name"]
        text += f"auto {name}\n"
        for family, key, gateway in (("inet", "ip", "gw"), ("inet6", "ip6", "gw6")):
            value = net.get(key)
            if not value:
                continue
            if not _static(value):
                text += f"iface {name} {family} {value}\n\n"
                continue
            text += f"iface {name} {family} static\n\taddress {value}\n"
            text += f"\tgateway {net[gateway]}\n" if net.get(gateway) else ""
            text += "\n"
    return text


#: NVIDIA's reserved character-device major (open-gpu-kernel-modules nv.h
#: `NV_MAJOR_DEVICE_NUMBER`); nvidiactl is its minor 255, nvidia<N> minor N.
NVIDIA_MAJOR = 195


def host_devices(node_root: Path, gpus: int) -> set[str]:
    """The node's device nodes: its `dev/` files (ctsetup.py), and with the NVIDIA driver
    loaded, `/dev/nvidiactl`, `/dev/nvidia-uvm`, `/dev/nvidia-uvm-tools` and one
    `/dev/nvidia<N>` per GPU (``gpus``: 0 without a loaded driver)."""
    dev = node_root / "dev"
    found = {"/" + str(p.relative_to(node_root)) for p in dev.rglob("*") if p.is_file()}
    if gpus:
        found |= {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"}
        found |= {f"/dev/nvidia{index}" for index in range(gpus)}
    return found


def passed_devices(
    where: Where, raw: list[tuple[str, str]], config: Mapping[str, Any], host: set[str]
) -> set[str]:
    """The device nodes a starting container gets (the module notes): its bind mount entries
    whose source the node has, and its devN paths. Placeholders are created as lxc does."""
    devices = set()
    for key, value in raw:
        words = value.split()
        if key != "lxc.mount.entry" or len(words) < 4 or "bind" not in words[3].split(","):
            continue
        source, target, options = words[0], "/" + words[1].lstrip("/"), words[3].split(",")
        path = where(target)
        if "create=dir" in options:
            path.mkdir(parents=True, exist_ok=True)
        elif "create=file" in options and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o000)
        if source in host:
            devices.add(target)
    for key in config:
        if key.startswith("dev") and key[3:].isdigit():
            device = _props(config[key]).get("path") or str(config[key]).split(",")[0]
            devices.add(device)
    return devices


def ip_addr(config: Mapping[str, Any], argv: list[str]) -> Result:
    """`ip [-o] [-4|-6] addr [show] [dev IF]` for a running container (print_addrinfo)."""
    family = "inet6" if "-6" in argv else "inet" if "-4" in argv else ""
    dev = argv[argv.index("dev") + 1] if "dev" in argv[:-1] else None
    rows = [("lo", "inet", "127.0.0.1/8", "host"), ("lo", "inet6", "::1/128", "host")]
    for net in interfaces(config):
        for key, fam in (("ip", "inet"), ("ip6", "inet6")):
            if _static(net.get(key)):
                rows.append((net["name"], fam, net[key], "global"))
    index = {name: i for i, name in enumerate(dict.fromkeys(r[0] for r in rows), start=1)}
    if dev is not None and dev not in index:
        return Result(1, "", f'Device "{dev}" does not exist.\n')
    out = ""
    for name, fam, cidr, scope in rows:
        if (dev and name != dev) or (family and fam != family):
            continue
        brd = ""
        if fam == "inet" and scope == "global":
            brd = f"brd {ipaddress.IPv4Interface(cidr).network.broadcast_address} "
        label = name if fam == "inet" else ""
        out += f"{index[name]}: {name}    {fam} {cidr} {brd}scope {scope} {label}"
        out += "\\       valid_lft forever preferred_lft forever\n"
    return Result(0, out)


def _hosts_file(text: str) -> list[tuple[str, list[str]]]:
    entries = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2:
            entries.append((words[0], words[1:]))
    return entries


def _dnsmasq_records(root: Path) -> list[tuple[str, list[str]]]:
    """The names the node's dnsmasq answers: host-record=, address=/name/ip, its /etc/hosts."""
    records = []
    for conf in sorted((root / "etc" / "dnsmasq.d").glob("*.conf")):
        for line in conf.read_text().splitlines():
            key, _, value = line.strip().partition("=")
            if key == "host-record":
                parts = value.split(",")
                addrs = [p for p in parts if _is_ip(p)]
                names = [p for p in parts if not _is_ip(p) and not p.isdigit()]
                records += [(a, names) for a in addrs]
            elif key == "address" and value.count("/") >= 2:
                _, name, addr = value.split("/", 2)
                records.append((addr, [name]))
    hosts = root / "etc" / "hosts"
    return records + (_hosts_file(hosts.read_text()) if hosts.is_file() else [])


def _dnsmasq_listens(root: Path, server: str, active: bool) -> bool:
    if not active:
        return False
    for conf in (root / "etc" / "dnsmasq.d").glob("*.conf"):
        for line in conf.read_text().splitlines():
            key, _, value = line.strip().partition("=")
            if key == "listen-address" and server in value.split(","):
                return True
    return False


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def tool(
    where: Where, config: Mapping[str, Any], node_root: Path, dnsmasq: bool, argv: list[str]
) -> Result | None:
    """The answer of `ip ... addr` or `getent` inside a running container, else None."""
    name = Path(argv[0]).name if argv else ""
    if name == "ip" and any(w in ("a", "addr", "address") for w in argv[1:]):
        return ip_addr(config, argv[1:])
    if name == "getent":
        return getent(where, node_root, dnsmasq, argv)
    return None


#: Databases glibc getent knows (nss/getent.c `databases`); the simulator answers three.
DATABASES = {"ahosts", "ahostsv4", "ahostsv6", "aliases", "ethers", "group", "gshadow", "hosts"}
DATABASES |= {"initgroups", "netgroup", "networks", "passwd", "protocols", "rpc", "services"}
DATABASES |= {"shadow"}


def getent(where: Where, node_root: Path, dnsmasq_active: bool, argv: list[str]) -> Result:
    """glibc getent `hosts` (hosts_keys, print_hosts: `%-15s %s aliases`; an address is looked
    up by address), `passwd`/`group` from the guest's files; 2 when a key is not found."""
    words = [w for w in argv[1:] if w != "--"]
    if not words:
        return Result(1, "", "getent: wrong number of arguments\n")
    database, keys = words[0], words[1:]
    if database in ("passwd", "group"):
        path = where(f"/etc/{database}")
        lines = path.read_text().splitlines() if path.is_file() else []
        found = [next((ln for ln in lines if ln.split(":")[0] == k), None) for k in keys]
        out = "".join(f"{ln}\n" for ln in found if ln)
        return Result(0 if all(found) else 2, out)
    if database not in DATABASES:
        return Result(1, "", f"Unknown database: {database}\n")
    if database != "hosts":
        return Result(1, "", f"pve-sim: getent {database} is not simulated\n")
    hosts = where("/etc/hosts")
    entries = _hosts_file(hosts.read_text()) if hosts.is_file() else []
    resolv = where("/etc/resolv.conf")
    servers = [
        line.split()[1]
        for line in (resolv.read_text().splitlines() if resolv.is_file() else [])
        if line.startswith("nameserver") and len(line.split()) > 1
    ]
    if any(_dnsmasq_listens(node_root, s, dnsmasq_active) for s in servers):
        entries += _dnsmasq_records(node_root)
    out, rc = "", 0
    for key in keys:
        hits = [
            (addr, names)
            for addr, names in entries
            if (addr == key if _is_ip(key) else key.lower() in (n.lower() for n in names))
        ]
        if not hits:
            rc = 2
            continue
        addr, names = hits[0]
        out += f"{addr:<15} {' '.join(names)}\n"
    return Result(rc, out)
