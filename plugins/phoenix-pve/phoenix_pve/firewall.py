"""The guest firewall: options and rules, reconciled rule by rule through ``pvesh``.

The old tool deleted every rule and recreated them on each run. Here the live rules are
compared with the configured ones as ordered lists: the longest common subsequence stays, rules
outside it are deleted (highest position first) and missing ones are created (Proxmox puts them
first) and moved to their position. An in-sync firewall costs two reads and no write. The API
path is the same for both guest kinds but for its segment (``lxc`` / ``qemu``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from phoenix_core.steps import Change, Step
from phoenix_pve.live import Live
from phoenix_pve.model import Firewall, FirewallRule
from phoenix_pve.parse import normalize_value

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


@attrs.frozen
class SetOption:
    """Change data: set firewall option ``name`` to ``value``."""

    name: str
    value: str


@attrs.frozen
class DeleteRule:
    """Change data: delete the live rule at position ``pos``."""

    pos: int


@attrs.frozen
class InsertRule:
    """Change data: create the configured rule ``index`` and move it to that position."""

    index: int
    params: dict[str, str]


def base(live: Live) -> str:
    return f"{live.api_path}/firewall"


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
    return tuple(sorted((k, normalize_value(v)) for k, v in values.items()))


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


def option_changes(fw: Firewall, live: Live) -> list[Change]:
    options = live.pvesh_json(base(live) + "/options") or {}
    changes = []
    for name, value in option_params(fw).items():
        have = options.get(name)
        # Proxmox leaves `enable` out of the options while the firewall is off.
        shown = have if have is not None else "0" if name == "enable" else ""
        if normalize_value(str(shown)) != value:
            changes.append(Change(f"firewall {name}", have, value, data=SetOption(name, value)))
    return changes


def rule_changes(fw: Firewall, live: Live) -> list[Change]:
    wanted = [rule_params(r) for r in fw.rules]
    rules = sorted(live.pvesh_json(base(live) + "/rules") or [], key=lambda r: int(r.get("pos", 0)))
    kept = lcs([key(r) for r in rules], [key(r) for r in wanted])
    kept_live = {i for i, _ in kept}
    kept_want = {j for _, j in kept}
    changes = []
    for i, rule in enumerate(rules):
        if i not in kept_live:
            pos = int(rule.get("pos", i))
            changes.append(
                Change(f"firewall rule @{pos}", describe(rule), None, data=DeleteRule(pos))
            )
    for j, params in enumerate(wanted):
        if j not in kept_want:
            changes.append(
                Change(f"firewall rule #{j}", None, describe(params), data=InsertRule(j, params))
            )
    return changes


def create_argv(path: str, insert: InsertRule) -> list[str]:
    argv = ["pvesh", "create", f"{path}/rules"]
    for name, value in insert.params.items():
        argv += [f"--{name}", value]
    return argv


def step(fw: Firewall, live: Live) -> Step:
    def check() -> list[Change]:
        return option_changes(fw, live) + rule_changes(fw, live)

    def apply(changes: Sequence[Change]) -> None:
        path = base(live)
        data = [c.data for c in changes]
        options = [d for d in data if isinstance(d, SetOption)]
        if options:
            argv = ["pvesh", "set", path + "/options"]
            for option in options:
                argv += [f"--{option.name}", option.value]
            live.change(argv)
        deletes = sorted((d.pos for d in data if isinstance(d, DeleteRule)), reverse=True)
        for pos in deletes:
            live.change(["pvesh", "delete", f"{path}/rules/{pos}"])
        inserts = sorted((d for d in data if isinstance(d, InsertRule)), key=lambda d: d.index)
        # Proxmox puts a new rule first whatever `pos` says (pve-firewall
        # src/PVE/API2/Firewall/Rules.pm register_create_rule unshifts it). The rules wanted in
        # front of every kept one (all of them on a new guest) are created last one first, so
        # each lands in front of the one before: one call a rule. Each later one is created,
        # then moved (`moveto`) in front of the rule at its index before the move.
        front = next((n for n, d in enumerate(inserts) if d.index != n), len(inserts))
        for insert in reversed(inserts[:front]):
            live.change(create_argv(path, insert))
        for insert in inserts[front:]:
            live.change(create_argv(path, insert))
            live.change(["pvesh", "set", f"{path}/rules/0", "--moveto", str(insert.index + 1)])

    return Step("firewall", check, apply)
