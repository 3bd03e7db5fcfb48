"""`pveum user list|add` and `pveum acl list|modify` (pve-access-control PVE/CLI/pveum.pm).

Users and ACL entries live in the host state; `--output-format json` prints what the API
returns (PVE::API2::User index, PVE::API2::ACL read_acl), `text` a plain table.
"""

from __future__ import annotations

import json

from . import usercfg
from .argv import Args
from .common import Verb
from .hoststate import HostState
from .node import Node
from .result import CliError, Result, lines

ROLES = {"Administrator", "PVEAdmin", "PVEAuditor", "PVEVMAdmin", "PVEVMUser", "NoAccess"}


def _state(node: Node) -> HostState:
    return node.host


def _print(args: Args, data: list[dict[str, object]], keys: tuple[str, ...]) -> Result:
    if args.get("output-format") in ("json", "json-pretty"):
        return Result(0, json.dumps(data) + "\n")
    return Result(0, lines(" ".join(str(row.get(k, "")) for k in keys) for row in data))


def _userid(text: str) -> str:
    # pve-access-control PVE/Auth/Plugin.pm verify_username: name@realm, realm known.
    name, at, realm = text.rpartition("@")
    if not at or not name or realm not in ("pam", "pve") or any(c in name for c in ":/ "):
        raise CliError(
            f"400 Parameter verification failed.\nuserid: value '{text}' does not look like a "
            "valid user name\n"
        )
    return text


async def user_list(node: Node, args: Args) -> Result:
    users = [dict(v) for _, v in sorted(_state(node).pve_users.items())]
    return _print(args, users, ("userid", "enable", "expire"))


async def user_add(node: Node, args: Args) -> Result:
    state = _state(node)
    userid = _userid(args.positional[0])
    if userid in state.pve_users:
        raise CliError(f"create user failed: user '{userid}' already exists")
    entry: dict[str, object] = {"userid": userid, "enable": 1, "expire": 0}
    if args.get("comment"):
        entry["comment"] = args.get("comment")
    state.pve_users[userid] = entry
    usercfg.write(node)
    return Result()


async def acl_list(node: Node, args: Args) -> Result:
    rows = [
        {"path": p, "type": "user", "ugid": u, "roleid": r, "propagate": 1}
        for p, u, r in _state(node).acl
    ]
    return _print(args, rows, ("path", "type", "ugid", "roleid", "propagate"))


async def acl_modify(node: Node, args: Args) -> Result:
    """`pveum acl modify PATH --users U --roles R` (PVE::API2::ACL update_acl)."""
    state = _state(node)
    path, users, roles = args.positional[0], args.get("users"), args.get("roles")
    if not roles:
        raise CliError("400 Parameter verification failed.\nroles: property is missing\n")
    for role in roles.split(","):
        if role not in ROLES:
            raise CliError(f"update ACL failed: role '{role}' does not exist")
    for user in (users or "").split(","):
        if user not in state.pve_users:
            raise CliError(f"update ACL failed: user '{user}' does not exist")
        for role in roles.split(","):
            if (path, user, role) not in state.acl:
                state.acl.append((path, user, role))
    usercfg.write(node)
    return Result()


VERBS: dict[str, Verb] = {
    "user list": Verb(user_list, False),
    "user add": Verb(user_add, True, ("userid",)),
    "acl list": Verb(acl_list, False),
    "acl modify": Verb(acl_modify, True, ("path",)),
}
