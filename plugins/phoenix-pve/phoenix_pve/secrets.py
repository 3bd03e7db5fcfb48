"""Secrets a guest's configuration names by file on the workstation: root's password and its
SSH public keys. They are read when a command needs them and handed to the node on stdin or in
a private file (:func:`phoenix_pve.shell.private_file`), never on a command line, in a log or
in JSON.

A password file must be readable by its owner alone (mode 0600 or stricter), as OpenSSH asks of
a private key: a file others can read has leaked already.
"""

from __future__ import annotations

import os
import stat
from typing import Protocol

from phoenix_core.errors import PhoenixError

#: pve-container API2/LXC.pm create_vm: ``password`` has minLength 5.
PASSWORD_MIN = 5


def password(path: str) -> str:
    """The first line of the password file, after checking its mode."""
    try:
        info = os.stat(path)
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise PhoenixError(
                f"root_password_file {path} is mode {stat.S_IMODE(info.st_mode):04o}: "
                "make it readable by its owner only (chmod 600)"
            )
        with open(path, encoding="utf-8") as handle:
            line = handle.readline().rstrip("\r\n")
    except OSError as exc:
        raise PhoenixError(f"root_password_file: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PhoenixError(f"root_password_file {path} is not UTF-8 text") from None
    if len(line) < PASSWORD_MIN:
        raise PhoenixError(
            f"root_password_file {path}: Proxmox takes a password of at least "
            f"{PASSWORD_MIN} characters (on the file's first line)"
        )
    return line


def public_keys(path: str) -> str:
    """The key file's non-empty lines, one per line."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.strip() for line in handle]
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PhoenixError(f"ssh_public_keys_file: cannot read {path}: {reason}") from None
    return "".join(f"{line}\n" for line in lines if line)


class SecretFiles(Protocol):
    """What a spec names (``root_password_file``, ``ssh_public_keys_file``)."""

    @property
    def root_password_file(self) -> str | None: ...
    @property
    def ssh_public_keys_file(self) -> str | None: ...


def check_files(spec: SecretFiles) -> None:
    """Read both files once so ``plan`` reports a missing or too open one; nothing is kept."""
    if spec.root_password_file:
        password(spec.root_password_file)
    if spec.ssh_public_keys_file:
        public_keys(spec.ssh_public_keys_file)
