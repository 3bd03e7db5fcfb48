"""The guest firewall: options and rules, reconciled rule by rule through ``pvesh``.

The old tool deleted every rule and recreated them on each run. Here the live rules are
compared with the configured ones as ordered lists: the longest common subsequence stays, rules
outside it are deleted (highest position first) and missing ones are created (Proxmox puts them first) and moved to their position.
An in-sync firewall costs two reads and no write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from phoenix_core import proxmox
from phoenix_core.steps import Change, Step
from phoenix_lxc.live import Live
from phoenix_lxc.model import Firewall, FirewallRule

RuleKey = tuple[tuple[str, str], ...]
#: Rule fields as pvesh names them (the config's ``port`` is the API's ``dport``).
FIELDS = (
    "type",
    "action",
    "macro",
    "iface",
    "source",
    "dest",
    "proto",
    "dport",
    "sport",
    "log",
    "comment",
    "enable",
)


def base(vmid: int) -> str:
    return f"/nodes/localhost/lxc/{vmid}/firewall"


def rule_params(rule: FirewallRule) -> dict[str, str]:
    params = {
        "type": rule.type,
        "action": rule.action,
        "macro": rule.macro,
        "iface": rule.iface,
        "source": rule.source,
        "dest": rule.dest,
        "proto": rule.proto,
        "dport": rule.port,
        "sport": rule.sport,
        "log": rule.log,
        "comment": rule.comment,
        "enable": "1" if rule.enable else "0",
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


def key(params: dict[str, Any]) -> RuleKey:
    """A comparable form of a rule: known fields only, values normalised, ``enable`` defaulted."""
    values = {k: str(params[k]) for k in FIELDS if params.get(k) not in (None, "")}
    values.setdefault("enable", "0")
    return tuple(sorted((k, proxmox.normalize_value(v)) for k, v in values.items()))


def describe(params: dict[str, Any]) -> str:
    parts = [str(params.get("type")), str(params.get("action"))]
    for field in ("proto", "source", "dest", "dport"):
        if params.get(field):
            parts.append(f"{field}={params[field]}")
    if params.get("comment"):
        parts.append(f"# {params['comment']}")
    return " ".join(parts)


def lcs(a: Sequence[RuleKey], b: Sequence[RuleKey]) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of ``a`` and ``b``."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
            )
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def option_params(fw: Firewall) -> dict[str, str]:
    params = {"enable": "1" if fw.enabled else "0"}
    for name in ("policy_in", "policy_out", "log_level_in", "log_level_out"):
        value = getattr(fw, name)
        if value is not None:
            params[name] = value
    return params


def step(fw: Firewall, live: Live) -> Step:
    wanted = [rule_params(r) for r in fw.rules]

    def check() -> list[Change]:
        changes = []
        options = live.pvesh_json(base(live.vmid) + "/options") or {}
        for name, value in option_params(fw).items():
            have = options.get(name)
            if (
                proxmox.normalize_value(
                    str(have if have is not None else "0" if name == "enable" else "")
                )
                != value
            ):
                changes.append(Change(f"firewall {name}", have, value))
        rules = sorted(
            live.pvesh_json(base(live.vmid) + "/rules") or [], key=lambda r: int(r.get("pos", 0))
        )
        have_keys = [key(r) for r in rules]
        want_keys = [key(r) for r in wanted]
        kept = lcs(have_keys, want_keys)
        kept_live = {i for i, _ in kept}
        kept_want = {j for _, j in kept}
        for i, rule in enumerate(rules):
            if i not in kept_live:
                changes.append(Change(f"firewall rule @{rule.get('pos', i)}", describe(rule), None))
        for j, rule in enumerate(wanted):
            if j not in kept_want:
                changes.append(Change(f"firewall rule #{j}", None, describe(rule)))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        path = base(live.vmid)
        option_changes = [
            c for c in changes if c.what.startswith("firewall ") and " rule" not in c.what
        ]
        if option_changes:
            argv = ["pvesh", "set", path + "/options"]
            for c in option_changes:
                argv += [f"--{c.what.removeprefix('firewall ')}", str(c.after)]
            live.change(argv)
        deletes = sorted(
            (int(c.what.split("@")[1]) for c in changes if "@" in c.what), reverse=True
        )
        for pos in deletes:
            live.change(["pvesh", "delete", f"{path}/rules/{pos}"])
        inserts = sorted(int(c.what.split("#")[1]) for c in changes if "#" in c.what)
        for j in inserts:
            # Proxmox puts a new rule first whatever `pos` says (Rules.pm unshifts it), then
            # `moveto` places it in front of the rule that is at that index before the move.
            argv = ["pvesh", "create", f"{path}/rules"]
            for name, value in wanted[j].items():
                argv += [f"--{name}", value]
            live.change(argv)
            if j:
                live.change(["pvesh", "set", f"{path}/rules/0", "--moveto", str(j + 1)])

    return Step("firewall", check, apply)
