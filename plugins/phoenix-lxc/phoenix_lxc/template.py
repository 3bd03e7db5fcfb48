"""Template conversion, for containers the config marks ``is_template``.

``pct template`` has no ``$upid_exit``: a failure inside its task exits 0 (pve-cli.md §2.1), so
the conversion is verified by reading ``template: 1`` back.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_lxc import power
from phoenix_lxc.live import Live


def step(live: Live) -> Step:
    def check() -> list[Change]:
        if live.exists and live.is_template:
            return []
        return [Change("template", None, "converted")]

    def apply(_: Sequence[Change]) -> None:
        snaps = live.snapshots()
        if snaps:
            raise PhoenixError(
                f"CT {live.vmid} cannot become a template while it has snapshots "
                f"({', '.join(s.name for s in snaps)}); delete them first"
            )
        if live.running:
            power.shutdown(live, power.DEFAULT_SHUTDOWN_TIMEOUT)
        result = live.change(["pct", "template", str(live.vmid)])
        if not live.is_template:
            detail = (result.stderr.strip() or "no error printed").splitlines()[-1]
            raise PhoenixError(f"`pct template {live.vmid}` did not convert it: {detail}")

    return Step("template", check, apply)
