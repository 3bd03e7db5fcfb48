"""``dns``: dnsmasq answering for the configuration's own domain (``domain_name``), with a
record for every guest that has a static address, and the configured upstream servers. The
guests are those the configuration describes, whether or not their managers are installed
(:func:`phoenix_pve.guestfiles.described`).

One phoenix-owned file, ``/etc/dnsmasq.d/phoenix.conf``; dnsmasq's own configuration is left
alone. The old tool hard-coded its domain, deleted everything in ``/etc/dnsmasq.d`` and
rewrote ``/etc/resolv.conf``; phoenix does none of that.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.hostfs import HEADER
from phoenix_pve.claims import static_ip
from phoenix_pve.guestfiles import described

CONF = "/etc/dnsmasq.d/phoenix.conf"


def conf_text(ctx: HostContext) -> str:
    domain = ctx.spec.domain_name or ""
    lines = [
        HEADER.rstrip("\n"),
        f"domain={domain}",
        f"local=/{domain}/",
        "domain-needed",
        "bogus-priv",
    ]
    if ctx.spec.address:
        lines.append(f"listen-address={ctx.spec.address}")
    lines += [f"server={server}" for server in ctx.spec.dns.upstream_servers]
    records = sorted(
        (guest.name.lower(), ip)
        for guest in described(ctx.config)
        if (ip := static_ip(guest)) is not None
    )
    lines += [f"host-record={name}.{domain},{ip}" for name, ip in records]
    return "\n".join(lines) + "\n"


def conf_step(ctx: HostContext) -> Step:
    def check() -> list[Change]:
        wanted, have = conf_text(ctx), ctx.files.read(CONF)
        if have == wanted:
            return []
        records = wanted.count("host-record=")
        return [
            Change(
                CONF,
                "missing" if have is None else "differs",
                f"{ctx.spec.domain_name}, {records} records",
                wanted,
            )
        ]

    def apply(changes: Sequence[Change]) -> None:
        ctx.files.write(CONF, changes[0].data)
        ctx.change(["systemctl", "restart", "dnsmasq.service"])

    return Step("dns: dnsmasq", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    if not ctx.spec.dns.enabled or not ctx.spec.domain_name:
        return []
    return [conf_step(ctx)]
