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
)
PROFILES = {8: PVE8, 9: PVE9}
