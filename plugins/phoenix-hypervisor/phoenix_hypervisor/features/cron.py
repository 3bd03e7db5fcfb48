"""``cron``: the certificate-renewal entry, ``/etc/cron.d/phoenix-cert-renewal`` (hourly, as
root, ``step_ca.renewal_command``). The old tool's entry ran its own renewal script; phoenix
has none, so the command is the configuration's. cron reads files in ``/etc/cron.d`` that
are not group- or world-writable and whose names have no dot.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.hostfs import HEADER

ENTRY = "/etc/cron.d/phoenix-cert-renewal"


def cron_step(ctx: HostContext, command: str) -> Step:
    wanted = (
        f"{HEADER}SHELL=/bin/sh\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n0 * * * * root {command}\n"
    )

    def check() -> list[Change]:
        have = ctx.files.read(ENTRY)
        if have == wanted:
            return []
        return [Change(ENTRY, "missing" if have is None else "differs", f"hourly {command}")]

    def apply(changes: Sequence[Change]) -> None:
        ctx.files.write(ENTRY, wanted, mode=0o644)

    return Step("cron: certificate renewal", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    command = ctx.spec.step_ca.renewal_command
    return [cron_step(ctx, command)] if command else []
