"""``users``: the admin account (``users.username``), its sudo rights, and its Proxmox user.

Sudo goes through a phoenix-owned ``/etc/sudoers.d/phoenix-<user>`` (mode 0440), checked with
``visudo -cf`` before it is moved into place, so a bad file can never lock sudo out (the old
tool appended to ``/etc/sudoers`` itself). Proxmox VE ships without ``sudo`` (and so without
``visudo``): the ``packages`` feature installs it, and the rule is never written without it. The Proxmox user is ``<user>@pam`` with the
Administrator role on ``/``. No step ever prompts (the old tool asked for a password).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import FeatureFailed, HostContext
from phoenix_hypervisor.features.packages import installed
from phoenix_hypervisor.hostfs import HEADER, with_block
from phoenix_hypervisor.model import Users
from phoenix_pve import etcpve

ROLE = "Administrator"
#: pve-access-control src/PVE/AccessControl.pm: cfs_register_file('user.cfg', ...).
USER_CFG = "/etc/pve/user.cfg"


def sudoers_path(name: str) -> str:
    return f"/etc/sudoers.d/phoenix-{name}"


#: What the node lacks when ``sudo`` is missing, and the command that installs it.
NO_SUDO = (
    "sudo is not installed (Proxmox VE ships without it): `phoenix setup packages` installs it"
)


def sudo_missing(ctx: HostContext) -> bool:
    return "sudo" not in installed(ctx, ["sudo"])


def sudo_rule(name: str) -> str:
    """The one line phoenix's sudoers file grants: every command as any user."""
    return f"{name} ALL=(ALL:ALL) ALL"


def account_step(ctx: HostContext, users: Users) -> Step:
    name = users.username

    def check() -> list[Change]:
        changes = []
        if ctx.query(["getent", "passwd", name]).returncode == 2:
            changes.append(Change(f"account {name}", None, "created", "account"))
        if users.sudo_access:
            group = ctx.query(["getent", "group", "sudo"]).stdout.strip()
            members = group.split(":")[3].split(",") if group.count(":") >= 3 else []
            if name not in members:
                changes.append(Change(f"{name} in group sudo", "no", "yes", "sudo"))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        kinds = {c.data for c in changes}
        if "account" in kinds:
            ctx.change(["useradd", "-m", "-s", "/bin/bash", name])
        if "sudo" in kinds:
            ctx.change(["usermod", "-aG", "sudo", name])

    return Step("users: account", check, apply)


def sudoers_step(ctx: HostContext, users: Users) -> Step:
    path = sudoers_path(users.username)
    wanted = f"{HEADER}{sudo_rule(users.username)}\n" if users.sudo_access else None

    def check() -> list[Change]:
        have = ctx.files.read(path)
        if have == wanted:
            return []
        return [
            Change(
                path,
                None if have is None else "differs",
                "removed" if wanted is None else "sudo ALL",
            )
        ]

    def apply(changes: Sequence[Change]) -> None:
        target = ctx.files.path(path)
        if wanted is None:
            ctx.change(["rm", "-f", "--", target])
            return
        if sudo_missing(ctx):
            raise FeatureFailed(f"{path} not written: {NO_SUDO}")
        # sudo skips files whose name holds a dot, so the candidate is inert until moved.
        candidate = ctx.files.path(f"/etc/sudoers.d/.phoenix-{users.username}.new")
        ctx.host.write_file(candidate, wanted.encode(), mode=0o440)
        ctx.change(["visudo", "-cf", candidate])
        ctx.change(["mv", "-f", "--", candidate, target])

    return Step("users: sudoers", check, apply)


def known(ctx: HostContext) -> tuple[frozenset[str], frozenset[tuple[str, str, str]]]:
    """The Proxmox users and ACL entries, from ``/etc/pve/user.cfg`` (a file read, no Perl
    start-up); from ``pveum`` only when the file is missing."""
    text = ctx.files.read(USER_CFG)
    if text is not None:
        parsed = etcpve.parse_user_cfg(text)
        return parsed.users, parsed.acl
    listed = ctx.query(["pveum", "user", "list", "--output-format", "json"]).check()
    acl = ctx.query(["pveum", "acl", "list", "--output-format", "json"]).check()
    return frozenset(u.get("userid") for u in json.loads(listed.stdout or "[]")), frozenset(
        (a.get("path"), a.get("ugid"), a.get("roleid")) for a in json.loads(acl.stdout or "[]")
    )


def pve_step(ctx: HostContext, users: Users) -> Step:
    userid = f"{users.username}@pam"

    def check() -> list[Change]:
        changes = []
        users, entries = known(ctx)
        if userid not in users:
            changes.append(Change(f"Proxmox user {userid}", None, "added", "user"))
        if ("/", userid, ROLE) not in entries:
            changes.append(Change(f"{userid} role on /", None, ROLE, "acl"))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        kinds = {c.data for c in changes}
        if "user" in kinds:
            ctx.change(["pveum", "user", "add", userid, "--comment", "managed by phoenix"])
        if "acl" in kinds:
            ctx.change(["pveum", "acl", "modify", "/", "--users", userid, "--roles", ROLE])

    return Step("users: Proxmox user", check, apply)


def keys_step(ctx: HostContext, users: Users) -> Step:
    """``ssh_public_key`` in the user's ``~/.ssh/authorized_keys``, inside phoenix's marked
    block (the user's own keys stay), the directory 0700 and the file 0600, owned by the user."""
    name = users.username

    def account() -> list[str]:
        """``getent passwd`` fields: name, x, uid, gid, gecos, home, shell."""
        entry = ctx.query(["getent", "passwd", name]).stdout.strip().split(":")
        return entry if len(entry) > 5 else [name, "x", "", "", "", f"/home/{name}", ""]

    def check() -> list[Change]:
        path = f"{account()[5]}/.ssh/authorized_keys"
        have = ctx.files.read(path)
        edited = with_block(have, users.ssh_public_key)
        if have == edited:
            return []
        shown = users.ssh_public_key.split()[0]
        return [
            Change(
                f"{path} phoenix block", None if have is None else "differs", shown, (path, edited)
            )
        ]

    def apply(changes: Sequence[Change]) -> None:
        path, text = changes[0].data
        directory = path.rsplit("/", 1)[0]
        ctx.ensure_dir(directory)
        ctx.change(["chmod", "0700", "--", ctx.files.path(directory)])
        ctx.files.write(path, text, mode=0o600)
        # By number: the ids the node's own account database gave (names resolve there).
        fields = account()
        ctx.change(["chown", "-R", f"{fields[2]}:{fields[3]}", "--", ctx.files.path(directory)])

    return Step("users: authorized keys", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    users = ctx.spec.users
    if users is None:
        return []
    found = [account_step(ctx, users), sudoers_step(ctx, users), pve_step(ctx, users)]
    if users.ssh_public_key:
        found.append(keys_step(ctx, users))
    return found
