"""Establishing a verified SSH connection: ``~/.ssh/config``, the host-key policy, the socket.

Split from :mod:`phoenix_core.hosts.ssh` (which runs commands over the connection); like it,
this module imports paramiko and is only imported when an SSH host is used.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket

import paramiko

from phoenix_core.errors import HostError
from phoenix_core.hosts.known_hosts import KnownHosts, Verdict, fingerprint
from phoenix_core.hosts.ssh_config import Target, merge

DEFAULT_SSH_CONFIG = "~/.ssh/config"

# paramiko logs transport failures itself; without a handler Python would print them to the
# terminal next to our own one-line HostError. The engine's log gets our message instead.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def resolve(
    host: str,
    *,
    user: str | None = None,
    port: int | None = None,
    ssh_config: str | None = DEFAULT_SSH_CONFIG,
) -> Target:
    """Look ``host`` up in ``~/.ssh/config`` (if any) and merge it with the explicit values."""
    options: dict = {}
    path = os.path.expanduser(ssh_config) if ssh_config else None
    if path and os.path.exists(path):
        try:
            options = paramiko.SSHConfig.from_path(path).lookup(host)
        except Exception as exc:  # paramiko raises several types for a bad config
            raise HostError(f"cannot read ssh config {path}: {exc}") from None
    return merge(host, options, user=user, port=port)


def _key_type(blob: bytes) -> str:
    """The key type named inside an SSH public key blob (RSA keys say ``ssh-rsa`` here)."""
    size = int.from_bytes(blob[:4], "big")
    return blob[4 : 4 + size].decode("ascii", "replace")


class KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Verify every server key against known_hosts ourselves, like OpenSSH does.

    The client is given no host keys of its own, so paramiko hands every key to this policy;
    that keeps one code path for known, unknown, changed and revoked keys and lets the error
    name the file and line of a changed key.
    """

    def __init__(self, known: KnownHosts, name: str, *, accept_new: bool) -> None:
        self.known = known
        self.name = name
        self.accept_new = accept_new
        self.recorded: str | None = None

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey):
        blob = key.asbytes()
        key_type = _key_type(blob)
        shown = f"{key_type.removeprefix('ssh-').upper()} key {fingerprint(blob)}"
        lookup = self.known.check(self.name, key_type, blob)
        if lookup.verdict is Verdict.KNOWN:
            return
        if lookup.verdict is Verdict.REVOKED:
            entry = lookup.entry
            raise HostError(
                f"host key for {self.name} ({shown}) is marked @revoked in "
                f"{entry.path}:{entry.line}; refusing to connect"
            )
        if lookup.verdict is Verdict.CHANGED:
            entry = lookup.entry
            raise HostError(
                f"HOST KEY FOR {self.name} HAS CHANGED: the node offered {shown}, but "
                f"{entry.path} line {entry.line} holds a different key (possible "
                f"man-in-the-middle); if the node was reinstalled, remove the old key with "
                f"`ssh-keygen -R {shlex.quote(self.name)} -f {shlex.quote(entry.path)}` and rerun"
            )
        if not self.accept_new:
            host, _, port = self.name.strip("[").partition("]:")
            scan = shlex.join(["ssh-keyscan", *(["-p", port] if port else []), host])
            raise HostError(
                f"host key for {self.name} is not known ({shown}); verify it, then rerun with "
                f"--accept-new-host-keys or add it with `{scan} >> {self.known.paths[0]}`"
            )
        self.recorded = self.known.add(self.name, key_type, blob)
        from phoenix_core.logs import logger

        logger.warning("added host key for {} ({}) to {}", self.name, shown, self.recorded)


def dial(target: Target, timeout: float) -> socket.socket | paramiko.ProxyCommand:
    """Open the TCP connection (or ProxyCommand) with TCP_NODELAY: commands are tiny messages."""
    if target.proxy_command:
        return paramiko.ProxyCommand(target.proxy_command)
    sock = socket.create_connection((target.hostname, target.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def connect_error(target: Target, exc: BaseException) -> HostError:
    """One line saying why the connection failed, for the run's exit message."""
    where = f"cannot connect to {target.label}"
    if isinstance(exc, paramiko.AuthenticationException):
        return HostError(
            f"authentication failed for {target.label} (tried the SSH agent and key files; "
            "check the user, IdentityFile in ~/.ssh/config, or `ssh-add`)"
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return HostError(f"{where}: timed out")
    if isinstance(exc, socket.gaierror):
        return HostError(f"{where}: cannot resolve {target.hostname} ({exc.strerror})")
    if isinstance(exc, ConnectionRefusedError):
        return HostError(f"{where}: connection refused (is sshd running on port {target.port}?)")
    if isinstance(exc, OSError) and exc.strerror:
        return HostError(f"{where}: {exc.strerror}")
    if "protocol banner" in str(exc):
        return HostError(f"{where}: timed out waiting for the SSH banner (is this an SSH server?)")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return HostError(f"{where}: SSH handshake failed: {detail}")
