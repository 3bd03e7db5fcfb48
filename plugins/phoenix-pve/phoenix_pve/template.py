"""Template conversion, for guests the config marks ``is_template``.

``pct template`` and ``qm template`` have no ``$upid_exit``: a failure inside their task exits
0 (pve-cli.md §2.1), so the conversion is verified by reading ``template: 1`` back.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_pve import power
from phoenix_pve.live import Live


def step(live: Live, shutdown_timeout: int = power.DEFAULT_SHUTDOWN_TIMEOUT) -> Step:
    def check() -> list[Change]:
        if live.exists and live.is_template:
            return []
        return [Change("template", None, "converted")]

    def apply(_: Sequence[Change]) -> None:
        snaps = live.snapshots()
        if snaps:
            raise PhoenixError(
                f"{live.name} cannot become a template while it has snapshots "
                f"({', '.join(s.name for s in snaps)}); delete them first"
            )
        if live.running:
            power.shutdown(live, shutdown_timeout)
        result = live.change(live.tool("template"))
        if not live.is_template:
            detail = (result.stderr.strip() or "no error printed").splitlines()[-1]
            raise PhoenixError(f"`{result.command}` did not convert it: {detail}")

    return Step("template", check, apply)
