"""``hosts``: the node's name resolves to its address in ``/etc/hosts``.

Proxmox needs the node name to resolve to the node's own, non-loopback address (pve-cluster
reads it at start); the old tool added ``127.0.1.1 <name>``, which breaks that. The name is
read from the node (``/etc/hostname``): renaming a Proxmox node with guests is not a setup
step. When the installer's line already maps the name to ``network.interfaces.address``,
nothing is added; otherwise one line goes in phoenix's marked block.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.hostfs import BEGIN, END, with_block

HOSTS = "/etc/hosts"


def outside_block(text: str) -> list[list[str]]:
    """The entries of /etc/hosts outside phoenix's block, as word lists."""
    entries, inside = [], False
    for line in text.splitlines():
        if line.startswith(BEGIN) or line.startswith(END):
            inside = line.startswith(BEGIN)
            continue
        words = line.split("#", 1)[0].split()
        if words and not inside:
            entries.append(words)
    return entries


def hosts_step(ctx: HostContext, address: str) -> Step:
    def check() -> list[Change]:
        name = (ctx.files.read("/etc/hostname") or "").strip().split(".")[0]
        if not name:
            raise PhoenixError("the node has no /etc/hostname")
        text = ctx.files.read(HOSTS) or ""
        mapped = any(e[0] == address and name in e[1:] for e in outside_block(text))
        fqdn = f"{name}.{ctx.spec.domain_name}" if ctx.spec.domain_name else name
        block = "" if mapped else f"{address} {fqdn} {name}"
        edited = with_block(text, block)
        if edited == text:
            return []
        return [
            Change(f"{HOSTS} phoenix block", None if block else "present", block or None, edited)
        ]

    def apply(changes: Sequence[Change]) -> None:
        ctx.files.write(HOSTS, changes[0].data)

    return Step("hosts: node name", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    return [hosts_step(ctx, ctx.spec.address)] if ctx.spec.address else []
