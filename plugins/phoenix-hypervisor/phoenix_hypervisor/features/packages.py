"""``apt`` and ``packages``: the Proxmox repositories for the node's Debian release, and the
Debian packages the configured features need.

The release is read from the node's ``/etc/os-release`` (``VERSION_CODENAME``), never assumed
(the old tool hard-coded trixie). The no-subscription repository is a phoenix-owned deb822
file; the enterprise repository, which fails ``apt-get update`` without a subscription, is
disabled by renaming its file to ``.disabled`` (apt skips that suffix silently: apt-pkg
Dir::Ignore-Files-Silently), which keeps its content for the day a subscription is bought.
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
#: Where Proxmox puts its enterprise repository: PVE 8 one-line, PVE 9 deb822.
ENTERPRISE = (
    "/etc/apt/sources.list.d/pve-enterprise.list",
    "/etc/apt/sources.list.d/pve-enterprise.sources",
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
    return (
        HEADER
        + "Types: deb\nURIs: http://download.proxmox.com/debian/pve\n"
        + f"Suites: {release}\nComponents: pve-no-subscription\nSigned-By: {KEYRING}\n"
    )


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
        ctx.change(["apt-get", "update"])
        ctx.apt_updated = True

    def check_enterprise() -> list[Change]:
        return [
            Change(path, "enabled", "disabled", path)
            for path in ENTERPRISE
            if ctx.files.read(path) is not None
        ]

    def apply_enterprise(changes: Sequence[Change]) -> None:
        for change in changes:
            path = ctx.files.path(change.data)
            ctx.change(["mv", "-f", "--", path, path + ".disabled"])

    return [
        Step("apt: no-subscription repository", check_repo, apply_repo),
        Step("apt: enterprise repository", check_enterprise, apply_enterprise),
    ]


def needed(spec: HostSpec) -> list[str]:
    """The packages the configured features run."""
    wanted = ["chrony"] if spec.timezone else []
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
        if not ctx.apt_updated:
            ctx.change(["apt-get", "update"])
            ctx.apt_updated = True
        ctx.change(
            ["apt-get", "install", "-y", "--no-install-recommends", *(c.data for c in changes)]
        )

    return [Step("packages", check, apply)]
