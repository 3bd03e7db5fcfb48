"""Text output of pct, qm and pvesm, byte for byte as pve-cli.md §2 describes it."""

from __future__ import annotations

import re
import time
from typing import Any

from .result import lines


def encode_text(text: str) -> str:
    """PVE::Tools::encode_text: control characters, ':' and '%' become %XX (descriptions)."""
    return re.sub(r"[\x00-\x1f\x7f:%]", lambda m: f"%{ord(m.group()):02X}", str(text))


def config_text(config: dict[str, Any], raw: list[tuple[str, str]]) -> str:
    """`pct/qm config`: sorted `key: value` lines without digest, raw lxc.* lines last."""
    out = []
    for key in sorted(config):
        if key == "digest" or key.startswith("lxc."):
            continue
        value = config[key]
        if key == "description":
            value = encode_text(value)
        out.append(f"{key}: {value}")
    out += [f"{key}: {value}" for key, value in raw]
    return lines(out)


def verbose_status(status: dict[str, Any]) -> str:
    """`pct/qm status --verbose`: sorted key: value, `cpu` omitted, nested hashes tab-indented."""
    out = []
    for key in sorted(status):
        if key == "cpu":
            continue
        value = status[key]
        if isinstance(value, dict):
            out.append(f"{key}:")
            out += [f"\t{k}: {v}" for k, v in sorted(value.items())]
        else:
            out.append(f"{key}: {value}")
    return lines(out)


def pct_list(entries: list[dict[str, Any]]) -> str:
    """`pct list`: `%-10s %-10s %-12s %-20s`, sorted by VMID, nothing at all when empty."""
    if not entries:
        return ""
    fmt = "{:<10} {:<10} {:<12} {:<20}"
    out = [fmt.format("VMID", "Status", "Lock", "Name")]
    for e in sorted(entries, key=lambda e: int(e["vmid"])):
        out.append(
            fmt.format(
                str(e["vmid"]), e.get("status", ""), e.get("lock") or "", e.get("name") or ""
            )
        )
    return lines(out)


def qm_list(entries: list[dict[str, Any]]) -> str:
    """`qm list`: `%10s %-20s %-10s %-10s %12s %-10s`, sorted by VMID, nothing when empty."""
    if not entries:
        return ""
    out = [
        "{:>10} {:<20} {:<10} {:<10} {:>12} {:<10}".format(
            "VMID", "NAME", "STATUS", "MEM(MB)", "BOOTDISK(GB)", "PID"
        )
    ]
    for e in sorted(entries, key=lambda e: int(e["vmid"])):
        mem = int(e.get("maxmem") or 0) // (1024 * 1024)
        disk = float(e.get("maxdisk") or 0) / 1024**3
        pid = e.get("pid") or 0
        out.append(
            "{:>10} {:<20} {:<10} {:<10} {:>12.2f} {:<10}".format(
                str(e["vmid"]),
                e.get("name") or "",
                e.get("qmpstatus") or e.get("status", ""),
                str(mem),
                disk,
                str(pid),
            )
        )
    return lines(out)


def snapshot_tree(snapshots: list[dict[str, Any]]) -> str:
    """`listsnapshot`: the GuestHelpers tree, roots prefixed `` `-> ``, `current` last."""
    by_name = {s["name"]: dict(s, children=[]) for s in snapshots}
    roots = []
    for snap in snapshots:
        parent = snap.get("parent")
        if parent and parent in by_name:
            by_name[parent]["children"].append(snap["name"])
        else:
            roots.append(snap["name"])

    def order(name: str) -> tuple[int, float]:
        snaptime = by_name[name].get("snaptime")
        return (1, 0.0) if snaptime is None else (0, float(snaptime))

    out: list[str] = []

    def walk(prefix: str, name: str) -> None:
        entry = by_name[name]
        description = (entry.get("description") or "no-description").split("\n")[0]
        stamp = ""
        if entry.get("snaptime") is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(entry["snaptime"])))
        width = max(30 - len(prefix), 0)
        out.append(f"{prefix} {name:<{width}} {stamp:<23} {description}")
        for child in sorted(entry["children"], key=order):
            walk(" " + prefix, child)

    for root in sorted(roots, key=order):
        walk("`->", root)
    return lines(out)


def pending_text(items: list[dict[str, Any]]) -> str:
    """`pct/qm pending`: `cur`/`new`/`del` lines sorted by key (GuestHelpers::format_pending)."""
    out = []
    for item in sorted(items, key=lambda i: i["key"]):
        key = item["key"]
        if key == "digest":
            continue
        value, new = item.get("value"), item.get("pending")
        if key == "description":
            value = encode_text(value) if value is not None else None
            new = encode_text(new) if new is not None else None
        if value is not None:
            if item.get("delete"):
                out.append(f"del {key}: {value}")
            elif new is not None:
                out += [f"cur {key}: {value}", f"new {key}: {new}"]
            else:
                out.append(f"cur {key}: {value}")
        elif new is not None:
            out.append(f"new {key}: {new}")
    return lines(out)


def pvesm_status(entries: list[dict[str, Any]], header: tuple[str, str, str]) -> str:
    """`pvesm status`: `%-<L>s %10s %10s %15s %15s %15s %8s`, KiB integers, sorted by name;
    `header` names the three size columns (with units from PVE 9 on)."""
    width = max([len(e["storage"]) for e in entries] + [len("Name")]) + 1
    fmt = f"{{:<{width}}} {{:>10}} {{:>10}} {{:>15}} {{:>15}} {{:>15}} {{:>8}}"
    out = [fmt.format("Name", "Type", "Status", *header, "%")]
    for e in sorted(entries, key=lambda e: e["storage"]):
        enabled = e.get("enabled", 1)
        status = "disabled" if not enabled else ("active" if e.get("active") else "inactive")
        total, used, avail = (int(e.get(k) or 0) // 1024 for k in ("total", "used", "avail"))
        pct = "N/A" if not enabled or not total else "% 7.2f%%" % (used * 100.0 / total)
        out.append(fmt.format(e["storage"], e.get("type", ""), status, total, used, avail, pct))
    return lines(out)
