"""The features of ``phoenix setup`` in the order they run, each with the features it needs
first: importable at ``--help`` time, and registered as the host's parts (``host:zfs``). The
manager's :data:`~phoenix_hypervisor.manager.FEATURES` hold the steps; a test keeps the two in
step."""

from __future__ import annotations

#: feature -> the features whose failure makes it pointless (they run first).
NEEDS: dict[str, tuple[str, ...]] = {
    "apt": (),
    "packages": ("apt",),
    "time": ("packages",),
    "hosts": (),
    "zfs": (),
    "storage": ("zfs",),
    "nfs": ("packages", "zfs"),
    "samba": ("packages", "zfs"),
    "users": ("packages",),
    "firewall": (),
    "nvidia": ("packages",),
    "vfio": (),
    "apparmor": (),
    "dns": ("packages",),
    "cron": (),
}
ORDER = tuple(NEEDS)
