"""Parsers of a guest's files under ``/etc/pve``: its conf file and its firewall file.

Read as files (no Perl start-up), they give what ``pct config``/``qm config``,
``listsnapshot`` and ``pvesh get .../firewall/options|rules`` print, parsed the way Proxmox
parses them:

- the conf file as pve-container src/PVE/LXC/Config.pm parse_pct_config and qemu-server
  src/PVE/QemuServer.pm parse_vm_config read it: ``#`` lines are the description, ``lxc.*``
  lines the raw keys, ``[pve:pending]`` / ``[PENDING]`` the pending section (with its
  ``delete:`` line), ``[special:...]`` sections skipped, other ``[name]`` sections snapshots;
  the current config is the main section with the pending values applied and the pending
  deletes removed (pve-guest-common src/PVE/AbstractConfig.pm load_current_config and
  parse_pending_delete), as the ``config`` commands print it by default;
- ``user.cfg`` as pve-access-control src/PVE/AccessControl.pm parse_user_config reads its
  ``user:`` and ``acl:`` lines (what ``pveum user list`` and ``pveum acl list`` answer);
- the firewall file as pve-firewall src/PVE/Firewall.pm generic_fw_config_parser,
  parse_vmfw_option and parse_fw_rule read it (what the API's options and rules answer);
- pmxcfs's ``.vmlist`` (every guest of the cluster, its node and type) and ``.members`` (the
  node's own name), and ``storage.cfg`` (what ``pvesh get /storage`` lists).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import attrs

from phoenix_pve.parse import GuestConfigText, Snapshot

_PENDING = re.compile(r"^\[(?:pve:pending|PENDING)\]\s*$", re.IGNORECASE)
_SPECIAL = re.compile(r"^\[special:([^\]]*)\]\s*$", re.IGNORECASE)
_SNAPSHOT = re.compile(r"^\[([a-z][a-z0-9_\-]+)\]\s*$", re.IGNORECASE)
_RAW = re.compile(r"^(lxc\.[a-z0-9_\-.]+)(?::|\s*=)\s*(.*?)\s*$")
_DESCRIPTION = re.compile(r"^description:\s*(.*\S)\s*$")
_KEY = re.compile(r"^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$")
#: qm config shows a set cloud-init password masked (qemu-server src/PVE/API2/Qemu.pm vm_config).
_MASKED = {"cipassword": "**********"}


class FileFormatError(ValueError):
    """A line Proxmox would read that this parser does not understand."""


@attrs.frozen
class _Section:
    options: dict[str, str] = attrs.field(factory=dict)
    raw: list[tuple[str, str]] = attrs.field(factory=list)
    description: list[str] = attrs.field(factory=list)


@attrs.frozen
class ConfFile:
    """A guest's conf file: its current config and its snapshots."""

    current: GuestConfigText
    snapshots: tuple[Snapshot, ...]
    #: Keys whose change waits for a restart: set (``new``) or deleted (``del``) in the
    #: pending section, as ``qm pending``/``pct pending`` mark them.
    pending: tuple[str, ...] = ()
    #: A VM's cloud-init keys changed since its drive was generated, sorted: qemu-server
    #: keeps them in ``[special:cloudinit]`` until the drive is regenerated (src/PVE/
    #: QemuServer.pm vmconfig_hotplug_pending ``$cloudinit_record_changed``: a changed or
    #: removed key with its old value, new keys listed in ``added``; src/PVE/QemuServer/
    #: Cloudinit.pm has_changes: the drive is stale while the section holds anything).
    cloudinit_stale: tuple[str, ...] = ()


#: pve-common src/PVE/ParseUtils.pm encode_text: all but control and hi-bit characters, ``:``
#: and ``%`` stay as they are (the config commands print the description encoded).
_TEXT_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "%:")


def encode_text(text: str) -> str:
    return urllib.parse.quote(text, safe=_TEXT_SAFE)


def _description(lines: list[str], *, container: bool) -> str:
    """The description as ``pct config``/``qm config`` print it: parse_pct_config ends each
    comment line with a newline, parse_vm_config strips the trailing whitespace; encoded."""
    text = "".join(f"{line}\n" for line in lines)
    return encode_text(text if container else text.rstrip())


def parse_conf(text: str, *, container: bool) -> ConfFile:
    main = _Section()
    pending = _Section()
    snapshots: dict[str, _Section] = {}
    cloudinit = _Section()
    section: _Section | None = main
    for line in text.splitlines():
        if not line.strip():
            continue
        if _PENDING.match(line):
            section = pending
            continue
        special = _SPECIAL.match(line)
        if special:
            section = cloudinit if special[1].lower() == "cloudinit" else None
            continue
        head = _SNAPSHOT.match(line)
        if head:
            section = snapshots.setdefault(head[1], _Section())
            continue
        if section is None:
            continue
        if line.startswith("#"):
            section.description.append(urllib.parse.unquote(line[1:]))
            continue
        raw = _RAW.match(line)
        if raw:
            section.raw.append((raw[1], raw[2]))
            continue
        described = _DESCRIPTION.match(line)
        if described:
            section.description.append(urllib.parse.unquote(described[1]))
            continue
        pair = _KEY.match(line)
        if pair:
            section.options[pair[1]] = pair[2]
    current = dict(main.options)
    if main.description:
        current["description"] = _description(main.description, container=container)
    current.update((k, v) for k, v in pending.options.items() if k != "delete")
    for key in _pending_deletes(pending.options.get("delete", "")):
        current.pop(key, None)
    current.update((k, v) for k, v in _MASKED.items() if k in current)
    deleted = _pending_deletes(pending.options.get("delete", ""))
    waiting = sorted({k for k in pending.options if k != "delete"} | set(deleted))
    return ConfFile(
        GuestConfigText(current, tuple(main.raw)),
        _snapshot_tree(snapshots),
        tuple(waiting),
        _cloudinit_keys(cloudinit.options),
    )


def _cloudinit_keys(section: dict[str, str]) -> tuple[str, ...]:
    """The keys ``[special:cloudinit]`` records: its own keys, and those ``added`` lists
    (pve-common src/PVE/ParseUtils.pm split_list: separated by ``,``, ``;`` or spaces)."""
    added = re.split(r"[,;\s]+", section.get("added", "").strip())
    return tuple(sorted({k for k in section if k != "added"} | {k for k in added if k}))


def _pending_deletes(value: str) -> list[str]:
    """AbstractConfig parse_pending_delete: separated by ``,``, ``;`` or spaces, ``!`` forces."""
    return [entry.lstrip("!") for entry in re.split(r"[,;\s]+", value) if entry]


def _snapshot_tree(sections: dict[str, _Section]) -> tuple[Snapshot, ...]:
    """Snapshots with their depth in the parent tree, parents first (as listsnapshot lists)."""

    def depth(name: str) -> int:
        seen = set()
        level = 0
        parent = sections[name].options.get("parent")
        while parent in sections and parent not in seen:
            seen.add(parent)
            level += 1
            parent = sections[parent].options.get("parent")
        return level

    ordered = sorted(sections, key=lambda n: (depth(n), sections[n].options.get("snaptime", "")))
    return tuple(
        Snapshot(name, depth(name), None, "\n".join(sections[name].description)) for name in ordered
    )


# -- firewall ------------------------------------------------------------------------------

_FW_SECTION = re.compile(r"^\[(\w+)(?:\s+\S+)?\]", re.IGNORECASE)
_RULE_HEAD = re.compile(r"^(\S+)\s+(\S+)\s*")
_MACRO = re.compile(r"^(\S+)\((ACCEPT|DROP|REJECT)\)$")
_RULE_FLAGS = (
    (re.compile(r"^-i (\S+)\s*"), "iface"),
    (re.compile(r"^(?:-p|--?proto) (\S+)\s*"), "proto"),
    (re.compile(r"^--?dport (\S+)\s*"), "dport"),
    (re.compile(r"^--?sport (\S+)\s*"), "sport"),
    (re.compile(r"^--?source (\S+)\s*"), "source"),
    (re.compile(r"^--?dest (\S+)\s*"), "dest"),
    (
        re.compile(r"^--?log (emerg|alert|crit|err|warning|notice|info|debug|nolog)\s*"),
        "log",
    ),
    (re.compile(r"^--?icmp-type (\S+)\s*"), "icmp-type"),
)


@attrs.frozen
class FirewallFile:
    """What ``pvesh get .../firewall/options`` and ``.../firewall/rules`` answer."""

    options: dict[str, str]
    rules: list[dict[str, Any]]


def parse_firewall(text: str) -> FirewallFile:
    """Raises :class:`FileFormatError` on a line parse_fw_rule or parse_vmfw_option refuses."""
    options: dict[str, str] = {}
    rules: list[dict[str, Any]] = []
    section = ""
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        head = _FW_SECTION.match(line)
        if head:
            section = head[1].lower()
            continue
        if section == "options":
            key, sep, value = line.partition(":")
            if not sep:
                raise FileFormatError(f"can't parse option {line!r}")
            options[key.strip().lower()] = value.strip()
        elif section == "rules":
            rules.append({**parse_rule(line), "pos": len(rules)})
    return FirewallFile(options, rules)


def parse_rule(line: str) -> dict[str, Any]:
    """One ``[RULES]`` line as parse_fw_rule reads it."""
    rule: dict[str, Any] = {}
    body, sep, comment = line.partition("#")
    if sep and comment.strip():
        rule["comment"] = comment.strip()
    rest = body.strip()
    rule["enable"] = 0 if rest.startswith("|") else 1
    rest = rest.removeprefix("|")
    head = _RULE_HEAD.match(rest)
    if not head:
        raise FileFormatError(f"unable to parse rule: {line!r}")
    rule["type"], rule["action"] = head[1].lower(), head[2]
    macro = _MACRO.match(rule["action"])
    if rule["type"] in ("in", "out", "forward") and macro:
        rule["macro"], rule["action"] = macro[1], macro[2]
    rest = rest[head.end() :]
    while rest:
        for pattern, key in _RULE_FLAGS:
            match = pattern.match(rest)
            if match and (key == "iface" or rule["type"] != "group"):
                rule[key] = match[1]
                rest = rest[match.end() :]
                break
        else:
            raise FileFormatError(f"unable to parse rule parameters: {rest!r}")
    return rule


# -- users and ACL ---------------------------------------------------------------------------


@attrs.frozen
class UserConfig:
    """The user ids, and each ACL entry as ``(path, user or @group, role)``."""

    users: frozenset[str]
    acl: frozenset[tuple[str, str, str]]


def parse_user_cfg(text: str) -> UserConfig:
    """``user:<userid>:...`` and ``acl:<propagate>:<path>:<members>:<roles>:`` lines (a
    line's members and roles are comma lists: every member holds every role)."""
    users: set[str] = set()
    acl: set[tuple[str, str, str]] = set()
    for line in text.splitlines():
        fields = line.strip().split(":")
        if fields[0] == "user" and len(fields) > 1:
            users.add(fields[1])
        elif fields[0] == "acl" and len(fields) > 4:
            _, _propagate, path, members, roles = fields[:5]
            acl |= {(path, m, r) for m in members.split(",") if m for r in roles.split(",") if r}
    return UserConfig(frozenset(users), frozenset(acl))


# -- pmxcfs's status files and storage.cfg ---------------------------------------------------


@attrs.frozen
class ListedGuest:
    """One entry of ``.vmlist``: the node the guest is on and its type (``lxc``/``qemu``)."""

    node: str
    type: str


def parse_vmlist(text: str) -> dict[int, ListedGuest]:
    """``/etc/pve/.vmlist``: pve-cluster src/pmxcfs/status.c cfs_create_vmlist_msg writes
    ``{"version": N, "ids": {"<vmid>": {"node": ..., "type": ..., "version": N}}}`` (JSON, as
    PVE/Cluster.pm get_vmlist decodes the same message); raises :class:`FileFormatError`."""
    try:
        data = json.loads(text)
        return {
            int(vmid): ListedGuest(str(entry["node"]), str(entry["type"]))
            for vmid, entry in (data.get("ids") or {}).items()
        }
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise FileFormatError(f"unreadable .vmlist: {exc}") from exc


def parse_members(text: str) -> str:
    """The node's own name from ``/etc/pve/.members`` (status.c cfs_create_memberlist_msg:
    ``"nodename"`` on every node, clustered or not); raises :class:`FileFormatError`."""
    try:
        name = json.loads(text)["nodename"]
    except (ValueError, TypeError, KeyError) as exc:
        raise FileFormatError(f"unreadable .members: {exc}") from exc
    if not isinstance(name, str) or not name:
        raise FileFormatError(".members names no node")
    return name


_SECTION_HEAD = re.compile(r"^(\S+):\s*(\S+)\s*$")
_SECTION_LINE = re.compile(r"^\s+(\S+)(?:\s+(.*\S))?\s*$")
#: pve-storage src/PVE/Storage/Plugin.pm @SHARED_STORAGE: parse_config sets ``shared``.
_SHARED = frozenset({"iscsi", "nfs", "cifs", "rbd", "cephfs", "iscsidirect", "zfs", "drbd", "pbs"})
#: Plugin.pm parse_config: the ``local`` storage every node has, when the file lacks it.
_LOCAL = {
    "type": "dir",
    "path": "/var/lib/vz",
    "prune-backups": "keep-all=1",
    "content": "backup,images,iso,rootdir,snippets,vztmpl",
}


def parse_storage_cfg(text: str) -> list[dict[str, Any]] | None:
    """``/etc/pve/storage.cfg`` as ``pvesh get /storage`` lists it: one dict per storage with
    ``storage``, ``type`` and its options. Read as pve-common src/PVE/SectionConfig.pm
    parse_config reads it (``<type>: <id>`` heads a section, indented ``key value`` lines
    follow, a blank line ends it, ``#`` lines are skipped; a key without a value is a set
    flag), then pve-storage src/PVE/Storage/Plugin.pm parse_config's additions (the
    ``local`` dir storage, ``shared`` for network types). None when a storage has no
    ``content`` line (its type's default content is the plugin's, which only the API knows)."""
    storages: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if not line.strip():
            current = None
            continue
        head = _SECTION_HEAD.match(line) if current is None else None
        if head:
            current = storages.setdefault(head[2], {"storage": head[2], "type": head[1]})
            continue
        pair = _SECTION_LINE.match(line) if current is not None else None
        if pair:
            current[pair[1]] = pair[2] if pair[2] is not None else 1  # type: ignore[index]
    local = storages.get("local")
    if local is None or local["type"] != "dir" or local.get("path", "/var/lib/vz") != "/var/lib/vz":
        storages["local"] = {"storage": "local", **_LOCAL}
    storages["local"].setdefault("path", "/var/lib/vz")
    storages["local"].pop("nodes", None)
    for store in storages.values():
        if store["type"] in _SHARED:
            store["shared"] = 1
        if "content" not in store:
            return None
    return list(storages.values())
