"""``time``: the node's time zone (``timezone``) and time synchronisation by chrony.

``timedatectl set-timezone`` is what the old tool ran; it changes ``/etc/localtime`` and
``/etc/timezone`` together, which a file write could not do consistently.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext

CHRONY = "chrony.service"


def timezone_step(ctx: HostContext, zone: str) -> Step:
    def check() -> list[Change]:
        have = (
            ctx.query(["timedatectl", "show", "-p", "Timezone", "--value"]).check().stdout.strip()
        )
        return [] if have == zone else [Change("time zone", have or None, zone)]

    def apply(changes: Sequence[Change]) -> None:
        ctx.change(["timedatectl", "set-timezone", zone])

    return Step("time: zone", check, apply)


def sync_step(ctx: HostContext) -> Step:
    def check() -> list[Change]:
        enabled = ctx.query(["systemctl", "is-enabled", CHRONY]).returncode == 0
        active = ctx.query(["systemctl", "is-active", CHRONY]).returncode == 0
        if enabled and active:
            return []
        return [Change(CHRONY, "enabled" if enabled else "disabled", "enabled and running")]

    def apply(changes: Sequence[Change]) -> None:
        ctx.change(["systemctl", "enable", "--now", CHRONY])

    return Step("time: sync", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    zone = ctx.spec.timezone
    return [timezone_step(ctx, zone), sync_step(ctx)] if zone else []
