"""Configuration records both guest kinds share: the firewall and the health checks.

A manager's spec embeds them (``LxcSpec.firewall``, ``LxcSpec.health_checks``), so the keys,
their JSON Schema and the steps that read them are the same for containers and VMs.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

JSON = Any


def doc(text: str) -> dict[str, str]:
    """Field metadata that ``phoenix config schema`` turns into a description."""
    return {"doc": text}


#: Where a health check runs: on the node with the guest id as argument (the old tool's way),
#: or inside the guest.
Where = Literal["host", "guest"]
WHERE_DOC = doc(
    "host (default): on the node, a script getting the guest id as its first argument; "
    "guest: inside the guest"
)


@attrs.frozen
class FirewallRule:
    """One guest firewall rule; compared rule by rule with what Proxmox holds."""

    type: Literal["in", "out", "group"]
    action: str
    source: str | None = None
    dest: str | None = None
    proto: str | None = None
    port: str | None = attrs.field(default=None, metadata=doc("destination port(s)"))
    sport: str | None = None
    comment: str | None = None
    macro: str | None = None
    iface: str | None = None
    log: str | None = None
    enable: bool = True


@attrs.frozen
class Firewall:
    """``firewall``: the guest firewall's options and its rules (in order)."""

    enabled: bool = False
    rules: list[FirewallRule] = attrs.Factory(list)
    policy_in: str | None = None
    policy_out: str | None = None
    log_level_in: str | None = None
    log_level_out: str | None = None


@attrs.frozen
class LegacyHealthCheck:
    """``health_check`` (the old singular form): one command with retries."""

    command: str = attrs.field(metadata=doc("split like a shell would, run without one"))
    retries: int = 3
    interval: int = 5
    where: Where = attrs.field(default="host", metadata=WHERE_DOC)


@attrs.frozen
class HealthCheck:
    """A ``health_checks`` entry: ``command`` (argv) or a ``script`` from the search path."""

    name: str | None = None
    command: list[str] | None = None
    script: str | None = None
    args: JSON = attrs.field(
        default=None, metadata=doc("a list of strings, or one string split like a shell would")
    )
    retries: int = 3
    interval: int = 5
    where: Where = attrs.field(default="host", metadata=WHERE_DOC)
