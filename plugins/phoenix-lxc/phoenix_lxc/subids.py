"""The node's ``/etc/subuid`` and ``/etc/subgid`` entries that a container's id maps need.

lxc maps a container's ids through shadow's newuidmap/newgidmap even as root (lxc
src/lxc/conf.c lxc_map_ids: "insist that root also reserve ranges in subuid"), and those allow
a host range only when root owns it (shadow src/newuidmap.c / newgidmap.c verify_range). So
``lxc.idmap: g 33 33 1`` makes ``pct start`` fail unless ``/etc/subgid`` holds ``root:33:1``.
This step adds, before the container starts, the entries its idmap lines need and lack; it
never removes or rewrites anyone's lines. The node's ``/etc`` is the parent of ``pve_etc``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_lxc.model import LxcSpec
from phoenix_lxc.rawconf import idmap_lines
from phoenix_pve.live import Live

FILES = {"u": "subuid", "g": "subgid"}
USER = "root"
Range = tuple[int, int]  # (first host id, count)


def owned(text: str) -> list[Range]:
    """The ranges root owns in a subuid/subgid file, merged where they touch or overlap."""
    ranges = []
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[0] == USER and fields[1].isdigit() and fields[2].isdigit():
            ranges.append((int(fields[1]), int(fields[1]) + int(fields[2])))
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end - start) for start, end in merged]


def allowed(host: int, count: int, ranges: Sequence[Range]) -> bool:
    """newuidmap's rule: root's own single id, or a range inside what root owns."""
    if count == 1 and host == 0:
        return True
    return any(start <= host and host + count <= start + size for start, size in ranges)


def needed(spec: LxcSpec) -> dict[str, list[Range]]:
    """The host ranges of the container's lxc.idmap lines, per letter (u, g)."""
    result: dict[str, list[Range]] = {"u": [], "g": []}
    for _key, value in idmap_lines(spec.id_maps, spec.unprivileged):
        letter, _inner, host, count = value.split()
        result[letter].append((int(host), int(count)))
    return result


def _read(live: Live, path: str) -> str:
    try:
        return live.host.read_file(path).decode()
    except FileNotFoundError:
        return ""


def missing(live: Live, path: str, ranges: Sequence[Range]) -> list[str]:
    """The ``root:<first>:<count>`` lines ``path`` must gain, in order, without repeats."""
    have = owned(_read(live, path))
    lines = [f"{USER}:{host}:{count}" for host, count in ranges if not allowed(host, count, have)]
    return list(dict.fromkeys(lines))


def step(spec: LxcSpec, live: Live) -> Step:
    etc = posixpath.dirname(live.pve_etc)
    paths = {letter: f"{etc}/{name}" for letter, name in FILES.items()}

    def check() -> list[Change]:
        if not spec.id_maps:
            return []
        wanted = needed(spec)
        return [
            Change(f"{paths[letter]} {line}", None, "added", data=letter)
            for letter in FILES
            for line in missing(live, paths[letter], wanted[letter])
        ]

    def apply(changes: Sequence[Change]) -> None:
        wanted = needed(spec)
        for letter in dict.fromkeys(c.data for c in changes):
            path = paths[letter]
            lines = missing(live, path, wanted[letter])
            if lines:
                text = _read(live, path)
                text += "" if not text or text.endswith("\n") else "\n"
                live.host.write_file(path, (text + "\n".join(lines) + "\n").encode(), mode=0o644)

    return Step("subordinate ids", check, apply)
