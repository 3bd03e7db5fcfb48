"""Small value types shared by every configuration model."""

from __future__ import annotations

from typing import NewType

#: A Proxmox guest id. The old files spell them as JSON numbers (``"vmid": 9000``) and as
#: digit strings (``"clone_from_ctid": "900"``, ``"dependencies": ["103"]``); both load.
Id = NewType("Id", int)

MIN_ID, MAX_ID = 100, 999_999_999


def parse_id(value: object) -> Id:
    """Return the id as an int; raise ValueError for anything that is not a valid guest id."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not MIN_ID <= value <= MAX_ID:
        raise ValueError(value)
    return Id(value)
