"""What differs between the Proxmox VE releases the simulator can play (`pve-sim up --pve 8|9`).

PVE 8 ships pve-container 5.2.x, PVE 9 pve-container 6.x; phoenix targets both, and a node
looks like PVE 8 unless told otherwise (the release most production clusters still run).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT = 8


@dataclass(frozen=True)
class Profile:
    """The version-dependent texts and defaults of one release."""

    major: int
    manager: str
    repoid: str
    kernel: str
    packages: tuple[tuple[str, str], ...]
    #: pve-container 5.2.x API2/LXC.pm create_vm: `unprivileged` defaults to 0 (6.x: 1).
    unprivileged_default: bool
    #: pve-storage PVE/CLI/pvesm.pm status: units were added to the header in PVE 9.
    pvesm_header: tuple[str, str, str]
    #: API2/LXC.pm clone_vm, a full clone of a running CT without --snapname.
    running_full_clone: str
    #: 6.x logs `creating a clone of container ...`; 5.2.x does not.
    clone_banner: bool
    #: The Debian release under it (PVE 8: bookworm, PVE 9: trixie), for /etc/os-release.
    codename: str = "bookworm"
    debian: str = "12"
    #: The content of `local` a fresh install writes: pve-installer
    #: Proxmox/Install/StorageConfig.pm get_lvm_thin_config/get_zfs_config; `import` was added
    #: for 9.x by commit ec1d5ee ("enable import content type by default"), 8.4.6 (faebafd)
    #: writes iso,vztmpl,backup.
    local_content: str = "iso,vztmpl,backup"
    #: The Proxmox release key apt checks: proxmox-archive-keyring 3.0 (bookworm) installs
    #: debian/proxmox-release-bookworm.gpg into /etc/apt/trusted.gpg.d/ only
    #: (debian/proxmox-archive-keyring.install, read in jiangcuo/proxmox-archive-keyring, a
    #: copy of Proxmox's repository); PVE 9's sources name
    #: /usr/share/keyrings/proxmox-archive-keyring.gpg (pve-manager configs/pve-sources.sources).
    keyring: str = "etc/apt/trusted.gpg.d/proxmox-release-bookworm.gpg"
    #: The apt sources a fresh install has, relative to `/`: Debian's, pve-enterprise (written
    #: by pve-manager's configs/Makefile: stable-8 pve-sources.list -> pve-enterprise.list, master
    #: pve-sources.sources -> pve-enterprise.sources) and Ceph's enterprise repository. No
    #: Proxmox source writes the Ceph file at install (pve-installer has no apt source code;
    #: pve-manager writes ceph.list / ceph.sources only in PVE/CLI/pveceph.pm `install`), so
    #: its presence and text rest on field reports of fresh ISO installs (PVE 8: ceph.list with
    #: ceph-quincy; PVE 9: ceph.sources with ceph-squid, docs/pve-sim.md "Fresh node").
    sources: tuple[tuple[str, str], ...] = ()
    #: The OpenZFS release of its kernel module, for the ARC defaults (zfsarc.default_max):
    #: PVE 8.4's zfsutils-linux is 2.2.7 (hoststate BASE_PACKAGES), PVE 9's 2.3.x (field:
    #: the Proxmox VE 9.0 release notes).
    zfs: str = "2.2"

    @property
    def os_release(self) -> str:
        """/etc/os-release as Debian writes it (base-files)."""
        return (
            f'PRETTY_NAME="Debian GNU/Linux {self.debian} ({self.codename})"\n'
            'NAME="Debian GNU/Linux"\n'
            f'VERSION_ID="{self.debian}"\n'
            f'VERSION="{self.debian} ({self.codename})"\n'
            f"VERSION_CODENAME={self.codename}\n"
            "ID=debian\n"
        )


ENTERPRISE = "https://enterprise.proxmox.com/debian"
PVE8_SOURCES = (
    (
        "etc/apt/sources.list",
        "deb http://deb.debian.org/debian bookworm main contrib\n"
        "deb http://deb.debian.org/debian bookworm-updates main contrib\n"
        "deb http://security.debian.org/debian-security bookworm-security main contrib\n",
    ),
    (
        "etc/apt/sources.list.d/pve-enterprise.list",
        f"deb {ENTERPRISE}/pve bookworm pve-enterprise\n",
    ),
    ("etc/apt/sources.list.d/ceph.list", f"deb {ENTERPRISE}/ceph-quincy bookworm enterprise\n"),
)
KEYRING9 = "/usr/share/keyrings/proxmox-archive-keyring.gpg"
PVE9_SOURCES = (
    ("etc/apt/sources.list.d/debian.sources",
     "Types: deb\nURIs: http://deb.debian.org/debian/\nSuites: trixie trixie-updates\n"
     "Components: main contrib non-free-firmware\n"
     "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
     "Types: deb\nURIs: http://security.debian.org/debian-security/\nSuites: trixie-security\n"
     "Components: main contrib non-free-firmware\n"
     "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"),
    ("etc/apt/sources.list.d/pve-enterprise.sources",
     f"Types: deb\nURIs: {ENTERPRISE}/pve\nSuites: trixie\nComponents: pve-enterprise\n"
     f"Signed-By: {KEYRING9}\n"),
    ("etc/apt/sources.list.d/ceph.sources",
     f"Types: deb\nURIs: {ENTERPRISE}/ceph-squid\nSuites: trixie\nComponents: enterprise\n"
     f"Signed-By: {KEYRING9}\n"),
)  # fmt: skip

PVE8 = Profile(
    major=8,
    manager="8.4.1",
    repoid="2a5fa54a8503f96d",
    kernel="6.8.12-9-pve",
    packages=(
        ("pve-container", "5.2.6"),
        ("qemu-server", "8.3.12"),
        ("libpve-storage-perl", "8.3.6"),
        ("lxc-pve", "6.0.0-1"),
    ),
    unprivileged_default=False,
    pvesm_header=("Total", "Used", "Available"),
    running_full_clone="Cannot do full clones on a running container without snapshots",
    clone_banner=False,
    sources=PVE8_SOURCES,
)
PVE9 = Profile(
    major=9,
    manager="9.0.10",
    repoid="fakepve",
    kernel="6.14.8-2-pve",
    packages=(
        ("pve-container", "6.1.10"),
        ("qemu-server", "9.2.6"),
        ("libpve-storage-perl", "9.0.13"),
        ("lxc-pve", "6.0.5-1"),
    ),
    unprivileged_default=True,
    pvesm_header=("Total (KiB)", "Used (KiB)", "Available (KiB)"),
    running_full_clone="Full clone of a running container is only possible from a snapshot",
    clone_banner=True,
    codename="trixie",
    debian="13",
    local_content="iso,vztmpl,backup,import",
    keyring=KEYRING9.lstrip("/"),
    sources=PVE9_SOURCES,
    zfs="2.3",
)
PROFILES = {8: PVE8, 9: PVE9}


def installer_storages(profile: Profile, layout: str) -> list[dict[str, str]]:
    """The storage.cfg a fresh install writes for its disk layout (pve-installer
    Proxmox/Install/StorageConfig.pm: `lvmthin` for ext4/xfs, `zfs` for a ZFS root)."""
    local = {"id": "local", "type": "dir", "path": "/var/lib/vz", "content": profile.local_content}
    if layout == "zfs":
        data = {"id": "local-zfs", "type": "zfspool", "pool": "rpool/data", "sparse": "1",
                "content": "images,rootdir"}  # fmt: skip
    elif layout == "lvmthin":
        data = {"id": "local-lvm", "type": "lvmthin", "thinpool": "data", "vgname": "pve",
                "content": "rootdir,images"}  # fmt: skip
    else:
        raise ValueError(f"unknown installer layout {layout!r} (lvmthin or zfs)")
    return [local, data]
