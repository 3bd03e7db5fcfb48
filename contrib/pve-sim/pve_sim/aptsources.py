"""The apt sources of the simulated node and what `apt-get update` makes of them.

apt reads /etc/apt/sources.list and, in /etc/apt/sources.list.d, files ending `.list` (one-line
format) or `.sources` (deb822); other names are skipped (apt's Dir::Ignore-Files-Silently
covers `.disabled`, `.bak`, `.save`...). A deb822 stanza with `Enabled: no` (or false) is
skipped, a commented line is no entry. What a node answers for each entry is modelled on two
rules phoenix relies on:

- `enterprise.proxmox.com` answers 401 Unauthorized without a subscription, so the entry fails
  and `apt-get update` exits 100 (field: every report of a fresh install without a
  subscription, e.g. the computingforgeeks PVE 9 guide; the text is apt's acquire error);
- a `download.proxmox.com` entry verifies with the key its `Signed-By` names, or without one
  with the keys in /etc/apt/trusted.gpg.d: a missing key file is a NO_PUBKEY failure
  (profile.Profile.keyring says where each release keeps the Proxmox release key).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ENTERPRISE_HOST = "enterprise.proxmox.com"
PROXMOX_HOST = "download.proxmox.com"
FALSE = {"no", "false", "0", "off"}


@dataclass(frozen=True)
class Entry:
    uri: str
    suite: str
    components: tuple[str, ...]
    signed_by: str | None


def _one_line(text: str) -> Iterator[Entry]:
    """`deb [opts] URI SUITE COMPONENT...` lines (sources.list(5) one-line style)."""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 3 or words[0] != "deb":
            continue
        options: dict[str, str] = {}
        if words[1].startswith("["):
            end = next((i for i, w in enumerate(words) if w.endswith("]")), len(words))
            pairs = " ".join(words[1 : end + 1]).strip("[]").split()
            options = dict(p.split("=", 1) for p in pairs if "=" in p)
            words = [words[0], *words[end + 1 :]]
            if len(words) < 3:
                continue
        signed = options.get("signed-by")
        yield Entry(words[1], words[2], tuple(words[3:]), signed)


def _deb822(text: str) -> Iterator[Entry]:
    """Stanzas separated by blank lines; `Enabled: no` skips one (sources.list(5) deb822)."""
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() in FALSE:
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                components = tuple(fields.get("components", "").split())
                yield Entry(uri, suite, components, fields.get("signed-by"))


def entries(root: Path) -> list[Entry]:
    """Every enabled entry apt reads on the node whose `/` is root."""
    found = []
    main = root / "etc" / "apt" / "sources.list"
    if main.is_file():
        found += list(_one_line(main.read_text()))
    directory = root / "etc" / "apt" / "sources.list.d"
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        if path.name.endswith(".list"):
            found += list(_one_line(path.read_text()))
        elif path.name.endswith(".sources"):
            found += list(_deb822(path.read_text()))
    return found


def _host(uri: str) -> str:
    return uri.split("://", 1)[-1].split("/", 1)[0]


def failure(root: Path, entry: Entry) -> str | None:
    """Why `apt-get update` fails for this entry on the node, or None."""
    release = f"{entry.uri.rstrip('/')} {entry.suite} InRelease"
    if _host(entry.uri) == ENTERPRISE_HOST:
        return f"{release}\n  401  Unauthorized"
    if _host(entry.uri) != PROXMOX_HOST:
        return None
    keyring = root / "etc" / "apt" / "trusted.gpg.d" / f"proxmox-release-{entry.suite}.gpg"
    if entry.signed_by is not None:
        keyring = root / entry.signed_by.lstrip("/")
    if keyring.exists():
        return None
    return (
        f"{release}\n  The following signatures couldn't be verified because the public key "
        "is not available: NO_PUBKEY"
    )
