"""Proxmox VE's own test configurations through phoenix-pve's parsers.

The files (a sample of qemu-server's and pve-container's test corpora, AGPL test data kept
with the simulator, see its README) are read the way Proxmox reads them: the main section's
``key: value`` lines by the rules of qemu-server src/PVE/QemuServer.pm ``parse_vm_config``
and pve-container src/PVE/LXC/Config.pm ``parse_pct_config``; property strings survive
``parse_props``/``format_props``; and every ``size=`` reads as pve-common
src/PVE/JSONSchema.pm ``parse_size`` does, so that ``format_size`` writes it back unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phoenix_pve import parse

CORPUS = Path(__file__).resolve().parents[3] / "contrib/pve-sim/tests/data/proxmox-configs"
QEMU = sorted((CORPUS / "qemu-server").rglob("*.conf"))
LXC = sorted((CORPUS / "pve-container").rglob("*.conf"))
#: parse_vm_config / parse_pct_config: an option line of the main section.
OPTION = re.compile(r"^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$")
#: parse_pct_config: a raw lxc key, `lxc.key: value` (or `lxc.key = value`).
RAW = re.compile(r"^(lxc\.[a-z0-9_\-\.]+)(:|\s*=)\s*(.*?)\s*$")
#: Keys whose lines the parsers read apart from options (description, snapshot state, delete).
NOT_OPTIONS = {"description", "snapstate", "delete"}


def reference(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The main section as Proxmox reads it: options, and raw lxc lines in order."""
    options: dict[str, str] = {}
    raw: list[tuple[str, str]] = []
    for line in text.splitlines():
        if re.match(r"^\[[^\]]*\]\s*$", line):
            break
        if not line.strip() or line.startswith("#"):
            continue
        if found := RAW.match(line):
            raw.append((found[1], found[3]))
        elif (found := OPTION.match(line)) and found[1] not in NOT_OPTIONS:
            options[found[1]] = found[2]
    return options, raw


def format_size(size: int) -> str:
    """pve-common src/PVE/JSONSchema.pm format_size, line for line."""
    kb, rest = divmod(size, 1024)
    if rest:
        return str(size)
    for unit in ("K", "M", "G"):
        bigger, rest = divmod(kb, 1024)
        if rest:
            return f"{kb}{unit}"
        kb = bigger
    return f"{kb}T"


def _name(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def test_the_corpus_is_there() -> None:
    assert len(QEMU) == 41 and len(LXC) == 6


@pytest.mark.parametrize("path", QEMU + LXC, ids=_name)
def test_main_section_reads_as_proxmox_reads_it(path: Path) -> None:
    text = path.read_text()
    options, raw = reference(text)
    parsed = parse.parse_config(text)
    assert {k: v for k, v in parsed.options.items() if k not in NOT_OPTIONS} == options
    assert list(parsed.raw) == raw


def _property_values(paths: list[Path]) -> list[tuple[str, str, str]]:
    """Every option value that is a property string (holds ``key=value``), any section."""
    found = []
    for path in paths:
        for line in path.read_text().splitlines():
            option = OPTION.match(line)
            if option and "=" in option[2] and option[1] not in NOT_OPTIONS | {"args"}:
                found.append((_name(path), option[1], option[2]))
    return found


PROPERTY_VALUES = _property_values(QEMU + LXC)


def test_property_strings_and_sizes_are_many() -> None:
    sizes = [v for _, _, v in PROPERTY_VALUES if "size=" in v]
    assert len(PROPERTY_VALUES) > 200 and len(sizes) > 50


@pytest.mark.parametrize(("file", "key", "value"), PROPERTY_VALUES)
def test_property_strings_round_trip(file: str, key: str, value: str) -> None:
    first = value.split(",", 1)[0]
    default = None if "=" in first else "volume"
    props = parse.parse_props(value, default)
    again = parse.format_props(props, ("volume",))
    assert parse.parse_props(again, default) == props
    assert sorted(again.split(",")) == sorted(value.split(","))
    if "size" in props:
        nbytes = parse.size_bytes(props["size"])
        assert nbytes is not None and format_size(nbytes) == props["size"]


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [(2361393665, "2361393665"), (4 << 20, "4M"), (528 << 10, "528K"), (1 << 40, "1T")],
)
def test_a_size_without_unit_is_bytes(nbytes: int, text: str) -> None:
    """format_size writes a size that is no KiB multiple as a bare number of bytes (a disk
    imported from an odd-sized image); read back, it is that many bytes."""
    assert format_size(nbytes) == text
    assert parse.size_bytes(text) == nbytes
