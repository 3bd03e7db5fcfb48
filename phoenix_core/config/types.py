"""Small value types shared by every configuration model."""

from __future__ import annotations

from typing import NewType

from phoenix_core.names import HOST

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


#: What the engine schedules: a guest id, or a host target (``host``, ``host:NODE``).
TargetId = Id | str


def host_target(node: str | None, part: str | None = None) -> str:
    """The host target of a node: ``host`` for the default node, else ``host:NODE``; with a
    ``part``, that part's target (``host:zfs``, ``host:NODE:zfs``)."""
    names = [HOST, *([node] if node is not None else []), *([part] if part is not None else [])]
    return ":".join(names)


def parse_target(value: object) -> TargetId:
    """A guest id, or a host target (``host``, ``host:NAME``, ``host:NODE:PART``) as is;
    ValueError for anything else. Whether ``NAME`` is a node or a part, the configuration
    says."""
    if isinstance(value, str) and (value == HOST or value.startswith(f"{HOST}:")):
        if value.count(":") > 2 or "" in value.split(":"):
            raise ValueError(value)
        return value
    return parse_id(value)
