"""Configuration records both guest kinds share: the firewall and the health checks.

A manager's spec embeds them (``LxcSpec.firewall``, ``LxcSpec.health_checks``), so the keys,
their JSON Schema and the steps that read them are the same for containers and VMs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import attrs

from phoenix_core.config.validate import contained_name, in_range, shell_words
from phoenix_pve import formats

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
    """One guest firewall rule; compared rule by rule with what Proxmox holds.

    Each field is checked as pve-firewall's verify_rule checks it (:mod:`phoenix_pve.formats`);
    the action, which depends on the type, by :func:`rule_problems`.
    """

    type: Literal["in", "out", "group"]
    action: str
    source: Annotated[str, formats.address()] | None = None
    dest: Annotated[str, formats.address()] | None = None
    proto: Annotated[str, formats.proto()] | None = None
    port: Annotated[str, formats.ports()] | None = attrs.field(
        default=None, metadata=doc("destination port(s)")
    )
    sport: Annotated[str, formats.ports()] | None = None
    comment: str | None = None
    macro: Annotated[str, formats.macro()] | None = None
    iface: Annotated[str, formats.firewall_iface()] | None = None
    log: Annotated[str, formats.enum(*formats.LOG_LEVELS)] | None = None
    enable: bool = True


@attrs.frozen
class Firewall:
    """``firewall``: the guest firewall's options and its rules (in order)."""

    enabled: bool = False
    rules: list[FirewallRule] = attrs.Factory(list)
    policy_in: Annotated[str, formats.enum(*formats.POLICIES)] | None = None
    policy_out: Annotated[str, formats.enum(*formats.POLICIES)] | None = None
    log_level_in: Annotated[str, formats.enum(*formats.LOG_LEVELS)] | None = None
    log_level_out: Annotated[str, formats.enum(*formats.LOG_LEVELS)] | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(JSON path below ``firewall``, problem) for what no single field shows."""
        found = []
        for index, rule in enumerate(self.rules):
            problem = formats.rule_action_problem(rule.type, rule.action)
            if problem:
                found.append((f"rules[{index}].action", problem))
            # Firewall.pm verify_rule: "missing property - 'dport' requires this property".
            if (rule.port or rule.sport) and not rule.proto and not rule.macro:
                found.append((f"rules[{index}].proto", "a rule with ports needs a proto"))
        return found


@attrs.frozen
class LegacyHealthCheck:
    """``health_check`` (the old singular form): one command with retries."""

    command: Annotated[str, shell_words()] = attrs.field(
        metadata=doc("split like a shell would, run without one")
    )
    retries: Annotated[int, in_range(0)] = 3
    interval: Annotated[int, in_range(0)] = 5
    where: Where = attrs.field(default="host", metadata=WHERE_DOC)


@attrs.frozen
class HealthCheck:
    """A ``health_checks`` entry: ``command`` (argv) or a ``script`` from the search path."""

    name: str | None = None
    command: list[str] | None = None
    script: Annotated[str, contained_name()] | None = None
    args: Annotated[JSON, shell_words()] = attrs.field(
        default=None, metadata=doc("a list of strings, or one string split like a shell would")
    )
    retries: Annotated[int, in_range(0)] = 3
    interval: Annotated[int, in_range(0)] = 5
    where: Where = attrs.field(default="host", metadata=WHERE_DOC)


@attrs.frozen
class SuiteCase:
    """A ``tests.<suite>[]`` entry: a script found under the config directory's ``tests/``."""

    path: Annotated[str, contained_name()] = attrs.field(
        metadata=doc("the script under tests/, e.g. vllm/test_vllm_context_window.py")
    )
    name: str | None = None
    type: Literal["script"] = "script"
    args: Annotated[JSON, shell_words()] = attrs.field(
        default=None, metadata=doc("a list of strings, or one string split like a shell would")
    )
    where: Where = attrs.field(
        default="guest",
        metadata=doc(
            "guest (default): pushed into the guest and run there by its #! line; "
            "host: on the node, read by bash, with the guest id as first argument"
        ),
    )
