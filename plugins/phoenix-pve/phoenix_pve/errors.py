"""Failed Proxmox commands: classified by their stderr, reported in plain words, and a lock
retried a bounded number of times.

Proxmox's tools exit 255 for nearly every failure, so the kind of failure is read from the
message (``reference/pve-cli.md`` §2.1).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from enum import Enum

from phoenix_core.errors import CommandFailed
from phoenix_core.hosts.base import CommandResult, Host
from phoenix_core.logs import logger


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
    input: str | None = None,
    backoff: Sequence[float] = LOCK_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> CommandResult:
    """Run a mutating command, retrying a bounded number of times while it fails on a lock.

    Locks are transient (a backup, a clone of the same template, another phoenix run), so a
    short wait usually succeeds; any other error is raised at once, classified.
    """
    for delay in (*backoff, None):
        result = host.change(argv, timeout=timeout, input=input)
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
