"""Parsers of the Proxmox tools' text outputs and of their property strings.

``pct``/``qm config``, ``status``, ``listsnapshot``, ``pvesm status`` and ``key=value,...``
property strings are parsed here, once, and property values are normalised so that equal
settings spelled differently compare equal (``reference/pve-cli.md`` §2.5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import attrs

# -- guest config --------------------------------------------------------------------------


@attrs.frozen
class GuestConfigText:
    """``pct config`` / ``qm config`` output: options by key, raw ``lxc.*`` lines in file order."""

    options: dict[str, str]
    raw: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)


def parse_config(text: str) -> GuestConfigText:
    """Parse ``key: value`` lines; ``lxc.*`` keys may repeat, so they are kept as an ordered list.

    Lines are split on the first ``": "`` (values may contain colons, e.g. volids). Comment
    lines (the description in a conf file) and snapshot sections (``[name]``) end or skip.
    """
    options: dict[str, str] = {}
    raw: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("["):
            break
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        # qemu-server parse_vm_config reads `key:\s*(.+?)\s*$`: a value of blanks keeps one.
        key, value = key.strip(), value.strip() or value[-1:]
        if key.startswith("lxc."):
            raw.append((key, value))
        else:
            options[key] = value
    return GuestConfigText(options, tuple(raw))


def parse_status(text: str) -> str | None:
    """``status: running`` -> ``running`` (None when the line is absent)."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "status":
            return value.strip() or None
    return None


# -- snapshots -----------------------------------------------------------------------------


@attrs.frozen
class Snapshot:
    """One entry of ``listsnapshot`` (``current`` excluded); ``depth`` is its tree level."""

    name: str
    depth: int
    taken: str | None = None
    description: str = ""


_SNAP = re.compile(r"^(?P<indent> *)`-> (?P<name>\S+)\s*(?P<rest>.*)$")
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s*(.*)$")


def parse_snapshots(text: str) -> list[Snapshot]:
    """Parse the ``listsnapshot`` tree; the ``current`` pseudo-entry is dropped."""
    found = []
    for line in text.splitlines():
        match = _SNAP.match(line)
        if not match or match["name"] == "current":
            continue
        rest = match["rest"].strip()
        stamp = _STAMP.match(rest)
        taken, description = (stamp[1], stamp[2]) if stamp else (None, rest)
        found.append(Snapshot(match["name"], len(match["indent"]), taken, description.strip()))
    return found


# -- storage -------------------------------------------------------------------------------


@attrs.frozen
class StorageRow:
    """One row of ``pvesm status`` (sizes in KiB; None where Proxmox prints N/A)."""

    name: str
    type: str
    status: str
    total: int | None
    used: int | None
    available: int | None

    @property
    def active(self) -> bool:
        return self.status == "active"


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def parse_pvesm_status(text: str) -> dict[str, StorageRow]:
    """Rows of ``pvesm status`` by storage id. The header (whose wording changed in 2025) is skipped."""
    rows: dict[str, StorageRow] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 3:
            continue
        sizes = [*fields[3:6], "", "", ""][:3]
        rows[fields[0]] = StorageRow(fields[0], fields[1], fields[2], *map(_int_or_none, sizes))
    return rows


# -- property strings ----------------------------------------------------------------------

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}
#: pve-common src/PVE/JSONSchema.pm parse_size: a number, then K, M, G or T (or KiB ... TiB).
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)(?:([KMGT])(?:iB)?)?$")
_UNITS = {None: 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_props(text: str, default_key: str | None = None) -> dict[str, str]:
    """``name=eth0,bridge=vmbr0`` -> dict. A leading bare value goes to ``default_key``.

    ``local-lvm:vm-100-disk-0,size=8G`` with ``default_key="volume"`` gives
    ``{"volume": "local-lvm:vm-100-disk-0", "size": "8G"}``.
    """
    props: dict[str, str] = {}
    if not text:
        return props
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            if default_key is None:
                props[part] = ""
            else:
                props[default_key] = part
            continue
        props[key.strip()] = value.strip()
    return props


def format_props(props: dict[str, str], first: Sequence[str] = ()) -> str:
    """The inverse of :func:`parse_props`: ``first`` keys in that order, then the rest sorted."""
    keys = [k for k in first if k in props] + sorted(k for k in props if k not in first)
    return ",".join(f"{k}={props[k]}" if k != "volume" else props[k] for k in keys)


def size_bytes(text: str) -> int | None:
    """A ``size=`` value -> bytes; None if not a size.

    As pve-common src/PVE/JSONSchema.pm parse_size reads it: ``16G``, ``512M``, ``1TiB``, and
    a bare number is **bytes** (format_size writes a size that is no KiB multiple that way)."""
    match = _SIZE.match(text.strip())
    if not match:
        return None
    return int(float(match[1]) * _UNITS[match[2]])


def normalize_value(value: str) -> str:
    """One canonical spelling: booleans as ``1``/``0``, sizes in bytes, MACs upper case."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return "1"
    if lowered in _FALSE:
        return "0"
    if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", lowered):
        return lowered.upper()
    if re.fullmatch(r"\d+(\.\d+)?[KMGT](iB)?", value.strip()):
        return str(size_bytes(value))
    return value.strip()


def normalize_props(text: str, default_key: str | None = None) -> dict[str, str]:
    """Parse a property string and normalise every value, so key order and spelling do not matter."""
    return {k: normalize_value(v) for k, v in parse_props(text, default_key).items()}
