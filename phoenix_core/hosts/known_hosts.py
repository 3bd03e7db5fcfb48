"""OpenSSH ``known_hosts`` files: look a server's key up, keep line numbers, append new keys.

Pure Python (no paramiko) so it is cheap to test and keeps paramiko out of ``phoenix --help``.
We parse the files ourselves instead of using ``paramiko.HostKeys`` because a changed key
must be reported with the file and line of the old entry (``HostKeys`` drops both), and
because ``@revoked`` lines must refuse a key rather than be skipped.

Supported: plain and comma-separated host patterns, ``[host]:port``, ``*``/``?`` wildcards and
``!`` negation, hashed entries (``|1|salt|hmac``), ``@revoked``. ``@cert-authority`` lines are
ignored (host certificates are not supported), as OpenSSH itself does for plain host keys.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence

import attrs

#: Host key algorithms a known key of this type can be negotiated with (RSA signs with SHA-2).
ALGORITHMS_FOR_TYPE: dict[str, tuple[str, ...]] = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}


def host_pattern(host: str, port: int) -> str:
    """The name OpenSSH files a host under: ``host`` on port 22, else ``[host]:port``."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(blob: bytes) -> str:
    """``SHA256:...`` exactly as ``ssh-keygen -l`` and ``ssh`` print a key's fingerprint."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def hash_hostname(name: str, salt: bytes | None = None) -> str:
    """A ``|1|salt|hmac`` entry as written by ``HashKnownHosts yes``."""
    salt = os.urandom(20) if salt is None else salt
    mac = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()}"


def _pattern_matches(pattern: str, name: str) -> bool:
    if pattern.startswith("|1|"):
        try:
            _, _, salt, _ = pattern.split("|")
            return hmac.compare_digest(hash_hostname(name, base64.b64decode(salt)), pattern)
        except (ValueError, binascii.Error):
            return False
    return _wildcard(pattern).fullmatch(name.lower()) is not None


def _wildcard(pattern: str) -> re.Pattern[str]:
    """OpenSSH patterns know only ``*`` and ``?``; ``[`` of ``[host]:port`` is literal."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.compile("".join(parts), re.DOTALL)


def hosts_match(field: str, name: str) -> bool:
    """Whether a known_hosts host field (``a,b,!c``) names ``name``; a negation vetoes."""
    matched = False
    for pattern in field.split(","):
        if pattern.startswith("!"):
            if _pattern_matches(pattern[1:], name):
                return False
        elif _pattern_matches(pattern, name):
            matched = True
    return matched


@attrs.frozen
class Entry:
    """One key line of a known_hosts file, with where it came from."""

    path: str
    line: int
    hosts: str
    key_type: str
    blob: bytes
    marker: str | None = None


class Verdict(enum.Enum):
    KNOWN = "known"
    UNKNOWN = "unknown"
    CHANGED = "changed"
    REVOKED = "revoked"


@attrs.frozen
class Lookup:
    """The verdict on a server key, and the entry that decided it (for CHANGED/REVOKED)."""

    verdict: Verdict
    entry: Entry | None = None


def parse(path: str) -> list[Entry]:
    """Every key entry of one file (none if it is missing); malformed lines are skipped."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for number, raw in enumerate(lines, start=1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = None
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except binascii.Error:
            continue
        entries.append(Entry(path, number, fields[0], fields[1], blob, marker))
    return entries


class KnownHosts:
    """The user's known_hosts files (the first one is where new keys are recorded).

    ``paths`` are read in order, like OpenSSH's ``UserKnownHostsFile`` followed by
    ``GlobalKnownHostsFile``; a key present in any of them is trusted.
    """

    def __init__(self, paths: Sequence[str], *, hash_new: bool = False) -> None:
        if not paths:
            raise ValueError("at least one known_hosts path is needed")
        self.paths = [os.path.expanduser(p) for p in paths]
        self.hash_new = hash_new

    def entries_for(self, name: str) -> list[Entry]:
        return [e for path in self.paths for e in parse(path) if hosts_match(e.hosts, name)]

    def known_types(self, name: str) -> list[str]:
        """Key types already trusted for ``name``, so the client can ask the server for those."""
        types: list[str] = []
        for entry in self.entries_for(name):
            if entry.marker is None and entry.key_type not in types:
                types.append(entry.key_type)
        return types

    def check(self, name: str, key_type: str, blob: bytes) -> Lookup:
        """Judge the key a server presented for ``name`` (``host`` or ``[host]:port``).

        A revoked key loses whatever else says; a match wins; a different key of the same
        type means the key changed. A key of a type we hold nothing for is new, as in ssh.
        """
        entries = self.entries_for(name)
        for entry in entries:
            if entry.marker == "@revoked" and entry.blob == blob:
                return Lookup(Verdict.REVOKED, entry)
        plain = [e for e in entries if e.marker is None]
        if any(e.key_type == key_type and e.blob == blob for e in plain):
            return Lookup(Verdict.KNOWN)
        for entry in plain:
            if entry.key_type == key_type:
                return Lookup(Verdict.CHANGED, entry)
        return Lookup(Verdict.UNKNOWN)

    def add(self, name: str, key_type: str, blob: bytes) -> str:
        """Append the key to the first file (creating ``~/.ssh`` 0700); return its path."""
        path = self.paths[0]
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, mode=0o700, exist_ok=True)
        hosts = hash_hostname(name) if self.hash_new else name
        line = f"{hosts} {key_type} {base64.b64encode(blob).decode()}\n"
        with open(path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = "\n" + line
            fh.write(line.encode())
        return path


def preferred_algorithms(known: Iterable[str], available: Sequence[str]) -> list[str]:
    """``available`` host key algorithms reordered so the types we already trust come first.

    OpenSSH does the same: without it a server with an ed25519 and an ECDSA key could present
    the one we have never seen and look like a new (or changed) host.
    """
    first: list[str] = []
    for key_type in known:
        for algorithm in ALGORITHMS_FOR_TYPE.get(key_type, (key_type,)):
            if algorithm in available and algorithm not in first:
                first.append(algorithm)
    return first + [a for a in available if a not in first]
