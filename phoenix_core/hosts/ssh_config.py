"""``~/.ssh/config`` options merged with an address into a connection :class:`Target`.

Pure Python: ``ssh.py`` parses the file with ``paramiko.SSHConfig`` (which implements OpenSSH's
matching rules) and hands the looked-up options here, so the merge rules are testable without
paramiko and paramiko stays imported by ``ssh.py`` only.
"""

from __future__ import annotations

import getpass
import os

import attrs

from phoenix_core.hosts.known_hosts import host_pattern

DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts",)
GLOBAL_KNOWN_HOSTS = ("/etc/ssh/ssh_known_hosts",)


@attrs.frozen
class Target:
    """Where and how to connect, after ``~/.ssh/config`` and explicit arguments are merged."""

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    proxy_jump: tuple[str, ...] = ()
    proxy_command: str | None = None
    known_hosts: tuple[str, ...] = DEFAULT_KNOWN_HOSTS
    hash_known_hosts: bool = False
    accept_new: bool = False
    host_key_alias: str | None = None

    @property
    def label(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"

    @property
    def key_name(self) -> str:
        """The name the node's key is filed under in known_hosts."""
        return self.host_key_alias or host_pattern(self.hostname, self.port)


def merge(host: str, options: dict, *, user: str | None = None, port: int | None = None) -> Target:
    """Merge the ``ssh_config`` options for ``host`` with explicit values, which win (as in ssh).

    ``StrictHostKeyChecking accept-new`` (or ``no``) counts as opting in to recording new keys;
    nothing in the config makes a *changed* key acceptable.
    """

    def listed(key: str) -> tuple[str, ...]:
        value = options.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else str(value).split()
        return tuple(os.path.expanduser(v) for v in items)

    jump = str(options.get("proxyjump", "")).strip()
    jumps = tuple(j for j in jump.split(",") if j) if jump.lower() != "none" else ()
    command = options.get("proxycommand")
    known = listed("userknownhostsfile") or DEFAULT_KNOWN_HOSTS
    return Target(
        alias=host,
        hostname=options.get("hostname", host),
        port=port or int(options.get("port", 22)),
        user=user or options.get("user") or getpass.getuser(),
        identity_files=listed("identityfile"),
        identities_only=str(options.get("identitiesonly", "no")).lower() == "yes",
        proxy_jump=jumps,
        proxy_command=command if command and command.lower() != "none" and not jumps else None,
        known_hosts=(*known, *(listed("globalknownhostsfile") or GLOBAL_KNOWN_HOSTS)),
        hash_known_hosts=str(options.get("hashknownhosts", "no")).lower() == "yes",
        accept_new=str(options.get("stricthostkeychecking", "")).lower() in ("accept-new", "no"),
        host_key_alias=options.get("hostkeyalias"),
    )
