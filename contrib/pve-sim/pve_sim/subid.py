"""The node's /etc/subuid and /etc/subgid (DIR/etc/subuid, DIR/etc/subgid) and `pct start`'s
check of a container's id maps against them.

lxc maps a container's ids with shadow's newuidmap/newgidmap, even as root: lxc src/lxc/conf.c
lxc_map_ids uses the helpers whenever they are installed ("insist that root also reserve
ranges in subuid"), and PVE installs them. shadow src/newuidmap.c / newgidmap.c verify_range
allow a range only when root owns it in /etc/subuid or /etc/subgid (or it is root's own single
id); otherwise "newgidmap: gid range [33-34) -> [33-34) not allowed" and lxc-start fails.
A fresh PVE node has `root:100000:65536` in both files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

FRESH = "root:100000:65536\n"
#: PVE::LXC::parse_id_maps: an unprivileged CT without lxc.idmap lines gets this map.
DEFAULT_MAP = [(0, 100000, 65536)]

Range = tuple[int, int, int]  # (container id, host id, count)


def seed(etc: Path) -> None:
    """Give a new node the files a fresh PVE install has (a node directory that is reused
    starts afresh, like its guests)."""
    etc.mkdir(parents=True, exist_ok=True)
    for name in ("subuid", "subgid"):
        (etc / name).write_text(FRESH)


def owned(path: Path, user: str = "root") -> list[tuple[int, int]]:
    """The (first id, count) ranges `user` owns in a subuid/subgid file."""
    ranges = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[0] == user and fields[1].isdigit() and fields[2].isdigit():
            ranges.append((int(fields[1]), int(fields[2])))
    return ranges


def covered(start: int, count: int, ranges: Sequence[tuple[int, int]]) -> bool:
    """shadow lib/subordinateio.c have_range: every id of the range lies in an owned range."""
    needed = start
    end = start + count
    progressed = True
    while needed < end and progressed:
        progressed = False
        for first, size in ranges:
            if first <= needed < first + size:
                needed = first + size
                progressed = True
    return needed >= end


def maps(raw: Sequence[tuple[str, str]], unprivileged: bool) -> dict[str, list[Range]]:
    """The uid ('u') and gid ('g') maps lxc would set up for this config."""
    lines = [value.split() for key, value in raw if key == "lxc.idmap"]
    result: dict[str, list[Range]] = {"u": [], "g": []}
    for fields in lines:
        if len(fields) == 4 and fields[0] in result and all(f.isdigit() for f in fields[1:]):
            result[fields[0]].append((int(fields[1]), int(fields[2]), int(fields[3])))
    if not lines and unprivileged:
        result = {"u": list(DEFAULT_MAP), "g": list(DEFAULT_MAP)}
    return result


def refusal(etc: Path, vmid: int, raw: Sequence[tuple[str, str]], unprivileged: bool) -> str | None:
    """lxc-start's output when a map is not allowed by the node's files, else None."""
    for letter, kind, tool in (("u", "uid", "newuidmap"), ("g", "gid", "newgidmap")):
        ranges = maps(raw, unprivileged)[letter]
        allowed = owned(etc / f"sub{kind}")
        for inner, host, count in ranges:
            if (count == 1 and host == 0) or covered(host, count, allowed):
                continue
            argv = " ".join(f"{i} {h} {c}" for i, h, c in ranges)
            return (
                f'lxc_map_ids: 3701 {tool} failed to write mapping "{tool}: {kind} range '
                f'[{inner}-{inner + count}) -> [{host}-{host + count}) not allowed": '
                f"{tool} 4242 {argv}\n"
                "lxc_spawn: 1788 Failed to set up id mapping.\n"
                f'__lxc_start: 2107 Failed to spawn container "{vmid}"\n'
            )
    return None
