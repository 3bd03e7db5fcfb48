"""The root disk: grown to ``storage_size_gb``; a smaller size is an error that changes nothing.

Proxmox can grow a container volume online but never shrink it, so a shrink request stops the
converge of that container with a plain explanation instead of half-applying.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_lxc.model import LxcSpec
from phoenix_pve.live import Live
from phoenix_pve.parse import parse_props, size_bytes


def step(spec: LxcSpec, live: Live, *, skip: Callable[[], bool]) -> Step:
    def check() -> list[Change]:
        if skip() or spec.storage_size_gb is None or not live.exists:
            return []
        rootfs = live.config().get("rootfs")
        if not rootfs:
            return []
        size_text = parse_props(rootfs, "volume").get("size", "0")
        have = size_bytes(size_text) or 0
        want = spec.storage_size_gb << 30
        if have < want:
            return [Change("rootfs size", size_text, f"{spec.storage_size_gb}G")]
        if have > want:
            raise PhoenixError(
                f"CT {live.vmid}: the root disk is {size_text} and the config asks "
                f"{spec.storage_size_gb}G; Proxmox cannot shrink a disk (nothing changed)"
            )
        return []

    def apply(_: Sequence[Change]) -> None:
        live.change(["pct", "resize", str(live.vmid), "rootfs", f"{spec.storage_size_gb}G"])

    return Step("root disk", check, apply)
