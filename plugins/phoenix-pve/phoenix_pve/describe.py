"""``phoenix import``: what both guest managers read back the same way from a guest's live
config to write the entry that describes it, and how an imported guest is adopted.

Every value is written as phoenix's own steps would compare it, so the next ``plan`` of the
guest finds nothing to change: a key Proxmox leaves out stays out of the entry (unset keys are
not managed), and a value phoenix cannot express (a ``startup`` with different up and down
delays) is left out with a note rather than written approximately.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from phoenix_core.logs import logger
from phoenix_pve import built
from phoenix_pve.live import Live
from phoenix_pve.options import tag_set
from phoenix_pve.parse import GuestConfigText, normalize_value, parse_props, size_bytes

JSON = Any


def flag(config: GuestConfigText, key: str) -> bool:
    return normalize_value(config.get(key) or "0") == "1"


def common(live: Live, config: GuestConfigText) -> dict[str, JSON]:
    """The keys both guest files share: power at boot, boot order, tags, notes, protection."""
    entry: dict[str, JSON] = {"start_at_boot": flag(config, "onboot")}
    startup = parse_props(config.get("startup") or "")
    if "order" in startup and startup.get("up", "0") == startup.get("down", "0"):
        entry["boot_order"] = int(startup["order"])
        entry["boot_delay"] = int(startup.get("up", "0"))
    elif startup:
        logger.warning(
            "{}: startup {} is not imported (phoenix writes order=N,up=D,down=D)",
            live.name,
            config.get("startup"),
        )
    tags = sorted(t for t in tag_set(config.get("tags") or "") if not t.startswith(built.PREFIX))
    if tags:
        entry["tags"] = tags
    if config.get("description"):
        entry["description"] = unquote(config.get("description") or "").rstrip("\n")
    if flag(config, "protection"):
        entry["protection"] = True
    if flag(config, "template"):
        entry["is_template"] = True
    return entry


def whole_gib(size: str | None) -> int | None:
    """``8G`` -> 8; None for a size phoenix's whole-GiB keys cannot hold (``512M``)."""
    value = size_bytes(size or "")
    if not value or value % (1 << 30):
        return None
    return value >> 30


def adopt(live: Live) -> None:
    """Mark an imported guest built (its tag), as the converge it now stands for would have."""
    if live.exists and not built.is_built(live.config(), live.vmid):
        built.step(live).apply([])
