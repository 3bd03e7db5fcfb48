"""Small value types shared by every configuration model."""

from __future__ import annotations

import re
from typing import NewType

from phoenix_core.layout import NAME_PATTERN
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


#: What the engine schedules: a guest id, a target a manager names (``web``), or a host
#: target (``host``, ``host:NODE``). Which it is, the target's layout says, not its type.
TargetId = Id | str


def parse_name(value: object, pattern: str = NAME_PATTERN) -> str:
    """A target name as a manager of named targets writes it (``web``), matching the layout's
    ``pattern``; ValueError with the problem for anything else. Whatever the pattern, a name
    is never all digits (it would read as a guest id), never ``host`` nor holds ``:`` (it
    would read as a host target)."""
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise ValueError(f"expected a target name matching {pattern}, got {value!r}")
    if value == HOST or ":" in value or value.isdigit():
        raise ValueError(f"{value!r} cannot name a target: it reads as a guest id or host target")
    return value


def parse_ref(value: object) -> TargetId:
    """A reference to another target (a dependency): a guest id, or a target name."""
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        return parse_id(value)
    return parse_name(value)


def host_target(node: str | None, part: str | None = None) -> str:
    """The host target of a node: ``host`` for the default node, else ``host:NODE``; with a
    ``part``, that part's target (``host:zfs``, ``host:NODE:zfs``)."""
    names = [HOST, *([node] if node is not None else []), *([part] if part is not None else [])]
    return ":".join(names)


def is_host_target(value: object) -> bool:
    """Is ``value`` spelled as a host target (``host``, ``host:...``)? No target name is."""
    return isinstance(value, str) and (value == HOST or value.startswith(f"{HOST}:"))


def parse_target(value: object) -> TargetId:
    """A guest id, a host target (``host``, ``host:NAME``, ``host:NODE:PART``) or a target
    name, as typed on a command line; ValueError for anything else. Whether ``NAME`` is a node
    or a part, and whether a name is defined, the configuration says."""
    if is_host_target(value):
        assert isinstance(value, str)
        if value.count(":") > 2 or "" in value.split(":"):
            raise ValueError(value)
        return value
    return parse_ref(value)
