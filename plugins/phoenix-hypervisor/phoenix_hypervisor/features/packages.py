"""``apt`` and ``packages``: the Proxmox repositories for the node's Debian release, and the
Debian packages the configured features need.

The release is read from the node's ``/etc/os-release`` (``VERSION_CODENAME``), never assumed
(the old tool hard-coded trixie). The no-subscription repository is a phoenix-owned deb822
file signed by the release's Proxmox key: PVE 8's proxmox-archive-keyring (3.0, bookworm)
installs it only as ``/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg``
(``debian/proxmox-archive-keyring.install``), PVE 9's sources name
``/usr/share/keyrings/proxmox-archive-keyring.gpg`` (pve-manager ``configs/pve-sources.sources``).

A fresh node has two enterprise repositories that fail ``apt-get update`` (401) without a
subscription: Proxmox VE's (``pve-enterprise.list`` on PVE 8, ``pve-enterprise.sources`` on
PVE 9, installed by pve-manager) and Ceph's (``ceph.list`` / ``ceph.sources``, shipped by the
ISO: field reports; pve-manager's ``pveceph install`` writes the same files). Each entry that
points at ``enterprise.proxmox.com`` is disabled in place the way Proxmox's own repository
editor does it (a ``# `` before a one-line entry, ``Enabled: false`` in a deb822 stanza), so
other entries in the same file (a Ceph no-subscription line) stay, and the text stays for the
day a subscription is bought.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.hostfs import HEADER
from phoenix_hypervisor.model import HostSpec

SOURCES = "/etc/apt/sources.list.d/phoenix-pve-no-subscription.sources"
KEYRING = "/usr/share/keyrings/proxmox-archive-keyring.gpg"
#: Releases whose Proxmox key is elsewhere than KEYRING.
KEYRINGS = {"bookworm": "/etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg"}
ENTERPRISE_HOST = "enterprise.proxmox.com"
#: The files a fresh node's enterprise repositories are in: PVE 8 one-line, PVE 9 deb822.
ENTERPRISE = tuple(
    f"/etc/apt/sources.list.d/{name}.{form}"
    for name in ("pve-enterprise", "ceph")
    for form in ("list", "sources")
)
#: What the NVIDIA runfile needs to build its kernel module against the running kernel.
NVIDIA_BUILD = ("proxmox-default-headers", "build-essential", "dkms")


def codename(ctx: HostContext) -> str:
    text = ctx.files.read("/etc/os-release") or ""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "VERSION_CODENAME" and value.strip('"'):
            return value.strip('"')
    raise PhoenixError(
        "cannot tell the node's Debian release: no VERSION_CODENAME in /etc/os-release"
    )


def sources(release: str) -> str:
    keyring = KEYRINGS.get(release, KEYRING)
    return (
        HEADER
        + "Types: deb\nURIs: http://download.proxmox.com/debian/pve\n"
        + f"Suites: {release}\nComponents: pve-no-subscription\nSigned-By: {keyring}\n"
    )


def _enterprise(words: str) -> bool:
    """Whether any URI among ``words`` is on enterprise.proxmox.com."""
    return any(
        w.split("://", 1)[1].split("/")[0] == ENTERPRISE_HOST for w in words.split() if "://" in w
    )


def disabled(path: str, text: str) -> str:
    """``text`` with every enabled entry that points at enterprise.proxmox.com disabled: a
    one-line ``deb`` entry commented out, a deb822 stanza given ``Enabled: false``
    (sources.list(5)); everything else byte for byte."""
    if path.endswith(".list"):
        return "".join(
            f"# {line}" if line.lstrip().startswith("deb") and _enterprise(line) else line
            for line in text.splitlines(keepends=True)
        )
    stanzas = text.split("\n\n")
    for index, stanza in enumerate(stanzas):
        fields = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (line.partition(":") for line in stanza.splitlines())
            if not k.startswith("#")
        )
        enabled = fields.get("enabled", "yes").lower() not in ("no", "false", "0")
        if enabled and _enterprise(fields.get("uris", "")):
            kept = [line for line in stanza.splitlines() if not line.lower().startswith("enabled:")]
            stanzas[index] = "\n".join([*kept, "Enabled: false"])
    edited = "\n\n".join(stanzas)
    return edited if edited.endswith("\n") else edited + "\n"


def apt_steps(ctx: HostContext) -> list[Step]:
    def check_repo() -> list[Change]:
        wanted = sources(codename(ctx))
        have = ctx.files.read(SOURCES)
        if have == wanted:
            return []
        return [
            Change(SOURCES, "missing" if have is None else "differs", "pve-no-subscription", wanted)
        ]

    def apply_repo(changes: Sequence[Change]) -> None:
        ctx.files.write(SOURCES, changes[0].data)
        ctx.lists.sources_changed()
        ctx.lists.refresh(ctx.change)

    def check_enterprise() -> list[Change]:
        changes = []
        for path in ENTERPRISE:
            text = ctx.files.read(path)
            if text is not None and disabled(path, text) != text:
                changes.append(Change(path, "enabled", "disabled", (path, disabled(path, text))))
        return changes

    def apply_enterprise(changes: Sequence[Change]) -> None:
        # No `apt-get update` of its own: the no-subscription step (next) or the packages
        # step runs it once every source is right.
        for change in changes:
            ctx.files.write(*change.data)
        ctx.lists.sources_changed()

    # Enterprise sources first: an `apt-get update` with one of them enabled exits 100.
    return [
        Step("apt: enterprise repositories", check_enterprise, apply_enterprise),
        Step("apt: no-subscription repository", check_repo, apply_repo),
    ]


def needed(spec: HostSpec) -> list[str]:
    """The packages the configured features run (Proxmox VE ships without ``sudo``, which
    the admin user's sudoers rule needs)."""
    wanted = ["chrony"] if spec.timezone else []
    if spec.users is not None and spec.users.sudo_access:
        wanted.append("sudo")
    if spec.nfs.exports:
        wanted.append("nfs-kernel-server")
    if spec.samba is not None and spec.samba.shares:
        wanted.append("samba")
    if spec.dns.enabled:
        wanted.append("dnsmasq")
    if spec.nvidia.install:
        wanted += NVIDIA_BUILD
    return wanted


def installed(ctx: HostContext, names: Sequence[str]) -> set[str]:
    """Which of ``names`` dpkg says are installed (``ii``); unknown ones exit 1, still listed."""
    if not names:
        return set()
    result = ctx.query(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\n", *names])
    found = set()
    for line in result.stdout.splitlines():
        name, _, status = line.partition("\t")
        if status.startswith("ii"):
            found.add(name)
    return found


def package_steps(ctx: HostContext) -> list[Step]:
    def check() -> list[Change]:
        wanted = needed(ctx.spec)
        have = installed(ctx, wanted)
        return [
            Change(f"package {p}", "not installed", "installed", p) for p in wanted if p not in have
        ]

    def apply(changes: Sequence[Change]) -> None:
        ctx.lists.refresh(ctx.change)
        ctx.change(
            ["apt-get", "install", "-y", "--no-install-recommends", *(c.data for c in changes)]
        )

    return [Step("packages", check, apply)]
