"""DIR/etc/pve behaving like pmxcfs for file modes, checked at every command.

pmxcfs refuses every chmod except to the one mode it reports for all its files: pve-cluster
src/pmxcfs/pmxcfs.c cfs_fuse_chmod answers -EPERM unless the mode is 0640 (0600 under
`priv/`). A plain directory cannot refuse a chmod, so the owner checks before each command:
a file under DIR/etc/pve whose mode is not the pmxcfs one was chmodded by a writer, and the
command fails with the EPERM text the writer would have got, naming the file and the mode; the
file is set back to the pmxcfs mode, as pmxcfs would have kept it.

Limit: a chmod undone before the next command (0600, then 0640) leaves nothing to see.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .result import CliError

MODE = 0o640
PRIVATE_MODE = 0o600
#: The node's mount table (DIR/proc/mounts), what phoenix's node probe reads. pmxcfs is mounted
#: at /etc/pve by pve-cluster src/pmxcfs/pmxcfs.c `main` (`fuse_mount(CFSDIR, ...)` with
#: `-odefault_permissions -oallow_other`); the `fuse` type with source `/dev/fuse` is libfuse
#: 2's for a mount without a subtype, as PVE 8 and 9 nodes show it (field reports).
MOUNTS = (
    "/dev/mapper/pve-root / ext4 rw,relatime,errors=remount-ro 0 0\n"
    "proc /proc proc rw,relatime 0 0\n"
    "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
    "/dev/fuse /etc/pve fuse rw,nosuid,nodev,relatime,user_id=0,group_id=0,"
    "default_permissions,allow_other 0 0\n"
)


def write_mounts(sim_dir: Path) -> None:
    """DIR/proc/mounts as on a node whose pmxcfs runs."""
    path = sim_dir / "proc" / "mounts"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MOUNTS)


#: Files pmxcfs answers from its own state, read-only: pmxcfs.c pmxcfs_plug_init creates
#: them with ``cfs_plug_func_new(name, 0440, ...)`` (clusterfiles.py writes them).
PLUGS = (".vmlist", ".members")
PLUG_MODE = 0o440


def expected_mode(pve_etc: Path, path: Path) -> int:
    relative = path.relative_to(pve_etc).parts
    if relative in ((name,) for name in PLUGS):
        return PLUG_MODE
    return PRIVATE_MODE if relative[0] == "priv" else MODE


def refused_chmods(pve_etc: Path) -> list[tuple[Path, int]]:
    """Files whose mode pmxcfs would never have let a writer set, reset to the pmxcfs mode."""
    refused = []
    for root, _dirs, files in os.walk(pve_etc):
        for name in files:
            path = Path(root, name)
            try:
                mode = stat.S_IMODE(path.lstat().st_mode)
            except FileNotFoundError:
                continue  # renamed or removed meanwhile
            want = expected_mode(pve_etc, path)
            if mode != want:
                path.chmod(want)
                refused.append((path, mode))
    return refused


def check(pve_etc: Path) -> None:
    """Raise the writer's EPERM for every chmod pmxcfs would have refused since the last command."""
    refused = refused_chmods(pve_etc)
    if refused:
        raise CliError(
            "".join(
                f"chmod '{path}' to {mode:04o}: Operation not permitted (pmxcfs allows only "
                f"{expected_mode(pve_etc, path):04o})\n"
                for path, mode in refused
            )
        )
