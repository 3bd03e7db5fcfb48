"""The ZFS ARC size limits of the simulated node, as OpenZFS sets and reports them.

Read in openzfs/zfs at the releases the profiles play (zfs-2.2.7, PVE 8; zfs-2.3.4, PVE 9):

- module/zfs/arc.c arc_set_limits: `arc_c_min = MAX(allmem / 32, 2ULL << SPA_MAXBLOCKSHIFT)`
  (SPA_MAXBLOCKSHIFT 24: 32 MiB), `arc_c_max = arc_default_max(arc_c_min, allmem)`;
  module/os/linux/zfs/arc_os.c arc_default_max: 2.2 `MAX(allmem / 2, min)`, 2.3
  `MAX(allmem * 5 / 8, allmem >= 1 GiB ? allmem - 1 GiB : min)`.
- arc_init: a `zfs_arc_max` given at module load (/etc/modprobe.d) is taken when
  `>= MIN_ARC_MAX` (DMU_MAX_ACCESS, 64 MiB) and `< allmem`.
- a write to /sys/module/zfs/parameters/zfs_arc_max (arc_os.c param_set_arc_max ->
  param_set_arc_u64) stores any number, then arc.c arc_tuning_update takes it only when
  `!= 0`, `>= MIN_ARC_MAX`, `< allmem` and `> arc_c_min`; otherwise the limit stays
  (WARN_IF_TUNING_IGNORED only logs to the kernel).
- /proc/spl/kstat/zfs/arcstats is a named kstat (module/os/linux/spl/spl-kstat.c:
  header `%-31s %-4s %s` name type data, rows `%-31s %-4d ` then the value; type 4 is
  KSTAT_DATA_UINT64).

allmem is arc_all_memory(), the kernel's total RAM: here the seed's `host.memory` (bytes,
64 GiB unless given), also shown as MemTotal in /proc/meminfo.
"""

from __future__ import annotations

import re
from pathlib import Path

MIB, GIB = 1024**2, 1024**3
MIN_ARC_MAX = 64 * MIB
MEMORY = 64 * GIB
PARAM = "sys/module/zfs/parameters/zfs_arc_max"
ARCSTATS = "proc/spl/kstat/zfs/arcstats"
MODPROBE = re.compile(r"^\s*options\s+zfs\s+.*\bzfs_arc_max=(\d+)", re.MULTILINE)


def c_min(allmem: int) -> int:
    return max(allmem // 32, 32 * MIB)


def default_max(zfs: str, allmem: int) -> int:
    """arc_default_max of the release (`2.2` or `2.3`)."""
    if zfs == "2.2":
        return max(allmem // 2, c_min(allmem))
    size = allmem - GIB if allmem >= GIB else c_min(allmem)
    return max(allmem * 5 // 8, size)


def arcstats(c_max: int, allmem: int) -> str:
    # arc_init starts the target (c) at c_min; the ARC is empty (size 0).
    rows = [("c", c_min(allmem)), ("c_min", c_min(allmem)), ("c_max", c_max), ("size", 0)]
    head = f"13 1 0x01 {len(rows)} 0 0 0\n{'name':<31} {'type':<4} data\n"
    return head + "".join(f"{name:<31} {4:<4d} {value}\n" for name, value in rows)


def current(root: Path) -> int | None:
    """c_max as the arcstats file says."""
    path = root / ARCSTATS
    found = re.search(r"^c_max\s+\d+\s+(\d+)$", path.read_text(), re.MULTILINE)
    return int(found[1]) if found else None


def boot(root: Path, zfs: str, allmem: int) -> None:
    """The limits at module load: the default, or a valid zfs_arc_max from modprobe.d
    (arc_init); the parameter file shows what was given (0 without)."""
    directory = root / "etc" / "modprobe.d"
    given = 0
    for conf in sorted(directory.glob("*.conf")) if directory.is_dir() else []:
        found = MODPROBE.findall(conf.read_text())
        given = int(found[-1]) if found else given
    limit = default_max(zfs, allmem)
    if MIN_ARC_MAX <= given < allmem:
        limit = given
    for relative, text in ((PARAM, f"{given}\n"), (ARCSTATS, arcstats(limit, allmem))):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def tuning_update(root: Path, value: int, allmem: int) -> None:
    """A runtime write of zfs_arc_max (arc_tuning_update's range)."""
    limit = current(root)
    valid = value != 0 and MIN_ARC_MAX <= value < allmem and value > c_min(allmem)
    if valid and value != limit:
        (root / ARCSTATS).write_text(arcstats(value, allmem))
