"""The health checks every node gets from phoenix-hypervisor (``phoenix health-check host``).

Each is one or two read-only commands on the node, judged here with a reason a person can act
on; only the features the hypervisor file configures are checked (a node without NFS exports
has no ``nfs exports`` check). The names phoenix looks for all come from the configuration,
except Proxmox VE's own services. None is retried: a node either is set up or is not.

=================  ==========================================================  ==============
check              command(s)                                                  when
=================  ==========================================================  ==============
proxmox services   ``systemctl is-active pve-cluster pvedaemon pveproxy        always
                   pvestatd``
zfs pools          ``zpool list -H -o name,health``, ``zpool status -x``       ``zfs.pools``
storages           ``pvesm status``                                            datasets, NFS
firewall           ``pve-firewall status``                                     firewall on
nfs exports        ``exportfs -v`` (``getent hosts`` of a host-name client)    ``nfs.exports``
samba shares       ``testparm -s``                                             ``samba.shares``
admin user         ``getent passwd``, ``dpkg-query`` of sudo, ``visudo -cf``   ``users``
                   of its sudoers.d file
nvidia driver      ``nvidia-smi --query-gpu=driver_version ...``               pinned version
=================  ==========================================================  ==============
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

from phoenix_core.checks import Attempt, Check
from phoenix_core.hosts.base import CommandResult
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.features import nvidia as nvidia_feature
from phoenix_hypervisor.features import users as users_feature
from phoenix_hypervisor.features.nfs import exported, nfs_storages
from phoenix_hypervisor.features.storage import dataset_storages

#: Proxmox VE's own services (pve-manager, pve-cluster): a node without them is no PVE node.
SERVICES = ("pve-cluster", "pvedaemon", "pveproxy", "pvestatd")


def _shown(argv: Sequence[str], result: CommandResult) -> str:
    """```argv` exited N: <last line>`` for a command that failed to run as expected."""
    lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return f"`{' '.join(argv)}` exited {result.returncode}" + (f": {lines[-1]}" if lines else "")


def _output(*results: CommandResult) -> str:
    return "".join(r.stdout + r.stderr for r in results)


def _check(ctx: HostContext, name: str, attempt: Callable[[], Attempt]) -> Check:
    return Check(name=name, attempt=attempt, where=f"host {ctx.host.name}")


def services(ctx: HostContext) -> Check:
    """Every Proxmox service active (``is-active`` prints one state per unit, in order)."""
    argv = ["systemctl", "is-active", *SERVICES]

    def attempt() -> Attempt:
        result = ctx.query(argv)
        states = result.stdout.split()
        if len(states) != len(SERVICES):
            return Attempt(False, _output(result), _shown(argv, result))
        down = [f"{s} is {state}" for s, state in zip(SERVICES, states, strict=True)]
        down = [d for d, state in zip(down, states, strict=True) if state != "active"]
        return Attempt(not down, _output(result), "; ".join(down))

    return _check(ctx, "proxmox services", attempt)


#: ``  pool: NAME`` heads each pool ``zpool status`` prints.
_POOL = re.compile(r"^\s*pool: (\S+)\s*$", re.MULTILINE)


def pools(ctx: HostContext, names: Sequence[str]) -> Check:
    """Each configured pool imported and ONLINE, and not among the pools ``zpool status -x``
    explains (a pool with data errors is listed there while still ONLINE)."""
    listing = ["zpool", "list", "-H", "-o", "name,health"]
    explain = ["zpool", "status", "-x"]

    def attempt() -> Attempt:
        listed = ctx.query(listing)
        if not listed.ok:
            return Attempt(False, _output(listed), _shown(listing, listed))
        health = dict(line.split("\t", 1) for line in listed.stdout.splitlines() if "\t" in line)
        status = ctx.query(explain)
        if not status.ok:
            return Attempt(False, _output(listed, status), _shown(explain, status))
        problems = []
        for name in names:
            if name not in health:
                problems.append(f"pool {name} is not imported")
            elif health[name] != "ONLINE":
                problems.append(f"pool {name} is {health[name]}")
            elif name in _POOL.findall(status.stdout):
                problems.append(f"pool {name}: {_status_line(status.stdout, name)}")
        return Attempt(not problems, _output(listed, status), "; ".join(problems))

    return _check(ctx, "zfs pools", attempt)


def _status_line(text: str, pool: str) -> str:
    """The ``errors:`` (else ``status:``) line of ``pool``'s block in ``zpool status``."""
    block = text.split(f"pool: {pool}", 1)[1].split("  pool: ", 1)[0]
    found = re.search(r"^errors: (.+)$", block, re.MULTILINE) or re.search(
        r"^status: (.+)$", block, re.MULTILINE
    )
    return found[1].strip() if found else "reported by zpool status -x"


def storages(ctx: HostContext, ids: Sequence[str]) -> Check:
    """Each configured storage listed by ``pvesm status`` as ``active`` on this node."""
    argv = ["pvesm", "status"]

    def attempt() -> Attempt:
        result = ctx.query(argv)
        if not result.ok:
            return Attempt(False, _output(result), _shown(argv, result))
        rows = [line.split() for line in result.stdout.splitlines()[1:]]
        status = {row[0]: row[2] for row in rows if len(row) > 2}
        problems = [
            f"storage {i} is {status[i]}" if i in status else f"storage {i} is not configured"
            for i in ids
            if status.get(i) != "active"
        ]
        return Attempt(not problems, _output(result), "; ".join(problems))

    return _check(ctx, "storages", attempt)


def firewall(ctx: HostContext) -> Check:
    """The datacenter firewall enabled and its daemon running (``Status: enabled/running``,
    possibly followed by ``(pending changes)``)."""
    argv = ["pve-firewall", "status"]

    def attempt() -> Attempt:
        result = ctx.query(argv)
        found = re.search(r"^Status: (\S+)", result.stdout, re.MULTILINE)
        if not result.ok or found is None:
            return Attempt(False, _output(result), _shown(argv, result))
        state = found[1]
        return Attempt(
            state == "enabled/running",
            _output(result),
            f"pve-firewall is {state}, not enabled/running",
        )

    return _check(ctx, "firewall", attempt)


def _is_host_name(client: str) -> bool:
    """A client exportfs resolves (nfs-utils client_gettype MCL_FQDN): not `*`, a netgroup,
    a wildcard, a subnet or an address."""
    if client == "*" or client.startswith("@") or any(c in client for c in "*?[/"):
        return False
    try:
        ipaddress.ip_address(client)
    except ValueError:
        return True
    return False


def printed(ctx: HostContext, client: str) -> str:
    """A configured client the way ``exportfs -v`` prints it (nfs-utils exportfs.c dump):
    ``*`` as ``<world>``, a host name as its canonical name (what ``getent hosts`` answers,
    the resolver exportfs asks), anything else as written."""
    if client == "*":
        return "<world>"
    if not _is_host_name(client):
        return client
    found = ctx.query(["getent", "hosts", client])
    words = found.stdout.split()
    return words[1] if found.ok and len(words) > 1 else client


def exports(ctx: HostContext) -> Check:
    """Every configured path exported to every configured client."""
    argv = ["exportfs", "-v"]
    configured = [(e.path, c) for e in ctx.spec.nfs.exports for c in e.clients]

    def attempt() -> Attempt:
        result = ctx.query(argv)
        if not result.ok:
            return Attempt(False, _output(result), _shown(argv, result))
        have = exported(result.stdout)
        absent = [
            f"{path} not exported to {client}"
            for path, client in configured
            if (path, printed(ctx, client)) not in have
        ]
        return Attempt(not absent, _output(result), "; ".join(absent))

    return _check(ctx, "nfs exports", attempt)


def shares(ctx: HostContext, names: Sequence[str]) -> Check:
    """Every configured share is a section of the configuration Samba loads (``testparm -s``
    reads smb.conf and its includes as smbd does)."""
    argv = ["testparm", "-s"]

    def attempt() -> Attempt:
        result = ctx.query(argv)
        if not result.ok:
            return Attempt(False, _output(result), _shown(argv, result))
        sections = set(re.findall(r"^\[([^\]]+)\]\s*$", result.stdout, re.MULTILINE))
        absent = [n for n in names if n not in sections]
        reason = f"share(s) {', '.join(absent)} not in the configuration Samba loads"
        return Attempt(not absent, result.stdout, reason if absent else "")

    return _check(ctx, "samba shares", attempt)


def admin(ctx: HostContext) -> Check:
    """The admin account exists; with ``sudo_access`` its sudoers.d file holds phoenix's rule
    and passes ``visudo -cf`` (syntax and mode 0440, without which sudo ignores it)."""
    users = ctx.spec.users
    assert users is not None
    name = users.username
    lookup = ["getent", "passwd", name]

    def attempt() -> Attempt:
        account = ctx.query(lookup)
        if not account.ok:
            why = "does not exist" if account.returncode == 2 else _shown(lookup, account)
            return Attempt(False, _output(account), f"account {name} {why}")
        if not users.sudo_access:
            return Attempt(True, account.stdout)
        path = users_feature.sudoers_path(name)
        rule = users_feature.sudo_rule(name)
        text = ctx.files.read(path)
        if text is None:
            return Attempt(False, account.stdout, f"{path} does not exist: {name} has no sudo")
        if rule not in text.splitlines():
            return Attempt(False, text, f"{path} does not hold `{rule}`")
        if users_feature.sudo_missing(ctx):
            return Attempt(False, account.stdout, users_feature.NO_SUDO)
        argv = ["visudo", "-cf", ctx.files.path(path)]
        checked = ctx.query(argv)
        if not checked.ok:
            return Attempt(False, _output(account, checked), _shown(argv, checked))
        return Attempt(True, _output(account, checked))

    return _check(ctx, "admin user", attempt)


def driver(ctx: HostContext, version: str) -> Check:
    """The loaded NVIDIA driver (``nvidia-smi``) is the pinned one; passes on a node without
    an NVIDIA display device (setup installs nothing there either)."""
    argv = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]

    def attempt() -> Attempt:
        if not nvidia_feature.gpus(ctx):
            return Attempt(True, "no NVIDIA display device (lspci): no driver to check")
        result = ctx.query(argv)
        loaded = set(result.stdout.split()) if result.ok else set()
        if loaded == {version}:
            return Attempt(True, _output(result))
        if not loaded:
            installed = nvidia_feature.installed(ctx)
            why = f"no NVIDIA driver loaded ({_shown(argv, result)})"
            if installed == version:
                why = f"driver {version} is installed but not loaded: reboot the node"
            return Attempt(False, _output(result), why)
        shown = ", ".join(sorted(loaded))
        return Attempt(False, _output(result), f"driver {shown} loaded, not the pinned {version}")

    return _check(ctx, "nvidia driver", attempt)


def shipped(ctx: HostContext) -> list[Check]:
    """The checks this node gets, in the order they run: only for what the file configures."""
    spec = ctx.spec
    found = [services(ctx)]
    if spec.zfs.pools:
        found.append(pools(ctx, [p.name for p in spec.zfs.pools]))
    wanted = [s.id for s in (*dataset_storages(ctx), *nfs_storages(ctx))]
    if wanted:
        found.append(storages(ctx, wanted))
    if spec.firewall is not None and spec.firewall.enabled:
        found.append(firewall(ctx))
    if spec.nfs.exports:
        found.append(exports(ctx))
    if spec.samba is not None and spec.samba.shares:
        found.append(shares(ctx, [s.name for s in spec.samba.shares]))
    if spec.users is not None:
        found.append(admin(ctx))
    if spec.nvidia.install and spec.nvidia.version:
        found.append(driver(ctx, spec.nvidia.version))
    return found
