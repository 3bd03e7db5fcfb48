"""The Debian host tools host setup runs: packages, units, exports, accounts, Samba, the GPU.

Texts and exit codes follow the real tools; the conformance tests in
tests/test_sim_setup_tools.py cite the source of each (apt, dpkg, systemd, shadow, samba,
pciutils, NVIDIA's nvidia-smi, initramfs-tools, sudo); exportfs is tool_exportfs.py.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from . import apparmor, aptsources, transient, zfsarc
from .argv import Args
from .common import Verb, call
from .hoststate import Account, HostState, Unit
from .node import Node
from .result import CliError, Result, lines
from .tool_exportfs import EXPORTFS as EXPORTFS  # the dispatch table names it here
from .tool_zfs import _options


def _state(node: Node) -> HostState:
    return node.host


# ------------------------------------------------------------------ apt / dpkg


async def apt_get(node: Node, args: Args) -> Result:
    """`apt-get update` and `apt-get install -y [--no-install-recommends] PKG...`."""
    state = _state(node)
    words = [w for w in args.positional if not w.startswith("-")]
    flags = [w for w in args.positional if w.startswith("-")]
    if not words:
        raise CliError("E: No operation specified", rc=100)
    if words[0] == "update":
        return _update(state)
    if words[0] != "install":
        raise CliError(f"E: Invalid operation {words[0]}", rc=100)
    missing = [p for p in words[1:] if p not in state.catalogue and p not in state.packages]
    if missing:
        # apt-pkg/cacheset.cc: "Unable to locate package %s", exit 100.
        raise CliError("\n".join(f"E: Unable to locate package {p}" for p in missing), rc=100)
    new = [p for p in words[1:] if p not in state.packages]
    if new and not {"-y", "--yes", "--assume-yes", "-qq"} & set(flags):
        raise CliError("Do you want to continue? [Y/n] Abort.", rc=1)
    for package in new:
        state.install(package)
    return Result(
        0,
        lines(
            ["Reading package lists...", "Building dependency tree..."]
            + [f"Setting up {p} ({state.packages[p]}) ..." for p in new]
            + [f"0 upgraded, {len(new)} newly installed, 0 to remove and 0 not upgraded."]
        ),
    )


def _update(state: HostState) -> Result:
    """`apt-get update`: each enabled source fetched; one that fails (aptsources.failure) is an
    `Err:` line, an `E: Failed to fetch` and exit 100 (field: what apt prints for a 401 from
    enterprise.proxmox.com, as every fresh-install report shows)."""
    out, errors = [], []
    for number, entry in enumerate(aptsources.entries(state.root), 1):
        why = aptsources.failure(state.root, entry)
        if why is None:
            out.append(f"Hit:{number} {entry.uri} {entry.suite} InRelease")
            continue
        out.append(f"Err:{number} {why}")
        errors.append(f"E: Failed to fetch {why.splitlines()[0]}  {why.splitlines()[1].strip()}")
    out.append("Reading package lists...")
    if errors:
        errors.append(
            "E: Some index files failed to download. They have been ignored, or old ones used "
            "instead."
        )
    return Result(100 if errors else 0, lines(out), lines(errors))


async def dpkg_query(node: Node, args: Args) -> Result:
    """`dpkg-query -W -f=FORMAT PKG...`: ${Package} ${Version} ${Status} ${db:Status-Abbrev}."""
    state = _state(node)
    fmt, names = "${Package}\t${Version}\n", []
    for token in args.positional:
        if token.startswith("-f=") or token.startswith("--showformat="):
            fmt = token.split("=", 1)[1]
        elif token not in ("-W", "--show"):
            names.append(token)
    out, errors = [], []
    for name in names:
        if name not in state.packages:
            errors.append(f"dpkg-query: no packages found matching {name}")
            continue
        values = {
            "Package": name,
            "Version": state.packages[name],
            "Status": "install ok installed",
            "db:Status-Abbrev": "ii ",
        }
        text = re.sub(r"\$\{([^}]+)\}", lambda m, v=values: v.get(m[1], ""), fmt)
        out.append(text.replace("\\n", "\n").replace("\\t", "\t"))
    return Result(1 if errors else 0, "".join(out), lines(errors))


# ------------------------------------------------------------------ systemctl


def _unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def _unit(node: Node, name: str) -> Unit | None:
    state = _state(node)
    unit = state.units.get(name)
    if unit is None and state.path(f"/etc/systemd/system/{name}").is_file():
        unit = state.units[name] = Unit(enabled=False, active=False)
    return unit


async def systemctl(node: Node, args: Args) -> Result:
    """is-enabled / is-active / enable [--now] / start / stop / restart / reload / daemon-reload.
    `is-active` prints one state per unit and exits 0 when any of them is active, else 3."""
    words = [w for w in args.positional if not w.startswith("-")]
    now = "--now" in args.positional
    if not words:
        raise CliError("Too few arguments.", rc=1)
    verb, names = words[0], [_unit_name(w) for w in words[1:]]
    if verb == "daemon-reload":
        return Result()
    if verb == "reboot":
        _state(node).reboot()
        return Result()
    out, rc, any_active = [], 0, False
    for name in names:
        if verb == "stop" and transient.stop(node, name):
            continue
        unit = _unit(node, name)
        if verb == "is-enabled":
            if unit is None:
                return Result(
                    1, "", f"Failed to get unit file state for {name}: No such file or directory\n"
                )
            out.append("enabled" if unit.enabled else "disabled")
            rc = rc or (0 if unit.enabled else 1)
        elif verb == "is-active":
            active = unit is not None and unit.active
            out.append("active" if active else "inactive")
            any_active = any_active or active
        elif unit is None:
            what = "enable unit: Unit file" if verb == "enable" else f"{verb} {name}: Unit"
            tail = "does not exist." if verb == "enable" else "not found."
            return Result(5 if verb != "enable" else 1, "", f"Failed to {what} {name} {tail}\n")
        elif verb == "enable":
            unit.enabled = True
            unit.active = unit.active or now
        elif verb in ("restart", "reload", "start"):
            unit.active = True
        elif verb == "stop":
            unit.active = False
        else:
            raise CliError(f"Unknown command verb '{verb}'.", rc=1)
    if verb == "is-active":  # 0 when any of the units is active (systemctl-is-active.c)
        rc = 0 if any_active else 3
    return Result(rc, lines(out))


def _systemctl_mutating(argv: list[str]) -> bool:
    words = [w for w in argv[1:] if not w.startswith("-")]
    return bool(words) and words[0] not in ("is-enabled", "is-active", "status", "show", "cat")


# ------------------------------------------------------------------ timedatectl


async def timedatectl(node: Node, args: Args) -> Result:
    """`timedatectl show -p Timezone --value` and `set-timezone ZONE` (systemd
    src/timedate/timedatectl.c; timedated refuses a zone without a tzdata file: "Invalid or not
    installed time zone")."""
    import zoneinfo

    state = _state(node)
    words = args.positional
    if words[:1] == ["show"]:
        return Result(0, f"{state.timezone}\n")
    if words[:1] == ["set-timezone"] and len(words) == 2:
        if words[1] not in zoneinfo.available_timezones():
            raise CliError(
                f"Failed to set time zone: Invalid or not installed time zone '{words[1]}'", rc=1
            )
        state.timezone = words[1]
        return Result()
    raise CliError("timedatectl: only show and set-timezone are simulated", rc=1)


# ------------------------------------------------------------------ accounts


def _hosts_entry(state: HostState, key: str) -> str | None:
    """`getent hosts KEY` from the node's /etc/hosts: the address padded to 15, then the
    canonical name and the aliases (glibc nss/getent.c print_hosts)."""
    entries = state.hosts(key)
    return f"{entries[0][0]:<15} {' '.join(entries[0][1:])}" if entries else None


async def getent(node: Node, args: Args) -> Result:
    """`getent passwd|group|hosts NAME`: exit 2 when the key is not found (glibc
    nss/getent.c)."""
    state = _state(node)
    database, keys = args.positional[0], args.positional[1:]
    out = []
    for key in keys:
        if database == "hosts" and _hosts_entry(state, key) is not None:
            out.append(_hosts_entry(state, key) or "")
        elif database == "passwd" and key in state.users:
            a = state.users[key]
            out.append(f"{key}:x:{a.uid}:{a.gid}::{a.home}:{a.shell}")
        elif database == "group" and key in state.groups:
            gid, members = state.groups[key]
            out.append(f"{key}:x:{gid}:{','.join(members)}")
        else:
            return Result(2, lines(out))
    return Result(0, lines(out))


async def useradd(node: Node, args: Args) -> Result:
    """`useradd -m -s SHELL [-G g1,g2] NAME` (shadow src/useradd.c exit codes)."""
    state = _state(node)
    opts, rest = _options(args.positional, "mU", "sGgcd")
    if len(rest) != 1:
        raise CliError("Usage: useradd [options] LOGIN", rc=2)
    name = rest[0]
    if name in state.users:
        raise CliError(f"useradd: user '{name}' already exists", rc=9)
    groups = [g for item in opts.get("G", []) for g in item.split(",") if g]
    _check_groups(state, groups, "useradd")
    uid = state.next_id()
    shell = (opts.get("s") or ["/bin/sh"])[-1]
    state.users[name] = Account(uid, uid, f"/home/{name}", shell)
    state.groups[name] = (uid, [])
    for group in groups:
        state.groups[group][1].append(name)
    if "m" in opts:
        state.path(f"/home/{name}").mkdir(parents=True, exist_ok=True)
    return Result()


def _check_groups(state: HostState, groups: list[str], tool: str) -> None:
    for group in groups:
        if group not in state.groups:
            raise CliError(f"{tool}: group '{group}' does not exist", rc=6)


async def usermod(node: Node, args: Args) -> Result:
    """`usermod -aG g1,g2 NAME` (appends; without -a the list replaces the groups)."""
    state = _state(node)
    opts, rest = _options(args.positional, "a", "Gs")
    if len(rest) != 1:
        raise CliError("Usage: usermod [options] LOGIN", rc=2)
    name = rest[0]
    if name not in state.users:
        raise CliError(f"usermod: user '{name}' does not exist", rc=6)
    groups = [g for item in opts.get("G", []) for g in item.split(",") if g]
    _check_groups(state, groups, "usermod")
    if "a" not in opts:
        for _, members in state.groups.values():
            if name in members:
                members.remove(name)
    for group in groups:
        if name not in state.groups[group][1]:
            state.groups[group][1].append(name)
    return Result()


# ------------------------------------------------------------------ samba


async def smbpasswd(node: Node, args: Args) -> Result:
    """`smbpasswd -s -a NAME` with the password twice on stdin (samba source3/utils/smbpasswd.c)."""
    state = _state(node)
    opts, rest = _options(args.positional, "sa", "")
    if "s" not in opts:
        raise CliError("smbpasswd: the simulator only reads passwords with -s (stdin)", rc=1)
    name = rest[0] if rest else ""
    entered = (args.stdin or "").split("\n")
    if len(entered) < 2 or not entered[0]:
        raise CliError("Password mismatch or empty password; unable to read it.", rc=1)
    if entered[0] != entered[1]:
        raise CliError("Mismatch - password unchanged.\nUnable to get new password.", rc=1)
    if name not in state.users:
        raise CliError(f"Failed to add entry for user {name}.", rc=1)
    if "a" not in opts and name not in state.smb_users:
        raise CliError(f"Failed to find entry for user {name}.", rc=1)
    state.smb_users[name] = hashlib.sha256(entered[0].encode()).hexdigest()
    return Result(0, f"Added user {name}.\n" if "a" in opts else "")


async def pdbedit(node: Node, args: Args) -> Result:
    """`pdbedit -L`: `name:uid:` per Samba user (source3/utils/pdbedit.c print_sam_info)."""
    state = _state(node)
    return Result(0, lines(f"{u}:{state.users[u].uid}:" for u in sorted(state.smb_users)))


# ------------------------------------------------------------------ GPU, initramfs, sudo


async def lspci(node: Node, args: Args) -> Result:
    """`lspci -n -mm`: `slot "class" "vendor" "device"` (pciutils lspci.c show_machine)."""
    state = _state(node)
    return Result(
        0,
        lines(f'{d["slot"]} "{d["class"]}" "{d["vendor"]}" "{d["device"]}"' for d in state.pci),
    )


NO_DRIVER = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running.\n"
)


async def nvidia_smi(node: Node, args: Args) -> Result:
    """`nvidia-smi --query-gpu=driver_version --format=csv,noheader`; exit 9 without a driver."""
    state = _state(node)
    if state.nvidia_loaded is None:
        return Result(9, NO_DRIVER)
    gpus = [d for d in state.pci if d["vendor"] == "10de" and d["class"] == "0300"]
    return Result(0, lines([state.nvidia_loaded] * len(gpus)))


async def modinfo(node: Node, args: Args) -> Result:
    """`modinfo -F version nvidia` (kmod tools/modinfo.c)."""
    state = _state(node)
    module = args.positional[-1]
    if module != "nvidia" or state.nvidia_installed is None:
        return Result(1, "", f"modinfo: ERROR: Module {module} not found.\n")
    return Result(0, f"{state.nvidia_installed}\n")


async def update_initramfs(node: Node, args: Args) -> Result:
    state = _state(node)
    if "-u" not in args.positional:
        raise CliError("Usage: update-initramfs {-c|-d|-u} [-k version] [-v] [-b directory]", 1)
    state.initramfs_updates += 1
    return Result(0, f"update-initramfs: Generating /boot/initrd.img-{node.profile.kernel}\n")


async def apparmor_parser(node: Node, args: Args) -> Result:
    """`apparmor_parser -r [-W] -- FILE`: (re)load the profiles a file defines, its includes
    read from the node's /etc/apparmor.d (apparmor.profiles: a file that uses a variable no
    include declares, like one of lxc's profiles loaded without lxc-containers, fails with
    exit 1); the kernel then lists them in /sys/kernel/security/apparmor/profiles (apparmor
    parser/parser_main.c)."""
    state = _state(node)
    opts, files = _options(args.positional, "raRWTQK", "")
    if not {"r", "a"} & set(opts):
        raise CliError("apparmor_parser: only -r and -a are simulated", rc=1)
    names = []
    for path in files:
        # the path the caller named, as the parser opens it
        if not os.path.isfile(path):
            return Result(1, "", f"File {path} not found, skipping...\n")
        names += apparmor.profiles(state.root, Path(path))
    listing = state.path("/sys/kernel/security/apparmor/profiles")
    current = listing.read_text().splitlines() if listing.exists() else []
    current += [f"{n} (enforce)" for n in names if f"{n} (enforce)" not in current]
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("".join(f"{line}\n" for line in current))
    return Result()


async def tee(node: Node, args: Args) -> Result:
    """`tee [-a] [--] FILE...`: stdin to each file and to stdout (coreutils tee.c). A write to
    the zfs_arc_max module parameter goes through the kernel's handler, which stores the
    number and lets arc_tuning_update decide whether the ARC takes it (zfsarc); a value that
    is not a number is refused with EINVAL (spl_param_set_u64)."""
    state = _state(node)
    opts, files = _options(args.positional, "ai", "")
    data = args.stdin or ""
    for name in files:
        # The node's own file system: an absolute path outside the node directory is the
        # node's path, never this machine's.
        path = state.path(str(Path(args.cwd, name)))
        if path == state.path(f"/{zfsarc.PARAM}"):
            value = data.strip()
            if not value.isdigit():
                return Result(1, data, f"tee: {name}: Invalid argument\n")
            zfsarc.tuning_update(state.root, int(value), state.memory)
        try:
            with open(path, "a" if "a" in opts else "w") as fh:
                fh.write(data)
        except OSError as exc:
            return Result(1, data, f"tee: {name}: {exc.strerror}\n")
    return Result(0, data)


async def update_grub(node: Node, args: Args) -> Result:
    """`update-grub` (grub2 util/grub-mkconfig.in): regenerates /boot/grub/grub.cfg."""
    return Result(0, "", "Generating grub configuration file ...\ndone\n")


SUDOERS_LINE = re.compile(
    r"^(Defaults\b.*|[A-Z][A-Z0-9_]*_Alias\s+\S+\s*=.*|%?[\w.-]+\s+[\w.,:%-]+\s*=\s*(\([^)]*\)\s*)?"
    r"(NOPASSWD:\s*)?(ALL|/\S+)(\s*,\s*(ALL|/\S+))*)$"
)


def not_installed(program: str) -> Result:
    """What a command the node lacks gives over SSH: the login shell's 127 (bash
    execute_cmd.c "command not found")."""
    return Result(127, "", f"bash: line 1: {program}: command not found\n")


async def visudo(node: Node, args: Args) -> Result:
    """`visudo -cf FILE`: syntax, and the 0440 mode sudo insists on (sudoers visudo.c).
    visudo comes with the `sudo` package, which a fresh Proxmox VE node lacks."""
    if "sudo" not in _state(node).packages:
        return not_installed("visudo")
    opts, rest = _options(args.positional, "cqs", "f")
    path = (opts.get("f") or rest or [""])[-1]
    if "c" not in opts:
        raise CliError("visudo: only -c is simulated", rc=1)
    try:
        with open(path) as fh:  # the path the caller named, as visudo opens it
            text = fh.read()
    except OSError as exc:
        return Result(1, "", f"visudo: unable to open {path}: {exc.strerror}\n")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#") and not SUDOERS_LINE.match(line):
            return Result(
                1,
                "",
                f"{path}:{number}:{len(line)}: syntax error\n{line}\n",
            )
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o022 or mode & 0o007:
        return Result(1, "", f"{path}: bad permissions, should be mode 0440\n")
    return Result(0, f"{path}: parsed OK\n")


# ------------------------------------------------------------------ pve-firewall, testparm


async def pve_firewall(node: Node, args: Args) -> Result:
    """`pve-firewall status`: `Status: <enabled|disabled>/<running|stopped>`, enabled from the
    datacenter options, running from the service (pve-firewall src/PVE/Service/pve_firewall.pm
    status: "Status: $status" with $status = (enable ? "enabled" : "disabled") . "/" . state)."""
    if args.positional[:1] != ["status"]:
        raise CliError("pve-firewall: only status is simulated", rc=1)
    options = await call(node, "GET", "/cluster/firewall/options") or {}
    unit = _state(node).units.get("pve-firewall.service")
    running = "running" if unit is not None and unit.active else "stopped"
    enabled = "enabled" if int(options.get("enable") or 0) else "disabled"
    return Result(0, f"Status: {enabled}/{running}\n")


SECTION = re.compile(r"^\[([^\]]+)\]$")


def _smb_conf(state: HostState, path: str, seen: set[str]) -> list[tuple[str, str, str]]:
    """(section, key, value) of smb.conf, `include = FILE` read in place (loadparm.c
    handle_include); keys lower-cased and spaces squeezed as loadparm canonicalises them."""
    found: list[tuple[str, str, str]] = []
    section = "global"
    if path in seen or not state.path(path).is_file():
        return found
    seen.add(path)
    for raw in state.path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        header = SECTION.match(line)
        if header:
            section = header[1]
            continue
        key, eq, value = line.partition("=")
        if not eq:
            continue
        key = " ".join(key.lower().split())
        if key == "include":
            found += _smb_conf(state, value.strip(), seen)
            continue
        found.append((section, key, value.strip()))
    return found


async def testparm(node: Node, args: Args) -> Result:
    """`testparm -s`: the loaded configuration on stdout ("# Global parameters", then each
    section with tab-indented `key = value`), what it loaded on stderr (samba
    source3/utils/testparm.c: "Load smb config files from %s", "Loaded services file OK.",
    "Server role: ..."; "Error loading services." and exit 1 when smb.conf cannot be read)."""
    state = _state(node)
    conf = "/etc/samba/smb.conf"
    head = f"Load smb config files from {conf}\n"
    if not state.path(conf).is_file():
        return Result(1, "", head + f"Can't load {conf} - run testparm to debug it\n"
                      "Error loading services.\n")  # fmt: skip
    sections: dict[str, dict[str, str]] = {"global": {}}
    for section, key, value in _smb_conf(state, conf, set()):
        sections.setdefault(section, {})[key] = value
    out = ["# Global parameters"]
    for name, params in sections.items():
        out += [f"[{name}]", *(f"\t{k} = {v}" for k, v in params.items()), ""]
    err = head + "Loaded services file OK.\nServer role: ROLE_STANDALONE\n\n"
    return Result(0, lines(out[:-1]), err)


async def systemd_run(node: Node, args: Args) -> Result:
    """`systemd-run --unit=NAME --on-active=SECONDS -- COMMAND...` (transient.py)."""
    return transient.run(node, args.positional)


APT_GET: dict[str, Verb] = {"": Verb(apt_get, True, raw=True)}
SYSTEMD_RUN: dict[str, Verb] = {"": Verb(systemd_run, True, raw=True)}
DPKG_QUERY: dict[str, Verb] = {"": Verb(dpkg_query, False, raw=True)}
SYSTEMCTL: dict[str, Verb] = {"": Verb(systemctl, True, raw=True, mutates=_systemctl_mutating)}
GETENT: dict[str, Verb] = {"": Verb(getent, False, ("database",), raw=True)}
USERADD: dict[str, Verb] = {"": Verb(useradd, True, raw=True)}
USERMOD: dict[str, Verb] = {"": Verb(usermod, True, raw=True)}
SMBPASSWD: dict[str, Verb] = {"": Verb(smbpasswd, True, raw=True)}
PDBEDIT: dict[str, Verb] = {"": Verb(pdbedit, False, raw=True)}
LSPCI: dict[str, Verb] = {"": Verb(lspci, False, raw=True)}
NVIDIA_SMI: dict[str, Verb] = {"": Verb(nvidia_smi, False, raw=True)}
MODINFO: dict[str, Verb] = {"": Verb(modinfo, False, raw=True)}
UPDATE_INITRAMFS: dict[str, Verb] = {"": Verb(update_initramfs, True, raw=True)}
UPDATE_GRUB: dict[str, Verb] = {"": Verb(update_grub, True, raw=True)}
APPARMOR_PARSER: dict[str, Verb] = {"": Verb(apparmor_parser, True, raw=True)}
PVE_FIREWALL: dict[str, Verb] = {"": Verb(pve_firewall, False, raw=True)}
TESTPARM: dict[str, Verb] = {"": Verb(testparm, False, raw=True)}
VISUDO: dict[str, Verb] = {"": Verb(visudo, False, raw=True)}
TEE: dict[str, Verb] = {"": Verb(tee, True, raw=True)}
TIMEDATECTL: dict[str, Verb] = {
    "": Verb(timedatectl, True, raw=True, mutates=lambda argv: argv[1:2] != ["show"])
}
