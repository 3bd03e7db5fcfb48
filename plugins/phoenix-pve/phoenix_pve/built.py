""" "Build complete": a Proxmox tag, ``phoenix-built-<id>``, set as the last converge step.

The mark lives in the guest's own config, not on the workstation, so every phoenix that talks
to the node sees it, and it costs nothing to read: ``pct config``/``qm config`` (which
``observe`` reads anyway) prints ``tags``. A tag rather than a line of the description (an
operator's free text) or a state file on the node (which outlives a ``destroy`` and a
migration): the config moves with the guest across the cluster and disappears with it.

The tag names the guest id because ``clone`` copies tags: a clone of a finished container
carries its source's tag, which says nothing about the clone. When the clone's own build
finishes, the step replaces that foreign tag with its own and keeps every other tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_pve.live import Live
from phoenix_pve.parse import GuestConfigText

PREFIX = "phoenix-built-"
#: Proxmox accepts ``;``, ``,`` and spaces between tags and writes ``;``.
_SEPARATORS = re.compile(r"[;,\s]+")


def tag(vmid: int) -> str:
    return f"{PREFIX}{vmid}"


def tags(config: GuestConfigText) -> list[str]:
    return [t for t in _SEPARATORS.split(config.get("tags") or "") if t]


def is_built(config: GuestConfigText, vmid: int) -> bool:
    """Did a converge of this very guest run to its end? (An inherited tag does not count.)"""
    return tag(vmid) in tags(config)


def step(live: Live) -> Step:
    """Mark the guest built; the manager puts this step last, so only a finished build gets it."""

    def check() -> list[Change]:
        if live.exists and is_built(live.config(), live.vmid):
            return []
        return [Change("build", None, "complete")]

    def apply(_: Sequence[Change]) -> None:
        kept = [t for t in tags(live.config()) if not t.startswith(PREFIX)]
        live.change(live.tool("set", "--tags", ";".join([*kept, tag(live.vmid)])))

    return Step("build complete", check, apply)
