"""Logging with loguru: concise lines on the terminal, everything in files, secrets masked.

Files go to ``phoenix_cli.log`` (every record) and ``<manager>-manager.log`` (records bound
with ``manager=<name>``), under ``/var/log/phoenix_hypervisor/`` when it is writable, else
under the user's state directory; ``--log-dir`` overrides both. Every line carries the
run id, so the lines of one run can be found in a shared file. Files are private (0600 in a
0750 directory) and rotated; only verbs that act on a node write them.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shlex
import socket
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loguru import logger

from phoenix_core.terminal import Terminal

SYSTEM_LOG_DIR = Path("/var/log/phoenix_hypervisor")
DIR_MODE = 0o750
FILE_MODE = 0o600
#: A file is rotated when it reaches this size; this many rotated files are kept.
ROTATION = "10 MB"
RETENTION = 10
MASK = "********"
_SECRET_WORDS = ("password", "passwd", "token", "secret", "api_key", "apikey", "private_key")
_secrets: set[str] = set()
#: Secrets at least this long are masked wherever they occur; shorter ones only as a whole word.
SHORT_SECRET = 4
#: The password part of ``scheme://user:password@host``.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<password>[^/\s@]*)@")

TERMINAL_FORMAT = "<level>{level: <7}</level> {extra[prefix]}{message}"
#: The target a line is about (``101 ``) comes before the message, so every change names it.
FILE_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} {extra[run_id]} {level: <7} {extra[manager]} "
    "{extra[prefix]}{message}"
)

logger.remove()
logger.configure(extra={"run_id": "-", "manager": "core", "prefix": ""})


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Cached: a configuration of 10,000 guests repeats a few dozen keys 100,000 times."""
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith("_file")


def register_secrets(data: Any) -> None:
    """Remember the secrets in ``data``: the values of secret-looking keys (``password``,
    ``token`` ...; strings and integers, however short) and the password of every URL with
    credentials (``https://user:pass@host``), whatever its key.

    Every log record is scrubbed of these values, wherever they appear (an argv, an error
    text echoed by a tool), so a secret cannot leak through a path nobody thought about.
    """
    # Only containers go on the stack: a configuration of 10,000 guests holds about 200,000
    # values, and pushing each scalar to pop it again was a tenth of loading it.
    stack: list[Any] = [[data]]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else ((None, value) for value in item)
        for key, value in pairs:
            if isinstance(value, dict | list):
                stack.append(value)
            elif isinstance(value, str):
                if key is not None and value and is_secret_key(str(key)):
                    _secrets.add(value)
                elif "://" in value:  # no URL, no credentials in one
                    _secrets.update(
                        m["password"] for m in _URL_PASSWORD.finditer(value) if m["password"]
                    )
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and key is not None
                and is_secret_key(str(key))
            ):
                _secrets.add(str(value))


def scrub(text: str) -> str:
    """Mask registered secrets and any URL's password. A secret shorter than
    :data:`SHORT_SECRET` is masked only where it stands alone (not inside a word or number):
    replacing every ``42`` would garble the lines it is meant to protect."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@" if m["password"] else m[0], text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret not in text:
            continue
        if len(secret) >= SHORT_SECRET:
            text = text.replace(secret, MASK)
        else:
            text = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", MASK, text)
    return text


def _patch(record: Any) -> None:
    record["message"] = scrub(record["message"])


def default_log_dir() -> Path:
    """``/var/log/phoenix_hypervisor`` if it can be written, else the user's state directory."""
    try:
        SYSTEM_LOG_DIR.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if os.access(SYSTEM_LOG_DIR, os.W_OK):
            return SYSTEM_LOG_DIR
    except OSError:
        pass
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "phoenix" / "log"


def setup(*, verbosity: int = 0, terminal: Terminal | None = None) -> str:
    """Install the terminal sink for one run and return its run id.

    ``verbosity``: -1 warnings only, 0 progress, 1 and more debug. Files come later, from
    :func:`add_files`, only for verbs that act: ``--help`` or ``config schema`` write none.
    Terminal lines go through ``terminal`` (default: stderr), whose lock they share with
    the progress display.
    """
    terminal = terminal or Terminal.for_stream(sys.stderr)
    run_id = uuid.uuid4().hex[:8]
    logger.remove()
    logger.configure(extra={"run_id": run_id, "manager": "core", "prefix": ""}, patcher=_patch)
    level = "WARNING" if verbosity < 0 else "DEBUG" if verbosity > 0 else "INFO"
    logger.add(
        terminal.write,
        level=level,
        format=TERMINAL_FORMAT,
        colorize=terminal.color,
        filter=_TerminalFilter(verbosity),
    )
    return run_id


def config_warning(message: str) -> None:
    """A warning about the configuration: on the terminal unless ``-q``, always in the files."""
    logger.bind(config=True).warning(message)


class _TerminalFilter:
    """What reaches the terminal at a verbosity: ``-q`` (-1) warnings and errors without the
    configuration's warnings; 0 progress; ``-v`` (1) debug messages too; ``-vv`` (2) also
    every command run (records bound with ``command=True``). A warning is shown once per
    run, however many times it is logged; the files keep every record, and alone hold the
    run's first and last lines (``file_only``)."""

    def __init__(self, verbosity: int) -> None:
        self.verbosity = verbosity
        self.shown: set[str] = set()

    def __call__(self, record: Any) -> bool:
        extra = record["extra"]
        if extra.get("file_only") or (extra.get("command") and self.verbosity < 2):
            return False
        if record["level"].name != "WARNING":
            return True
        if extra.get("config") and self.verbosity < 0:
            return False
        key = extra.get("prefix", "") + record["message"]
        if key in self.shown:
            return False
        self.shown.add(key)
        return True


#: What the files' last line of a run reports (set by the verb that printed a summary).
_run: dict[str, Any] = {"files": False, "counts": None}


def run_started(command: Sequence[str], node: str | None) -> None:
    """The run's first line in the files: command line, user, machine, node, run id (the
    run id is on every line; this one says what the run was and who started it)."""
    _run["files"] = True
    logger.bind(file_only=True).info(
        "run started: {} (user {}, on {}, node {})",
        shlex.join(command),
        _user(),
        socket.gethostname(),
        node or "this machine",
    )


def record_counts(counts: Mapping[str, int]) -> None:
    """What the run's last line reports: how many targets (or checks) ended how."""
    _run["counts"] = dict(counts)


def run_finished(exit_code: int) -> None:
    """The run's last line in the files: its exit code and counts (nothing when the run
    wrote no files: ``--help``, ``plugins``, ``config``)."""
    if not _run["files"]:
        return
    counts = _run["counts"]
    tally = ", ".join(f"{n} {status}" for status, n in counts.items()) if counts else "-"
    logger.bind(file_only=True).info("run finished: exit {}; {}", exit_code, tally)
    _run.update(files=False, counts=None)


def _user() -> str:
    """Who ran phoenix: the login name, and the one sudo was run by when it was."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = str(os.getuid())
    by = os.environ.get("SUDO_USER")
    return f"{name} (sudo by {by})" if by and by != name else name


def add_files(log_dir: Path | None, managers: list[str]) -> Path | None:
    """Add the file sinks; return the directory in use (None: file logs disabled).

    Files are 0600 in a 0750 directory (they hold every command run and its output) and
    rotate at :data:`ROTATION`, keeping :data:`RETENTION` old files. A directory phoenix picked
    itself is tightened to 0750; one given with ``--log-dir`` is only created so, never
    chmodded (it may be shared). A log directory that cannot be used only costs the file logs
    (with a warning), never the run.
    """
    directory = log_dir or default_log_dir()
    try:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if log_dir is None and directory.stat().st_uid == os.getuid():
            directory.chmod(DIR_MODE)
        _add_file(directory / "phoenix_cli.log")
        for name in managers:
            _add_file(
                directory / f"{name}-manager.log",
                filter=lambda record, name=name: record["extra"]["manager"] == name,
            )
    except OSError as exc:
        logger.warning("file logs disabled: cannot write to {}: {}", directory, exc.strerror)
        return None
    return directory


def _add_file(path: Path, **options: Any) -> None:
    logger.add(
        path,
        level="DEBUG",
        format=FILE_FORMAT,
        encoding="utf-8",
        rotation=ROTATION,
        retention=RETENTION,
        opener=_private,
        **options,
    )


def _private(path: str, flags: int) -> int:
    """Open a log file 0600, tightening one an older phoenix created 0644 (when it is ours)."""
    fd = os.open(path, flags, FILE_MODE)
    if os.fstat(fd).st_uid == os.getuid():
        os.fchmod(fd, FILE_MODE)
    return fd


__all__ = [
    "add_files",
    "config_warning",
    "logger",
    "record_counts",
    "register_secrets",
    "run_finished",
    "run_started",
    "scrub",
    "setup",
]
