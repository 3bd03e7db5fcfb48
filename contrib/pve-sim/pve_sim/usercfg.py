"""DIR/etc/pve/user.cfg: the Proxmox users and ACL entries as pve-access-control keeps them.

The simulator keeps users and ACL entries in the host state (``tool_pveum``); after each
change the file is rewritten as pve-access-control src/PVE/AccessControl.pm
write_user_config writes it: ``user:<userid>:<enable>:<expire>:<firstname>:<lastname>:<email>:
<comment>:<keys>:`` lines (the comment through encode_text), blank lines for the groups, pools
and roles this simulator has none of, then ``acl:<propagate>:<path>:<members>:<roles>:``,
members sharing one role list on one line, ``root@pam`` left out ("no need to save
'root@pam', it is always 'Administrator'").
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from . import conffile
from .node import Node

#: pve-common src/PVE/ParseUtils.pm encode_text: control and hi-bit characters, ':' and '%'.
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "%:")


def text(users: dict[str, dict[str, Any]], acl: list[tuple[str, str, str]]) -> str:
    data = ""
    for userid in sorted(users):
        entry = users[userid]
        comment = urllib.parse.quote(str(entry.get("comment") or ""), safe=_SAFE)
        enable = 1 if entry.get("enable", 1) else 0
        expire = int(entry.get("expire") or 0)
        data += f"user:{userid}:{enable}:{expire}:::{entry.get('email') or ''}:{comment}::\n"
    data += "\n\n\n\n"
    for path in sorted({p for p, _, _ in acl}, key=lambda p: (p != "/", p)):
        roles: dict[str, set[str]] = {}
        for where, user, role in acl:
            if where == path and user != "root@pam":
                roles.setdefault(user, set()).add(role)
        members: dict[str, list[str]] = {}
        for user, held in roles.items():
            members.setdefault(",".join(sorted(held)), []).append(user)
        for rolelist in sorted(members):
            data += f"acl:1:{path}:{','.join(sorted(members[rolelist]))}:{rolelist}:\n"
    return data


def write(node: Node) -> None:
    conffile.write_file(node.pve_etc / "user.cfg", text(node.host.pve_users, node.host.acl))
