"""DIR/journal.jsonl: one JSON line per simulated command, so tests can count mutations.

Each record is written with a single `write()` on an O_APPEND descriptor, which keeps lines
whole even when several processes append at once.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

JOURNAL = "journal.jsonl"


def append(sim_dir: Path, record: dict[str, Any]) -> None:
    """Append one record (a `ts` is added when missing)."""
    record.setdefault("ts", time.time())
    data = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(Path(sim_dir) / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(sim_dir: Path) -> list[dict[str, Any]]:
    """Every record so far, oldest first."""
    path = Path(sim_dir) / JOURNAL
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def guests_of(record: dict[str, Any]) -> list[str]:
    """The guests a ``pct``/``qm`` command acts on: its id, and a clone's new id too."""
    argv = record["argv"]
    if argv[0] not in ("pct", "qm") or len(argv) < 3 or not argv[2].isdigit():
        return []
    if argv[1] == "clone" and len(argv) > 3 and argv[3].isdigit():
        return [argv[2], argv[3]]
    return [argv[2]]


def overlapping(records: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """Pairs of commands whose ``[ts, ts + duration)`` spans intersect."""
    spans = sorted(records, key=lambda r: r["ts"])
    pairs = []
    for i, first in enumerate(spans):
        end = first["ts"] + first["duration"]
        for second in spans[i + 1 :]:
            if second["ts"] >= end:
                break
            pairs.append((first["argv"], second["argv"]))
    return pairs


def guest_overlaps(records: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """Mutating commands on one guest that ran at the same time (Proxmox would refuse one)."""
    by_guest: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        for guest in guests_of(record) if record["mutating"] else ():
            by_guest.setdefault(guest, []).append(record)
    return [pair for group in by_guest.values() for pair in overlapping(group)]


def clone_overlaps(records: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """Clones of one source that ran at the same time (pve-container locks the source)."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record["argv"][1:2] == ["clone"] and record["rc"] == 0:
            by_source.setdefault(record["argv"][2], []).append(record)
    return [pair for group in by_source.values() for pair in overlapping(group)]
