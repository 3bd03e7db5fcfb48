"""The simulated node's host side: disks, ZFS, packages, units, accounts, PCI devices, driver.

Kept in memory by the owner process like fakepve's guests, seeded from the seed file's
``host`` section. Files the host tools read (``/etc/exports.d``, a sudoers file) are real
files under the node directory, which plays the node's ``/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import apparmor, zfsarc

if TYPE_CHECKING:
    from .profile import Profile

#: What a Proxmox VE install has before any setup (`dpkg-query -W` on a fresh node, trimmed).
#: No `sudo`: Proxmox VE does not ship it (proxmox-ve's dependencies do not pull it; field:
#: forum.proxmox.com thread 89000, staff: "it's just not used for PVE itself"). `chrony` is
#: installed, enabled and running: pve-manager PVE/CLI/pve8to9.pm lists "chrony (Default in new
#: Proxmox VE installations)" and checks chrony.service is active.
BASE_PACKAGES = {
    "proxmox-ve": "8.4.0",
    "pve-manager": "8.4.1",
    "zfsutils-linux": "2.2.7-pve2",
    "openssh-server": "1:9.2p1-2+deb12u5",
    "chrony": "4.3-2+deb12u1",
    "systemd": "252.36-1~deb12u1",
    "initramfs-tools": "0.142+deb12u1",
    "pciutils": "1:3.9.0-4",
    "kmod": "30+20221128-1",
    "pve-cluster": "8.1.0",
    "pve-firewall": "5.1.1",
}
#: What `apt-get install` can find (package -> version) beyond the base.
CATALOGUE = {
    "nfs-kernel-server": "1:2.6.2-4+deb12u1",
    "nfs-common": "1:2.6.2-4+deb12u1",
    "samba": "2:4.17.12+dfsg-0+deb12u1",
    "samba-common-bin": "2:4.17.12+dfsg-0+deb12u1",
    "smbclient": "2:4.17.12+dfsg-0+deb12u1",
    "sudo": "1.9.13p3-1+deb12u1",
    "dnsmasq": "2.90-4~deb12u1",
    "build-essential": "12.9",
    "dkms": "3.0.10-8+deb12u1",
    "pkg-config": "1.8.1-1",
    "pve-headers": "8.4.0",
    "proxmox-default-headers": "1.1.0",
    "jq": "1.6-2.1",
    "s-tui": "1.1.4-2",
    "libguestfs-tools": "1:1.48.6-2",
    "nvtop": "3.0.1-1",
    "apparmor": "3.0.8-3",
}
#: The units a package brings (Debian's packaging); installing it enables and starts them.
UNITS = {
    "nfs-kernel-server": ("nfs-server.service",),
    "samba": ("smbd.service", "nmbd.service"),
    "chrony": ("chrony.service",),
    "dnsmasq": ("dnsmasq.service",),
    "openssh-server": ("ssh.service",),
    "systemd": ("systemd-timesyncd.service",),
    "apparmor": ("apparmor.service",),
    # pve-manager's debian/rules installs and enables these (bin/init.d/*.service).
    "pve-manager": ("pvedaemon.service", "pveproxy.service", "pvestatd.service"),
    "pve-cluster": ("pve-cluster.service",),
    "pve-firewall": ("pve-firewall.service",),
}

#: Files a package's install creates (Debian's conffiles), relative to the node's root.
PACKAGE_FILES = {
    "samba": {"etc/samba/smb.conf": "[global]\n   workgroup = WORKGROUP\n   security = user\n"},
    "dnsmasq": {"etc/dnsmasq.d/README": "# files in this directory ending in .conf are read\n"},
    "nfs-kernel-server": {
        "etc/exports": "# /etc/exports: the access control list for NFS exports\n"
    },
}
#: What a fresh Proxmox VE install has on disk that host setup reads or writes beside.
BASE_TREE = {
    "etc/cron.d/.placeholder": "# DO NOT EDIT OR REMOVE\n",
    "etc/sudoers.d/README": "# files in this directory without a '.' are read by sudo\n",
    "etc/modprobe.d/pve-blacklist.conf": "blacklist nvidiafb\n",
    "etc/modules-load.d/modules.conf": "# /etc/modules: kernel modules to load at boot time.\n",
    "etc/systemd/system/.keep": "",
    **apparmor.FILES,
    "sys/kernel/security/apparmor/profiles": "".join(f"{p}\n" for p in apparmor.LOADED),
    "proc/cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.8.12-9-pve root=/dev/mapper/pve-root ro quiet\n",
    "proc/cpuinfo": "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\n",
    "etc/default/grub": 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n',
    # Device nodes a container's devN may pass through (ctsetup.device_problem): the kernel's
    # usual ones and an integrated GPU's render node (drivers/gpu/drm: DRM major 226).
    "dev/null": "c 1:3\n",
    "dev/zero": "c 1:5\n",
    "dev/fuse": "c 10:229\n",
    "dev/net/tun": "c 10:200\n",
    "dev/kvm": "c 10:232\n",
    "dev/dri/card0": "c 226:0\n",
    "dev/dri/renderD128": "c 226:128\n",
}
#: What the Proxmox VE installer writes: localhost, then the node's name on its address.
HOSTS = "127.0.0.1 localhost.localdomain localhost\n192.168.100.2 {0}.example.invalid {0}\n"
#: pve-installer Proxmox/Install.pm: "search $domain\nnameserver $dnsserver\n" (the same domain).
RESOLV = "search example.invalid\nnameserver 192.168.100.1\n"


def prepare_tree(root: Path, profile: Profile, hostname: str = "pve1") -> None:
    """Write the base files of a fresh node under root, once (a restart keeps edits): the
    release's apt sources and release key among them."""
    extra = {**dict(profile.sources), profile.keyring: "", "etc/hostname": f"{hostname}\n",
             "etc/hosts": HOSTS.format(hostname), "etc/resolv.conf": RESOLV}  # fmt: skip
    for name, content in {**BASE_TREE, **extra}.items():
        target = root / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)


@dataclass
class Unit:
    enabled: bool = True
    active: bool = True


@dataclass
class Account:
    uid: int
    gid: int
    home: str
    shell: str


@dataclass
class HostState:
    """Everything the host tools read and change, besides files."""

    root: Path
    #: Block device path -> the signature on it (`zfs_member`, `ext4` ...) or None.
    disks: dict[str, str | None] = field(default_factory=dict)
    #: Pool name -> (vdev type: "mirror", "raidz1" or "" for a stripe, member disks).
    pools: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    #: Dataset name -> its locally set properties (values as `zfs get -p` prints them).
    datasets: dict[str, dict[str, str]] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=lambda: dict(BASE_PACKAGES))
    catalogue: dict[str, str] = field(default_factory=lambda: dict(CATALOGUE))
    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, Account] = field(default_factory=dict)
    #: Group name -> (gid, members).
    groups: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    #: Samba's passdb: user -> NT hash stand-in (never printed).
    smb_users: dict[str, str] = field(default_factory=dict)
    #: Proxmox users (`pveum user list`) and ACL entries (path, user, role).
    pve_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    acl: list[tuple[str, str, str]] = field(default_factory=list)
    #: PCI functions: slot, class, vendor id, device id, description.
    pci: list[dict[str, str]] = field(default_factory=list)
    #: The NVIDIA module installed on disk and the one loaded (a reboot moves one to the other).
    nvidia_installed: str | None = None
    nvidia_loaded: str | None = None
    #: Disks taken offline with `zpool offline` (their pool is DEGRADED).
    offline: set[str] = field(default_factory=set)
    #: Active exports after the last `exportfs -ra`: (path, client, options).
    exports: list[tuple[str, str, str]] = field(default_factory=list)
    initramfs_updates: int = 0
    timezone: str = "Etc/UTC"
    #: The kernel's total memory in bytes (the seed's `memory`) and the OpenZFS release.
    memory: int = zfsarc.MEMORY
    zfs: str = "2.2"

    def __post_init__(self) -> None:
        for package in self.packages:
            self._enable_units(package)
        self.users.setdefault("root", Account(0, 0, "/root", "/bin/bash"))
        self.users.setdefault("nobody", Account(65534, 65534, "/nonexistent", "/usr/sbin/nologin"))
        for name, gid in (("root", 0), ("sudo", 27), ("users", 100), ("nogroup", 65534)):
            self.groups.setdefault(name, (gid, []))
        self.pve_users.setdefault("root@pam", {"userid": "root@pam", "enable": 1, "expire": 0})
        self.acl or self.acl.append(("/", "root@pam", "Administrator"))

    def pool_health(self, pool: str) -> str:
        """ONLINE, DEGRADED (some members of a redundant vdev offline) or FAULTED."""
        kind, disks = self.pools[pool]
        down = [d for d in disks if d in self.offline]
        if not down:
            return "ONLINE"
        return "DEGRADED" if kind and len(down) < len(disks) else "FAULTED"

    def mountpoint(self, dataset: str) -> str | None:
        """Where a dataset is mounted: its `mountpoint`, else its parent's plus its own name
        (the pool's default is `/pool`); None for `none` and `legacy` (OpenZFS zfsprops(7)).
        Every dataset with a mountpoint is mounted (zfs create and zpool create mount)."""
        own = self.datasets[dataset].get("mountpoint")
        if own is None and "/" in dataset:
            parent, leaf = dataset.rsplit("/", 1)
            above = self.mountpoint(parent)
            return None if above is None else f"{above.rstrip('/')}/{leaf}"
        own = own or f"/{dataset}"
        return None if own in ("none", "legacy") else own

    def mounted(self, path: str) -> bool:
        """Whether a dataset is mounted at path (what pve-storage's path_is_mounted reads
        from /proc/mounts)."""
        wanted = path.rstrip("/") or "/"
        return any(self.mountpoint(d) == wanted for d in self.datasets)

    def addresses(self, hostname: str) -> set[str]:
        """The node's own addresses: loopback and what /etc/hosts maps its name to (the
        simulator has no interfaces; the `hosts` setup feature puts the configured address
        there, as pve-cluster needs)."""
        return {"127.0.0.1", "::1"} | self.resolve(hostname)

    def hosts(self, key: str) -> list[list[str]]:
        """The /etc/hosts entries (address, canonical name, aliases) for an address or a
        name; a name's short form matches too."""
        hosts = self.path("/etc/hosts")
        found = []
        for line in hosts.read_text().splitlines() if hosts.is_file() else []:
            words = line.split("#", 1)[0].split()
            names = {w.lower() for w in words[1:]} | {w.split(".")[0].lower() for w in words[1:]}
            if len(words) > 1 and (key == words[0] or key.lower() in names):
                found.append(words)
        return found

    def resolve(self, name: str) -> set[str]:
        """The addresses /etc/hosts gives a name."""
        return {words[0] for words in self.hosts(name)}

    def mount(self, dataset: str) -> None:
        """The mountpoint directory a mount makes (zfs_mount creates it)."""
        where = self.mountpoint(dataset)
        if where is not None:
            self.path(where).mkdir(parents=True, exist_ok=True)

    def path(self, absolute: str) -> Path:
        """Where the node's ``absolute`` path lives on this machine."""
        text = str(absolute)
        if text.startswith(str(self.root)):
            return Path(text)
        return self.root / text.lstrip("/")

    def reboot(self) -> None:
        """What a reboot changes for the host tools: the driver installed on disk loads, the
        ZFS module takes its modprobe.d options, and the kernel command line is what GRUB's
        configuration (grub.d drop-ins included) says."""
        self.nvidia_loaded = self.nvidia_installed
        zfsarc.boot(self.root, self.zfs, self.memory)
        cmdline = self.root / "proc" / "cmdline"
        words = cmdline.read_text().split() if cmdline.exists() else []
        dropins = sorted((self.root / "etc" / "default" / "grub.d").glob("*.cfg"))
        for dropin in dropins:
            found = re.search(r'GRUB_CMDLINE_LINUX_DEFAULT="\$GRUB_CMDLINE_LINUX_DEFAULT ([^"]*)"',
                              dropin.read_text())  # fmt: skip
            words += [w for w in (found[1].split() if found else []) if w not in words]
        cmdline.write_text(" ".join(words) + "\n")

    def install(self, package: str) -> None:
        self.packages[package] = self.catalogue[package]
        self._enable_units(package)
        for name, content in PACKAGE_FILES.get(package, {}).items():
            target = self.root / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content)

    def _enable_units(self, package: str) -> None:
        for unit in UNITS.get(package, ()):
            self.units.setdefault(unit, Unit())

    def next_id(self) -> int:
        used = {a.uid for a in self.users.values()} | {g for g, _ in self.groups.values()}
        return next(i for i in range(1000, 60000) if i not in used)

    @classmethod
    def from_seed(cls, root: Path, seed: dict[str, Any], profile: Profile) -> HostState:
        """The seed's ``host`` section: disks, pools, datasets, packages, pci, nvidia, memory;
        the ZFS module loads as at boot."""
        state = cls(root, memory=int(seed.get("memory", zfsarc.MEMORY)), zfs=profile.zfs)
        meminfo = root / "proc" / "meminfo"
        meminfo.parent.mkdir(parents=True, exist_ok=True)
        meminfo.write_text(f"MemTotal:       {state.memory // 1024} kB\n")
        zfsarc.boot(root, state.zfs, state.memory)
        state.disks.update(seed.get("disks", {}))
        for name, pool in seed.get("pools", {}).items():
            state.pools[name] = (pool.get("vdev", ""), list(pool["disks"]))
            for disk in pool["disks"]:
                state.disks[disk] = "zfs_member"
            state.datasets.setdefault(name, {})
        for name, props in seed.get("datasets", {}).items():
            state.datasets[name] = dict(props)
        for name in state.datasets:
            state.mount(name)
        for package, version in seed.get("packages", {}).items():
            state.packages[package] = version
            state._enable_units(package)
        state.pci.extend(seed.get("pci", []))
        state.nvidia_installed = state.nvidia_loaded = seed.get("nvidia")
        if "cpu_vendor" in seed:  # GenuineIntel, AuthenticAMD
            cpuinfo = root / "proc" / "cpuinfo"
            cpuinfo.parent.mkdir(parents=True, exist_ok=True)
            cpuinfo.write_text(f"processor\t: 0\nvendor_id\t: {seed['cpu_vendor']}\n")
        return state
