"""Command shapes: what kind of command a journal line is, and whether a table row covers it.

A shape is the tool, its command (the verb words of pct/qm/pvesm/pveum/pveam, the verb and the
API path template of pvesh, the subcommand of host tools such as `zfs create` or `getent
passwd`) and the option names it was given, numbered options folded (`--mp0` is `--mpN`).
docs/pve-sim.md's conformance table has one row per tool and command, listing the options
that were checked against the source it cites; a shape whose command has no row, or that
uses an option its row does not list, is unlisted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakepve import schema

#: Tools whose first word is a command (a verb table in dispatch.py, or getopt host tools).
VERB_TOOLS = ("pct", "qm", "pvesm", "pveum", "pveam", "pvesh")
SUBCOMMAND_TOOLS = ("zpool", "zfs", "systemctl", "apt-get", "getent", "timedatectl", "pve-firewall")
#: The NVIDIA runfile is named after its version.
RUNFILE = re.compile(r"^NVIDIA-Linux-[^/]*\.run$")
NUMBERED = re.compile(r"^(--?[a-z]+?)\d+$")
HEADER = "| tool | command | options | source |"
#: The table is in the phoenix repository's docs; this package is that repository's test tool.
DOC = Path(__file__).resolve().parents[3] / "docs" / "pve-sim.md"
WHERE = "docs/pve-sim.md conformance table"


@dataclass(frozen=True)
class Shape:
    tool: str
    command: str
    options: frozenset[str]


@dataclass(frozen=True)
class Row:
    tool: str
    command: str
    options: frozenset[str]
    source: str


def _option(token: str) -> str:
    name = token.split("=", 1)[0]
    folded = NUMBERED.match(name)
    return f"{folded.group(1)}N" if folded else name


def shape(entry: Mapping[str, Any]) -> Shape:
    """The shape of one journal line (`argv`, and `verb` as the simulator resolved it)."""
    argv = list(entry["argv"])
    tool = "NVIDIA-Linux-x86_64-<version>.run" if RUNFILE.match(argv[0]) else argv[0]
    words = argv[1 : argv.index("--")] if "--" in argv else argv[1:]
    command = ""
    if tool in VERB_TOOLS:
        command = entry.get("verb") or ""
        count = len(command.split())
        if tool == "pvesh" and len(words) > 1:
            match = schema.load().match(words[1].strip("/"))
            command = f"{command} {match.template if match else words[1]}"
            count += 1
        words = words[count:]
    elif tool in SUBCOMMAND_TOOLS:
        command = next((w for w in words if not w.startswith("-")), "")
    options = frozenset(_option(w) for w in words if w.startswith("-") and len(w) > 1)
    return Shape(tool, command, options)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def rows(markdown: str) -> dict[tuple[str, str], Row]:
    """The conformance table (the one headed by HEADER) of a markdown text."""
    lines = markdown.splitlines()
    start = lines.index(HEADER) + 2
    table: dict[tuple[str, str], Row] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        tool, command, options, source = (c.strip("`") for c in _cells(line))
        table[(tool, command)] = Row(tool, command, frozenset(options.split()), source)
    return table


def documented() -> dict[tuple[str, str], Row]:
    """The conformance table of docs/pve-sim.md."""
    return rows(DOC.read_text())


def unlisted(
    entries: Iterable[Mapping[str, Any]], table: Mapping[tuple[str, str], Row]
) -> list[str]:
    """What to add to the table so that it lists every shape of entries, one line each."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for entry in entries:
        found = shape(entry)
        row = table.get((found.tool, found.command))
        missing = found.options - (row.options if row else frozenset())
        if row is None or missing:
            wanted.setdefault((found.tool, found.command), set()).update(missing)
    out = []
    for (tool, command), options in sorted(wanted.items()):
        listed = " ".join(sorted(options))
        if (tool, command) in table:
            out.append(
                f"{WHERE}: add `{listed}` to the options of the row | `{tool}` | `{command}` |"
            )
        else:
            out.append(
                f"{WHERE}: add the row | `{tool}` | `{command}` | `{listed}` | <repository `file` "
                "function, as read> |"
            )
    return out
