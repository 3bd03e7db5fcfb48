"""Failed Proxmox commands: classified by their stderr, reported in plain words, and a lock
retried a bounded number of times.

Proxmox's tools exit 255 for nearly every failure, so the kind of failure is read from the
message (``reference/pve-cli.md`` §2.1).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from enum import Enum

from phoenix_core import interrupt
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


#: How long a locked command is retried when the run does not say (``--lock-timeout``): a
#: full clone or a backup holds a guest's lock for minutes on a real node.
DEFAULT_LOCK_TIMEOUT = 600.0
#: The first wait between retries, doubled after each, never above the cap.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0

#: What holds a guest lock of each name (the ``lock:`` value Proxmox writes is the operation).
LOCK_HOLDERS = {
    "backup": "a backup (vzdump)",
    "clone": "a clone from or to it",
    "copy": "a disk copy",
    "create": "its creation",
    "disk": "a clone copying from it, or a disk move or resize",
    "fstrim": "an fstrim",
    "migrate": "a migration",
    "mounted": "`pct mount` (unmount it with `pct unmount`)",
    "rollback": "a snapshot rollback",
    "snapshot": "a snapshot being taken",
    "snapshot-delete": "a snapshot being deleted",
    "suspended": "a suspend to disk",
    "suspending": "a suspend to disk",
}
_GUEST_LOCK = re.compile(r"(?P<guest>(?:CT|VM)(?: \d+)?) is locked \((?P<lock>[\w-]+)\)")
_FILE_LOCK = re.compile(r"can't lock file '(?P<file>[^']+)'")


def lock_holder(message: str) -> str:
    """The lock a failure names and what holds it, in words, from the tool's message."""
    if match := _GUEST_LOCK.search(message):
        lock = match["lock"]
        holder = LOCK_HOLDERS.get(lock, f"a {lock} operation")
        return f"the {match['guest']} is locked ({lock}), held by {holder}"
    if match := _FILE_LOCK.search(message):
        return f"the lock file {match['file']} is held by another command on the node"
    return "a lock is held by another operation on the node"


def backoff(attempt: int, random: Callable[[], float] = random.random) -> float:
    """The wait before retry ``attempt`` (0-based): doubling from :data:`FIRST_BACKOFF`, capped
    at :data:`MAX_BACKOFF`, with jitter, so runs waiting for one lock do not retry in step."""
    ceiling = min(MAX_BACKOFF, FIRST_BACKOFF * 2**attempt)
    return ceiling * (0.5 + random() / 2)


class LockTimeout(ProxmoxError):
    """A command stayed locked for the whole retry budget."""

    def __init__(self, result: CommandResult, waited: float) -> None:
        super().__init__(result, ErrorKind.LOCKED)
        self.args = (
            f"{lock_holder(result.stderr or result.stdout)}; still locked after {waited:.0f} s "
            f"of retries (raise --lock-timeout to wait longer): `{result.command}` exited "
            f"{result.returncode}: {error_detail(result)}",
        )


def change_retrying(
    host: Host,
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    input: str | None = None,
    lock_timeout: float | None = None,
    sleep: Callable[[float], None] = interrupt.pause,
    clock: Callable[[], float] = time.monotonic,
) -> CommandResult:
    """Run a mutating command, retrying while it fails on a lock, for up to ``lock_timeout``
    seconds (None: :data:`DEFAULT_LOCK_TIMEOUT`).

    Locks are transient (a backup, a clone of the same template, another tool's run), so
    waiting usually succeeds; any other error is raised at once, classified, and a lock
    still held at the end is raised as :class:`LockTimeout` naming the lock and its holder.
    """
    budget = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    started = clock()
    attempt = 0
    while True:
        result = host.change(argv, timeout=timeout, input=input)
        if result.ok:
            return result
        kind = classify(result.stderr or result.stdout)
        if kind is not ErrorKind.LOCKED:
            raise ProxmoxError(result, kind)
        left = budget - (clock() - started)
        if left <= 0:
            raise LockTimeout(result, clock() - started)
        delay = min(left, backoff(attempt))
        attempt += 1
        logger.warning(
            "{}: {}; retrying in {:.1f} s ({:.0f} s left of the lock timeout)",
            result.command,
            lock_holder(result.stderr or result.stdout),
            delay,
            left,
        )
        sleep(delay)
