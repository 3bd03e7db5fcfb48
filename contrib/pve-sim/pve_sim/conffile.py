"""Guest config files under DIR/etc/pve, in Proxmox's own format.

phoenix reads and rewrites `<pve_etc>/lxc/<ctid>.conf` for raw `lxc.*` lines exactly as on a
real node, so the simulator keeps a real file per guest: `key: value` lines, then the raw
`lxc.*` lines in file order, then one `[snapshot]` section per snapshot. The API state in
fakepve owns every other key; raw `lxc.*` lines (which no API can set) are owned by the file,
read back before each rewrite and printed by `pct config`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

RAW_KEY = re.compile(r"^(lxc\.[^:\s]+)\s*[:=]\s?(.*)$")
SECTION = re.compile(r"^\[([^\]]+)\]\s*$")


def guest_conf(pve_etc: Path, node: str, kind: str, vmid: int) -> Path:
    """Path of a guest's config file: nodes/<node>/lxc/<id>.conf or .../qemu-server/<id>.conf."""
    folder = "lxc" if kind == "lxc" else "qemu-server"
    return Path(pve_etc) / "nodes" / node / folder / f"{vmid}.conf"


def prepare_tree(pve_etc: Path, node: str) -> None:
    """Create nodes/<node>/{lxc,qemu-server} and the lxc, qemu-server symlinks as PVE has them."""
    for folder in ("lxc", "qemu-server"):
        target = Path(pve_etc) / "nodes" / node / folder
        target.mkdir(parents=True, exist_ok=True)
        link = Path(pve_etc) / folder
        if not link.exists() and not link.is_symlink():
            link.symlink_to(Path("nodes") / node / folder)


def read_raw(path: Path) -> dict[str, list[tuple[str, str]]]:
    """The raw lxc.* lines of each section, in file order; section '' is the main config."""
    sections: dict[str, list[tuple[str, str]]] = {"": []}
    current = ""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return sections
    for line in text.splitlines():
        head = SECTION.match(line)
        if head:
            current = head.group(1)
            sections.setdefault(current, [])
            continue
        raw = RAW_KEY.match(line)
        if raw:
            sections.setdefault(current, []).append((raw.group(1), raw.group(2)))
    return sections


def _escape_description(text: str) -> list[str]:
    return ["#" + line for line in str(text).split("\n")]


def _section_lines(config: dict[str, Any], raw: list[tuple[str, str]]) -> list[str]:
    lines = []
    if config.get("description"):
        lines += _escape_description(config["description"])
    for key in sorted(config):
        if key in ("description", "digest") or key.startswith("lxc."):
            continue
        lines.append(f"{key}: {config[key]}")
    lines += [f"{key}: {value}" for key, value in raw]
    return lines


def write_conf(
    path: Path,
    config: dict[str, Any],
    raw: dict[str, list[tuple[str, str]]],
    snapshots: dict[str, dict[str, Any]],
) -> None:
    """Atomically write a guest's config file (main section, then snapshot sections)."""
    lines = _section_lines(config, raw.get("", []))
    for name in sorted(snapshots):
        lines += ["", f"[{name}]", *_section_lines(snapshots[name], raw.get(name, []))]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)


def remove_conf(path: Path) -> None:
    """Delete a destroyed guest's file."""
    path.unlink(missing_ok=True)
