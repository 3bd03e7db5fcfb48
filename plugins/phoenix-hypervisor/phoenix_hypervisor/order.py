"""The features of ``phoenix setup`` in the order they run: importable at ``--help`` time
(the manager's :data:`~phoenix_hypervisor.manager.FEATURES` hold the steps; a test keeps the
two in step)."""

from __future__ import annotations

ORDER = (
    "apt",
    "packages",
    "time",
    "hosts",
    "zfs",
    "storage",
    "nfs",
    "samba",
    "users",
    "firewall",
    "nvidia",
    "vfio",
    "apparmor",
    "dns",
    "cron",
)
