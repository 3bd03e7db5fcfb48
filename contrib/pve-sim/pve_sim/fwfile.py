"""DIR/etc/pve/firewall/<vmid>.fw and cluster.fw: the firewall as pve-firewall keeps it.

The options and rules live in fakepve's API state; after every command that may change them
the file is rewritten as pve-firewall src/PVE/Firewall.pm save_vmfw_conf writes it: an
``[OPTIONS]`` section (``$format_options``: ``key: value`` lines), then ``[RULES]``
(``$format_rules``: ``|`` for a disabled rule, the upper-case type, ``MACRO(ACTION)`` or the
action, ``-i``, ``-source``, ``-dest``, ``-p``, ``-dport``, ``-sport``, ``-log``,
``-icmp-type``, then ``# comment``); no file when both are empty (save_vmfw_conf unlinks it).
The datacenter's ``cluster.fw`` is written the same way
(save_clusterfw_conf), with its security groups last (``[group <name>]``, rules without
``-i``). A destroyed guest's file is removed (pve-container src/PVE/API2/LXC.pm and qemu-server
src/PVE/API2/Qemu.pm call remove_vmfw_conf). Aliases and IP sets, which phoenix does not set,
are not written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import conffile

#: The ``-flag`` of each rule field, in the order $format_rules writes them.
RULE_FLAGS = (
    ("source", "-source"),
    ("dest", "-dest"),
    ("proto", "-p"),
    ("dport", "-dport"),
    ("sport", "-sport"),
    ("log", "-log"),
    ("icmp-type", "-icmp-type"),
)


def path(pve_etc: Path, vmid: int) -> Path:
    return Path(pve_etc) / "firewall" / f"{vmid}.fw"


def rule_line(rule: dict[str, Any], *, allow_iface: bool = True) -> str:
    line = "|" if "enable" in rule and not int(rule["enable"]) else ""
    line += str(rule["type"]).upper()
    line += f" {rule['macro']}({rule['action']})" if rule.get("macro") else f" {rule['action']}"
    if allow_iface and rule.get("iface"):
        line += f" -i {rule['iface']}"
    if rule["type"] != "group":
        for key, flag in RULE_FLAGS:
            if rule.get(key) not in (None, ""):
                line += f" {flag} {rule[key]}"
    comment = str(rule.get("comment") or "")
    if comment.strip():
        line += f" # {comment}"
    return line


def text(conf: dict[str, Any]) -> str:
    raw = ""
    if conf.get("options"):
        raw += "[OPTIONS]\n\n" + "".join(f"{k}: {v}\n" for k, v in conf["options"].items()) + "\n"
    if conf.get("rules"):
        raw += "[RULES]\n\n" + "".join(rule_line(r) + "\n" for r in conf["rules"]) + "\n"
    for group in sorted(conf.get("groups") or {}):
        comment = (conf.get("group_comments") or {}).get(group)
        raw += f"[group {group}] # {comment}\n\n" if comment else f"[group {group}]\n\n"
        raw += "".join(rule_line(r, allow_iface=False) + "\n" for r in conf["groups"][group])
        raw += "\n"
    return raw


def write(pve_etc: Path, vmid: int, conf: dict[str, Any]) -> None:
    """Write (or remove, when empty) the guest's .fw file, atomically, at the pmxcfs mode."""
    write_to(path(pve_etc, vmid), conf)


def write_cluster(pve_etc: Path, conf: dict[str, Any]) -> None:
    write_to(Path(pve_etc) / "firewall" / "cluster.fw", conf)


def write_to(target: Path, conf: dict[str, Any]) -> None:
    raw = text(conf)
    if not raw:
        target.unlink(missing_ok=True)
        return
    conffile.write_file(target, raw)


def remove(pve_etc: Path, vmid: int) -> None:
    path(pve_etc, vmid).unlink(missing_ok=True)


def parse_rule(line: str) -> dict[str, Any]:
    """One rule line as :func:`rule_line` writes it, back into the API's fields."""
    head, _, comment = line.partition(" # ")
    rule: dict[str, Any] = {"enable": 0 if head.startswith("|") else 1}
    words = head.lstrip("|").split()
    rule["type"] = words[0].lower()
    macro, _, action = words[1].rstrip(")").rpartition("(")
    rule.update({"macro": macro, "action": action} if macro else {"action": words[1]})
    flags = {flag: key for key, flag in RULE_FLAGS} | {"-i": "iface"}
    for flag, value in zip(words[2::2], words[3::2], strict=True):
        rule[flags[flag]] = value
    if comment:
        rule["comment"] = comment
    return rule


def read_cluster(target: Path, conf: dict[str, Any]) -> None:
    """Read ``cluster.fw`` (what :func:`text` writes) back into ``conf``: its options, rules
    and groups. On a node the file is the state: pve-firewall src/PVE/Firewall.pm
    ``load_clusterfw_conf`` parses it (``generic_fw_config_parser``, each rule by
    ``parse_fw_rule``) whenever the API or the firewall reads the datacenter firewall. The
    aliases and IP sets, which :func:`text` does not write, stay as they are."""
    raw = target.read_text() if target.exists() else ""
    conf.update(options={}, rules=[], groups={}, group_comments={})
    rules: list[dict[str, Any]] = []
    section = ""
    for line in raw.splitlines():
        if not line.strip():
            continue
        if line.startswith("["):
            name, _, comment = line.partition(" # ")
            section = name.strip("[]")
            if section.startswith("group "):
                group = section.removeprefix("group ")
                rules = conf["groups"][group] = []
                if comment:
                    conf["group_comments"][group] = comment
            elif section == "RULES":
                rules = conf["rules"]
        elif section == "OPTIONS":
            key, _, value = line.partition(":")
            conf["options"][key.strip()] = value.strip()
        else:
            rules.append(parse_rule(line))
