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
