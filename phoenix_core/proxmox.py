"""Shared knowledge of the Proxmox command-line tools: their output formats and their errors.

Managers drive ``pct``, ``qm``, ``pvesm`` and ``pvesh`` by their text interfaces. Parsing those
outputs, normalising Proxmox's property strings so that equal settings compare equal, and
turning a failed command into a plain-words error live here, once, so the LXC and VM managers
agree on them (``reference/pve-cli.md`` §2). Nothing here knows about a guest kind's policy.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from enum import Enum

import attrs

from phoenix_core.errors import CommandFailed
from phoenix_core.hosts.base import CommandResult, Host

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
        key, value = key.strip(), value.strip()
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
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]?)B?$", re.IGNORECASE)
_UNITS = {"": 1 << 30, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


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
    """``16G``, ``512M``, ``8`` (GiB, as Proxmox reads a bare number) -> bytes; None if not a size."""
    match = _SIZE.match(text.strip())
    if not match:
        return None
    return int(float(match[1]) * _UNITS[match[2].upper()])


def normalize_value(value: str) -> str:
    """One canonical spelling: booleans as ``1``/``0``, sizes in bytes, MACs upper case."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return "1"
    if lowered in _FALSE:
        return "0"
    if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", lowered):
        return lowered.upper()
    if re.fullmatch(r"\d+(\.\d+)?[kmgt]b?", lowered):
        return str(size_bytes(lowered))
    return value.strip()


def normalize_props(text: str, default_key: str | None = None) -> dict[str, str]:
    """Parse a property string and normalise every value, so key order and spelling do not matter."""
    return {k: normalize_value(v) for k, v in parse_props(text, default_key).items()}


# -- errors --------------------------------------------------------------------------------


class ErrorKind(Enum):
    """What went wrong, as far as Proxmox's stderr tells."""

    NOT_FOUND = "not found"
    EXISTS = "already exists"
    LOCKED = "locked"
    TIMEOUT = "timed out"
    PERMISSION = "permission denied"
    VALIDATION = "invalid parameters"
    STATE = "wrong power state"
    OTHER = "failed"


_PATTERNS: list[tuple[ErrorKind, re.Pattern[str]]] = [
    (
        ErrorKind.LOCKED,
        re.compile(
            r"is locked \(\w+\)|can't lock file .* got timeout|cfs-lock .* got lock request timeout|trying to acquire lock.*timeout"
        ),
    ),
    (
        ErrorKind.PERMISSION,
        re.compile(
            r"only allowed for root@pam|^403 |permission denied|Permission check failed",
            re.I | re.M,
        ),
    ),
    (
        ErrorKind.VALIDATION,
        re.compile(
            r"^400 Parameter verification failed|^[\w.-]+: (invalid|value|property|unable to parse|no such)",
            re.M,
        ),
    ),
    (
        ErrorKind.NOT_FOUND,
        re.compile(r"does not exist|no such (storage|file|volume|snapshot)|not found", re.I),
    ),
    (ErrorKind.EXISTS, re.compile(r"already exists|already used")),
    (
        ErrorKind.STATE,
        re.compile(
            r"already running|not running|is running|you can't start a CT if it's a template"
        ),
    ),
    (ErrorKind.TIMEOUT, re.compile(r"got timeout|timeout reached|timed out", re.I)),
]

_PLAIN = {
    ErrorKind.NOT_FOUND: "something it refers to does not exist",
    ErrorKind.EXISTS: "it already exists",
    ErrorKind.LOCKED: "the guest or storage is locked by another operation",
    ErrorKind.TIMEOUT: "Proxmox gave up waiting",
    ErrorKind.PERMISSION: "the user running phoenix is not allowed to do this (root@pam needed)",
    ErrorKind.VALIDATION: "Proxmox rejected a parameter",
    ErrorKind.STATE: "the guest is not in the power state this needs",
    ErrorKind.OTHER: "the command failed",
}


def classify(stderr: str) -> ErrorKind:
    """Classify a failed Proxmox command by its stderr text (the exit code is nearly always 255)."""
    for kind, pattern in _PATTERNS:
        if pattern.search(stderr):
            return kind
    return ErrorKind.OTHER


def error_detail(result: CommandResult) -> str:
    """The most telling line of a failure: the first ``key: reason`` of a 400, else the last line."""
    lines = [ln.strip() for ln in (result.stderr or result.stdout).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("usage:", "trying to acquire lock"))]
    if lines and lines[0].startswith("400 Parameter verification failed") and len(lines) > 1:
        return lines[1]
    return lines[-1] if lines else "no output"


class ProxmoxError(CommandFailed):
    """A Proxmox command failed; ``kind`` says how, the message says it in plain words."""

    def __init__(self, result: CommandResult, kind: ErrorKind) -> None:
        self.kind = kind
        super().__init__(
            result,
            f"{_PLAIN[kind]}: `{result.command}` exited {result.returncode}: {error_detail(result)}",
        )


def check(result: CommandResult) -> CommandResult:
    """Return ``result`` when it succeeded, else raise a classified :class:`ProxmoxError`."""
    if result.ok:
        return result
    raise ProxmoxError(result, classify(result.stderr or result.stdout))


#: Backoff between retries of a locked command, in seconds (bounded: 4 retries, ~15 s).
LOCK_BACKOFF = (1.0, 2.0, 4.0, 8.0)


def change_retrying(
    host: Host,
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    backoff: Sequence[float] = LOCK_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> CommandResult:
    """Run a mutating command, retrying a bounded number of times while it fails on a lock.

    Locks are transient (a backup, a clone of the same template, another phoenix run), so a
    short wait usually succeeds; any other error is raised at once, classified.
    """
    from phoenix_core.logs import logger

    for delay in (*backoff, None):
        result = host.change(argv, timeout=timeout)
        if result.ok:
            return result
        kind = classify(result.stderr or result.stdout)
        if kind is not ErrorKind.LOCKED or delay is None:
            raise ProxmoxError(result, kind)
        logger.warning(
            "{}: locked ({}); retrying in {:g} s", result.command, error_detail(result), delay
        )
        sleep(delay)
    raise AssertionError("unreachable")
