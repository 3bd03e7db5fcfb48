"""``samba``: the shares in a phoenix-owned include file, and the Samba user.

``/etc/samba/smb.conf`` belongs to the administrator (and to Debian's package): phoenix adds
one ``include`` line inside its marked block and nothing else (the old tool rewrote the whole
file, ignoring each share's ``options``). The Samba password comes from the configuration's
secret file (``samba.password_file``, read on the workstation) and reaches ``smbpasswd`` on
stdin; it is never on a command line, in a log, or in code (the old tool hard-coded one).
A missing password file fails the feature: setup never prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from phoenix_core.logs import register_secrets
from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import FeatureFailed, HostContext
from phoenix_hypervisor.hostfs import HEADER, with_block
from phoenix_hypervisor.model import Samba

SMB_CONF = "/etc/samba/smb.conf"
SHARES = "/etc/samba/phoenix-shares.conf"


def shares_text(samba: Samba) -> str:
    out = [HEADER]
    for share in samba.shares:
        out.append(f"\n[{share.name}]\n   path = {share.absolute}\n")
        if share.valid_users:
            out.append(f"   valid users = {' '.join(share.valid_users)}\n")
        for option in share.options.split():
            key, _, value = option.partition("=")
            out.append(f"   {key} = {value}\n")
        out.append("   create mask = 0770\n   directory mask = 0770\n")
    return "".join(out)


def shares_step(ctx: HostContext, samba: Samba) -> Step:
    include = f"   include = {SHARES}"

    def check() -> list[Change]:
        changes = []
        have = ctx.files.read(SHARES)
        wanted = shares_text(samba)
        if have != wanted:
            names = ", ".join(s.name for s in samba.shares)
            changes.append(
                Change(SHARES, "missing" if have is None else "differs", names, (SHARES, wanted))
            )
        conf = ctx.files.read(SMB_CONF)
        edited = with_block(conf, include)
        if conf != edited:
            changes.append(
                Change(f"{SMB_CONF} phoenix block", None, include.strip(), (SMB_CONF, edited))
            )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            path, text = change.data
            ctx.files.write(path, text)
        ctx.change(["systemctl", "reload", "smbd.service"])

    return Step("samba: shares", check, apply)


def password(ctx: HostContext, samba: Samba) -> str:
    path = Path(samba.password_file)
    if not path.is_absolute():
        path = Path(ctx.config.directory) / path
    try:
        secret = path.read_text().strip("\n")
    except FileNotFoundError:
        raise FeatureFailed(
            f"samba user {samba.user}: no password; put it in {path} (mode 0600). "
            "setup never prompts"
        ) from None
    if not secret or "\n" in secret:
        raise FeatureFailed(f"samba user {samba.user}: {path} must hold one non-empty line")
    # Scrubbed from every log line and error text from now on, like the files' secrets.
    register_secrets({"samba_password": secret})
    return secret


def user_step(ctx: HostContext, samba: Samba) -> Step:
    def check() -> list[Change]:
        changes = []
        if ctx.query(["getent", "passwd", samba.user]).returncode == 2:
            changes.append(
                Change(f"account {samba.user}", None, "created (no login shell)", "account")
            )
        users = {
            line.split(":", 1)[0]
            for line in ctx.query(["pdbedit", "-L"]).check().stdout.splitlines()
        }
        if samba.user not in users:
            password(ctx, samba)  # a missing secret fails the plan too, not only the run
            changes.append(Change(f"samba user {samba.user}", None, "added", "samba"))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        kinds = {c.data for c in changes}
        secret = password(ctx, samba) if "samba" in kinds else ""
        if "account" in kinds:
            ctx.change(["useradd", "-m", "-s", "/usr/sbin/nologin", samba.user])
        if "samba" in kinds:
            ctx.change(["smbpasswd", "-s", "-a", samba.user], input=f"{secret}\n{secret}\n")

    return Step("samba: user", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    samba = ctx.spec.samba
    if samba is None or not samba.shares:
        return []
    return [user_step(ctx, samba), shares_step(ctx, samba)]
