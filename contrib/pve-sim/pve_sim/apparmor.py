"""The AppArmor files of a fresh node and how `apparmor_parser` reads a profile file.

What the parser checks here, each read in apparmor/apparmor (v3.0.8, bookworm's, and v4.1.0,
trixie's): `#include <x>` / `include <x>` is searched under /etc/apparmor.d (a directory
includes every file in it; `include if exists` may be absent), a missing one is
"Could not open 'x'" (parser/parser_lex.l); every `@{VAR}` used must be declared, else
"Found reference to variable VAR, but is never declared" and exit 1
(parser/parser_variable.c); `@{profile_name}` is the parser's own (PROFILE_NAME_VARIABLE).

The files: lxc installs /etc/apparmor.d/lxc-containers (`#include <tunables/global>` then
`#include <lxc>`), the profiles under /etc/apparmor.d/lxc, each headed "Do not load this
file. Rather, load /etc/apparmor.d/lxc-containers", and abstractions/lxc/container-base,
which uses @{PROC} (lxc/lxc config/apparmor/lxc-containers, profiles/*,
abstractions/container-base.in); AppArmor's tunables/global includes tunables/proc, which
declares `@{PROC}=/proc/` (apparmor profiles/apparmor.d/tunables/). The texts below are
trimmed to the lines these rules need.
"""

from __future__ import annotations

import re
from pathlib import Path

from .result import CliError

DO_NOT_LOAD = (
    "# Do not load this file.  Rather, load /etc/apparmor.d/lxc-containers, which\n"
    "# will source all profiles under /etc/apparmor.d/lxc\n\n"
)


def _profile(name: str, body: str) -> str:
    return (
        f"{DO_NOT_LOAD}profile {name} flags=(attach_disconnected,mediate_deleted) {{\n"
        f"  #include <abstractions/lxc/container-base>\n{body}}}\n"
    )


FILES = {
    "etc/apparmor.d/tunables/global": "include <tunables/proc>\n",
    "etc/apparmor.d/tunables/proc": "# @{PROC} is the location where procfs is mounted.\n"
    "@{PROC}=/proc/\n",
    "etc/apparmor.d/lxc-containers": "#include <tunables/global>\n\n#include <lxc>\n",
    "etc/apparmor.d/abstractions/lxc/container-base": "  signal peer=@{profile_name},\n"
    "  deny @{PROC}/sysrq-trigger rwklx,\n  deny @{PROC}/kcore rwklx,\n",
    "etc/apparmor.d/abstractions/lxc/start-container": "  mount -> /usr/lib/*/lxc/{**,},\n",
    "etc/apparmor.d/lxc/lxc-default": _profile("lxc-container-default", "  deny mount,\n"),
    "etc/apparmor.d/lxc/lxc-default-cgns": _profile(
        "lxc-container-default-cgns", "  mount fstype=cgroup2 -> /sys/fs/cgroup/**,\n"
    ),
    "etc/apparmor.d/lxc/lxc-default-with-mounting": _profile(
        "lxc-container-default-with-mounting", "  mount fstype=ext*,\n"
    ),
    "etc/apparmor.d/lxc/lxc-default-with-nesting": _profile(
        "lxc-container-default-with-nesting",
        "  #include <abstractions/lxc/start-container>\n  mount options=(rw,bind),\n",
    ),
}
#: What the kernel lists at boot: lxc's apparmor unit loads lxc-containers
#: (lxc config/init/systemd/lxc-apparmor-load).
LOADED = tuple(
    f"{name} (enforce)"
    for name in ("lxc-container-default", "lxc-container-default-cgns",
                 "lxc-container-default-with-mounting", "lxc-container-default-with-nesting")
)  # fmt: skip
INCLUDE = re.compile(r"^\s*#?include\s+(if\s+exists\s+)?[<\"]([^>\"]+)[>\"]", re.MULTILINE)
DECLARED = re.compile(r"^\s*@\{(\w+)\}\s*\+?=", re.MULTILINE)
USED = re.compile(r"@\{(\w+)\}")
PROFILE = re.compile(r"^\s*profile\s+(\S+)", re.MULTILINE)
BUILTIN = {"profile_name"}


def _expand(base: Path, path: Path, seen: set[Path]) -> str:
    """The file's text with every include read in its place."""
    if path in seen:
        return ""
    seen.add(path)
    text = path.read_text()
    parts, last = [], 0
    for found in INCLUDE.finditer(text):
        parts.append(text[last : found.start()])
        last = found.end()
        target = base / found[2]
        if not target.exists():
            if found[1]:
                continue
            raise CliError(f"AppArmor parser error for {path}: Could not open '{found[2]}'", rc=1)
        files = sorted(p for p in target.iterdir() if p.is_file()) if target.is_dir() else [target]
        parts += [_expand(base, f, seen) for f in files]
    parts.append(text[last:])
    return "".join(parts)


def profiles(root: Path, path: Path) -> list[str]:
    """The profile names a file (re)loads, or the parser's error (CliError, exit 1)."""
    text = _expand(root / "etc" / "apparmor.d", path, set())
    for name in USED.findall(text):
        if name not in BUILTIN and name not in DECLARED.findall(text):
            raise CliError(f"Found reference to variable {name}, but is never declared", rc=1)
    names = PROFILE.findall(text)
    if not names or text.count("{") != text.count("}"):
        raise CliError(f"AppArmor parser error for {path} in profile {path}: syntax error", 1)
    return names
