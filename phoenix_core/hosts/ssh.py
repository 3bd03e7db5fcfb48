"""Run commands on a Proxmox node over SSH with paramiko: one connection per node, reused.

This is the only module that imports paramiko, and it is itself imported lazily by the host
pool, so ``phoenix --help`` and local runs never pay for (or need) paramiko.

Why paramiko rather than one ``ssh`` process per command: a converge runs hundreds of short
queries, and a new SSH handshake per command costs tens of milliseconds where a
new channel on an open connection costs about one round trip (see ``bench/ssh_overhead.py``).

Security mirrors OpenSSH: ``~/.ssh/config`` is honoured, host keys are checked against
known_hosts by :class:`KnownHostsPolicy` (unknown keys are refused unless the user opted in,
changed keys always are), and commands are built with ``shlex.join`` only.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import re
import secrets
import select
import shlex
import stat
import tarfile
import threading
import time
from collections.abc import Sequence

import attrs
import paramiko
from paramiko.sftp import CMD_HANDLE, CMD_OPEN, SFTP_FLAG_CREATE, SFTP_FLAG_EXCL, SFTP_FLAG_WRITE

from phoenix_core import interrupt
from phoenix_core.errors import CommandFailed, HostError
from phoenix_core.hosts.base import DEFAULT_TIMEOUT, BaseHost, CommandResult
from phoenix_core.hosts.known_hosts import KnownHosts, preferred_algorithms
from phoenix_core.hosts.ssh_config import Target
from phoenix_core.hosts.ssh_connect import (
    DEFAULT_SSH_CONFIG,
    KnownHostsPolicy,
    connect_error,
    dial,
    resolve,
)

_CHUNK = 1 << 16
#: ``sh -c`` program for :meth:`SSHHost.read_files`: the arguments that exist, archived by tar
#: into one stream. GNU tar is on every Debian system (``Essential: yes`` in Debian's tar
#: package), so on every Proxmox VE node; ``-h`` archives what a symlink names. pmxcfs reports
#: each file's true size and one link (pve-cluster src/pmxcfs/cfs-plug-memdb.c
#: tree_entry_stat; cfs-plug-func.c cfs_plug_func_getattr for ``.vmlist`` and ``.members``,
#: whose read returns what that getattr produced), so tar reads each whole, as a plain file.
_ARCHIVE = (
    'for f do shift; if [ -e "$f" ]; then set -- "$@" "$f"; fi; done; '
    '[ "$#" -eq 0 ] || exec tar -chf - -- "$@"'
)
_JUMP = re.compile(
    r"^(?:ssh://)?(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:@\s]+)(?::(?P<port>\d+))?$"
)


def remote_command(argv: Sequence[str], *, sudo: bool = False) -> str:
    """The one command line sent to the node: ``[sudo -n] env LC_ALL=C argv...``, shell-quoted.

    The SSH protocol carries a string that the remote login shell parses, so every argument is
    quoted with ``shlex.join``; nothing else ever builds a command string. ``env LC_ALL=C`` keeps
    the Proxmox tools' messages in English (sshd may forward the user's locale otherwise), and
    ``sudo -n`` fails at once instead of hanging on a password prompt.
    """
    prefix = ["sudo", "-n"] if sudo else []
    return shlex.join([*prefix, "env", "LC_ALL=C", *argv])


class SSHHost(BaseHost):
    """A Proxmox node reached over one SSH connection, opened in the constructor.

    ``known_hosts``, ``ssh_config``, ``identity_files``, ``allow_agent`` and ``look_for_keys``
    default to what ``ssh`` would use; tests and the benchmark pass their own.
    """

    def __init__(
        self,
        host: str,
        *,
        user: str | None = None,
        port: int | None = None,
        sudo: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = 10.0,
        accept_new_host_keys: bool = False,
        ssh_config: str | None = DEFAULT_SSH_CONFIG,
        known_hosts: Sequence[str] | None = None,
        identity_files: Sequence[str] = (),
        allow_agent: bool = True,
        look_for_keys: bool = True,
    ) -> None:
        super().__init__(timeout=timeout)
        #: The same node again, on a connection of its own (:meth:`check_new_connection`);
        #: its key is known by then, so no new key is ever accepted on the way.
        self._again = functools.partial(
            SSHHost,
            host,
            user=user,
            port=port,
            sudo=sudo,
            timeout=timeout,
            connect_timeout=connect_timeout,
            ssh_config=ssh_config,
            known_hosts=known_hosts,
            identity_files=identity_files,
            allow_agent=allow_agent,
            look_for_keys=look_for_keys,
        )
        self.name = host
        self.connect_timeout = connect_timeout
        self.target = resolve(host, user=user, port=port, ssh_config=ssh_config)
        self.sudo = sudo and self.target.user != "root"
        self._ssh_config = ssh_config
        self._known_hosts = tuple(known_hosts) if known_hosts else None
        self._accept_new = accept_new_host_keys
        self._identity_files = tuple(identity_files)
        self._allow_agent = allow_agent
        self._look_for_keys = look_for_keys
        self._clients: list[paramiko.SSHClient] = []
        self._sftp: paramiko.SFTPClient | None = None
        self._lock = threading.Lock()
        try:
            self.client = self._connect_chain()
        except BaseException:
            self.close()
            raise
        self.transport = self.client.get_transport()

    # -- connecting ---------------------------------------------------------------------------

    def _connect_chain(self) -> paramiko.SSHClient:
        """Connect through each ProxyJump hop in turn, then to the node itself."""
        chain = [*(self._jump_target(hop) for hop in self.target.proxy_jump), self.target]
        sock = None
        for hop, after in itertools.pairwise(chain):
            sock = self._tunnel(self._connect_one(hop, sock), hop, after)
        return self._connect_one(self.target, sock)

    def _jump_target(self, spec: str) -> Target:
        """A ProxyJump hop (``[user@]host[:port]``), itself resolved through ~/.ssh/config."""
        match = _JUMP.match(spec.strip())
        if not match:
            raise HostError(f"ProxyJump for {self.name}: cannot parse {spec!r}")
        port = int(match["port"]) if match["port"] else None
        hop = resolve(
            match["host"].strip("[]"), user=match["user"], port=port, ssh_config=self._ssh_config
        )
        return attrs.evolve(hop, proxy_jump=(), proxy_command=None)

    def _tunnel(self, client: paramiko.SSHClient, via: Target, to: Target) -> paramiko.Channel:
        try:
            return client.get_transport().open_channel(
                "direct-tcpip",
                (to.hostname, to.port),
                ("127.0.0.1", 0),
                timeout=self.connect_timeout,
            )
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise HostError(
                f"ProxyJump {via.label} cannot reach {to.hostname}:{to.port}: {exc}"
            ) from None

    def _connect_one(self, target: Target, sock: object | None) -> paramiko.SSHClient:
        known = KnownHosts(
            self._known_hosts or target.known_hosts, hash_new=target.hash_known_hosts
        )
        policy = KnownHostsPolicy(
            known, target.key_name, accept_new=self._accept_new or target.accept_new
        )
        trusted_types = known.known_types(target.key_name)

        def transport_factory(sock: object, **kwargs: object) -> paramiko.Transport:
            transport = paramiko.Transport(sock, **kwargs)
            options = transport.get_security_options()
            options.key_types = preferred_algorithms(trusted_types, options.key_types)
            return transport

        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(policy)
        self._clients.append(client)
        keys = [f for f in (*self._identity_files, *target.identity_files) if os.path.exists(f)]
        only = target.identities_only and bool(keys)
        started = time.monotonic()
        try:
            client.connect(
                target.hostname,
                port=target.port,
                username=target.user,
                key_filename=keys or None,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                channel_timeout=self.connect_timeout,
                allow_agent=self._allow_agent and not only,
                look_for_keys=self._look_for_keys and not only,
                sock=sock if sock is not None else dial(target, self.connect_timeout),
                transport_factory=transport_factory,
            )
        except HostError:
            raise
        except Exception as exc:
            # The transport thread keeps the real cause; connect() may report a consequence.
            cause = getattr(client.get_transport(), "saved_exception", None) or exc
            slow = time.monotonic() - started >= self.connect_timeout
            if slow and not isinstance(cause, paramiko.AuthenticationException):
                # start_client() returns at its timeout without an error of its own.
                cause = TimeoutError()
            raise connect_error(target, cause) from None
        transport = client.get_transport()
        transport.set_keepalive(15)
        return client

    # -- commands -----------------------------------------------------------------------------

    def _lost(self, during: str) -> HostError:
        return HostError(f"connection to {self.target.label} lost during {during}")

    def _run(
        self, argv: Sequence[str], timeout: float, stdin: bytes | None
    ) -> tuple[int, bytes, bytes]:
        """Run argv on a new channel of the shared connection; bytes in, bytes out."""
        shown = shlex.join(argv)
        deadline = time.monotonic() + timeout
        try:
            channel = self.transport.open_session(timeout=min(timeout, self.connect_timeout))
        except (paramiko.SSHException, OSError, EOFError):
            raise self._lost(f"`{shown}`") from None
        try:
            channel.settimeout(timeout)
            channel.exec_command(remote_command(argv, sudo=self.sudo))
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
            out, err = self._collect(channel, deadline, shown)
            if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
                raise self._timeout_or_lost(shown, timeout)
            if channel.exit_status == -1 and not self.transport.is_active():
                raise self._lost(f"`{shown}`")
            return channel.exit_status, out, err
        except TimeoutError:
            raise self._timeout_or_lost(shown, timeout) from None
        except (paramiko.SSHException, OSError, EOFError):
            raise self._lost(f"`{shown}`") from None
        finally:
            channel.close()

    def check_new_connection(self) -> None:
        """A new TCP connection, key exchange and login to the node (through the same jumps),
        and ``true`` run on it: what a firewall that lets established connections through
        but drops new ones fails."""
        fresh = self._again()
        try:
            fresh.query(["true"]).check()
        finally:
            fresh.close()

    def hold(self, argv: Sequence[str], *, probe: str) -> _HeldChannel:
        shown = shlex.join(argv)
        try:
            channel = self.transport.open_session(timeout=self.connect_timeout)
            channel.exec_command(remote_command(argv, sudo=self.sudo))
            line = (probe + "\n").encode()
            channel.sendall(line)
            try:
                interrupt.readable(channel.fileno(), f"waiting for `{shown}`")
            except interrupt.Interrupted:
                # Its stdin closes with the channel: should it take the lock yet, `cat`
                # reads end of file at once and the lock is let go.
                channel.close()
                raise
            if channel.makefile("rb").readline() == line:
                return _HeldChannel(channel)
            rc = channel.recv_exit_status()
            err = channel.makefile_stderr("rb").read().decode(errors="replace")
        except (paramiko.SSHException, OSError, EOFError):
            raise self._lost(f"`{shown}`") from None
        channel.close()
        result = CommandResult(tuple(argv), rc, "", err)
        raise CommandFailed(result, f"`{shown}` exited {rc}")

    def _timeout_or_lost(self, shown: str, timeout: float) -> HostError:
        if not self.transport.is_active():
            return self._lost(f"`{shown}`")
        return HostError(f"`{shown}` timed out after {timeout:g} s on {self.name}")

    def _collect(
        self, channel: paramiko.Channel, deadline: float, shown: str
    ) -> tuple[bytes, bytes]:
        """Read stdout and stderr together until EOF, so neither can fill the window and stall."""
        out, err = bytearray(), bytearray()
        wakeup = channel.fileno()
        while True:
            if channel.recv_ready():
                out += channel.recv(_CHUNK)
            elif channel.recv_stderr_ready():
                err += channel.recv_stderr(_CHUNK)
            elif channel.eof_received:
                break
            elif channel.closed or not self.transport.is_active():
                raise self._lost(f"`{shown}`")
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                select.select([wakeup], [], [], min(remaining, 1.0))
        while channel.recv_ready():
            out += channel.recv(_CHUNK)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(_CHUNK)
        return bytes(out), bytes(err)

    def _execute(
        self, argv: tuple[str, ...], timeout: float, input: str | None
    ) -> tuple[int, str, str]:
        rc, out, err = self._run(argv, timeout, input.encode() if input is not None else None)
        return rc, out.decode(errors="replace"), err.decode(errors="replace")

    # -- files --------------------------------------------------------------------------------

    def _sftp_client(self) -> paramiko.SFTPClient:
        with self._lock:
            if self._sftp is None:
                try:
                    self._sftp = self.client.open_sftp()
                except (paramiko.SSHException, OSError, EOFError) as exc:
                    raise HostError(f"cannot open SFTP on {self.target.label}: {exc}") from None
            return self._sftp

    def _file_error(self, verb: str, path: str, exc: BaseException) -> HostError:
        if not self.transport.is_active() or isinstance(exc, EOFError | paramiko.SSHException):
            return self._lost(f"{verb} {path}")
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return HostError(f"cannot {verb} {path} on {self.name}: {reason}")

    def read_file(self, path: str) -> bytes:
        """Read by SFTP, or with ``sudo -n cat`` when the login user is not root."""
        if self.sudo:
            rc, out, err = self._run(["cat", "--", path], self.timeout, None)
            if rc == 0:
                return out
            message = err.decode(errors="replace").strip()
            if "No such file or directory" in message:
                raise FileNotFoundError(path)
            raise HostError(f"cannot read {path} on {self.name}: {message or f'exit {rc}'}")
        try:
            with self._sftp_client().open(path, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise FileNotFoundError(path) from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._file_error("read", path, exc) from None

    def read_files(self, paths: Sequence[str]) -> dict[str, bytes | None]:
        """The files in one round trip: one command archives those that exist (:data:`_ARCHIVE`),
        where SFTP costs an open, a read and a close each. Should the archive not speak for every
        file (tar exits non-zero when one vanished, changed or could not be read meanwhile),
        each is read on its own, which raises what :meth:`read_file` raises."""
        # Each once: tar stores a file named twice as a hard link to the first.
        unique = list(dict.fromkeys(paths))
        self.queries += 1
        rc, out, _ = self._run(["sh", "-c", _ARCHIVE, "sh", *unique], self.timeout, None)
        found = _unpack(out, unique) if rc == 0 else None
        if found is None:
            return {path: self._read_or_none(path) for path in unique}
        return {path: found.get(path) for path in unique}

    def _read_or_none(self, path: str) -> bytes | None:
        try:
            return self.read_file(path)
        except FileNotFoundError:
            return None

    def is_file(self, path: str) -> bool:
        """An SFTP stat (one round trip on the open session), or ``sudo -n test -f PATH`` when
        the login user is not root (``test`` with two arguments takes the second as the path,
        whatever it looks like). A path that cannot be stated is "not a file" (see
        :class:`~phoenix_core.hosts.base.Statting`); a lost connection raises."""
        if self.sudo:
            rc, _, _ = self._run(["test", "-f", path], self.timeout, None)
            return rc == 0
        try:
            return stat.S_ISREG(self._sftp_client().stat(path).st_mode or 0)
        except OSError as exc:
            if not self.transport.is_active():
                raise self._file_error("stat", path, exc) from None
            return False
        except (EOFError, paramiko.SSHException) as exc:
            raise self._file_error("stat", path, exc) from None

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        """Upload to a temporary name beside ``path`` and rename it over: readers never see half.

        With sudo the upload goes to the user's own temporary file first, and root installs it
        beside the target and renames it, so the final step is still an atomic rename. A
        failure removes the temporary files; a rerun writes the file again from scratch.
        """
        self.changes += 1
        directory = os.path.dirname(path) or "."
        tmp = f"{directory}/.phoenix-{secrets.token_hex(6)}.tmp"
        sftp = self._sftp_client()
        if self.sudo:
            self._write_with_sudo(sftp, path, tmp, data, mode)
            return
        try:
            with _create(sftp, tmp, mode) as fh:
                fh.set_pipelined(True)
                fh.write(data)
            sftp.posix_rename(tmp, path)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            error = self._file_error("write", path, exc)
            if self.transport.is_active():
                with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                    sftp.remove(tmp)
            raise error from None

    def _write_with_sudo(
        self, sftp: paramiko.SFTPClient, path: str, tmp: str, data: bytes, mode: int
    ) -> None:
        staging = f"/tmp/.phoenix-upload-{secrets.token_hex(6)}"
        try:
            # O_EXCL, so even a guessed name cannot be a planted file or symlink; 0600 at open.
            with _create(sftp, staging, 0o600) as fh:
                fh.write(data)
            steps = (
                ["install", "-m", f"{mode:04o}", "--", staging, tmp],
                ["mv", "-f", "-T", "--", tmp, path],
            )
            for argv in steps:
                rc, _, err = self._run(argv, self.timeout, None)
                if rc != 0:
                    self._run(["rm", "-f", "--", tmp], self.timeout, None)
                    reason = err.decode(errors="replace").strip() or f"exit {rc}"
                    raise HostError(f"cannot write {path} on {self.name}: {reason}")
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise self._file_error("write", path, exc) from None
        finally:
            if self.transport.is_active():
                with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                    sftp.remove(staging)

    def close(self) -> None:
        """Close the SFTP session, the node connection and any ProxyJump connections."""
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        for client in reversed(self._clients):
            client.close()
        self._clients.clear()


def _unpack(archive: bytes, paths: Sequence[str]) -> dict[str, bytes] | None:
    """The files of a tar stream by the path they were asked by (tar drops the leading ``/``);
    None when it holds anything else, or is no archive."""
    if not archive:
        return {}
    asked = {path.lstrip("/"): path for path in paths}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for member in tar:
                reader = tar.extractfile(member) if member.isfile() else None
                if member.name not in asked or reader is None:
                    return None
                found[asked[member.name]] = reader.read()
    except tarfile.TarError:
        return None
    return found


def _create(sftp: paramiko.SFTPClient, path: str, mode: int) -> paramiko.SFTPFile:
    """A new file (``O_CREAT | O_EXCL``) whose mode travels in the SFTP OPEN request itself, so
    sftp-server creates it with that mode (under its umask) rather than a chmod following
    the open: a secret is never readable by others in between, and no chmod reaches pmxcfs.
    ``SFTPClient.open`` sends no attributes, hence the request built here as it builds it."""
    attributes = paramiko.SFTPAttributes()
    attributes.st_mode = mode
    flags = SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | SFTP_FLAG_EXCL
    kind, message = sftp._request(CMD_OPEN, path, flags, attributes)
    if kind != CMD_HANDLE:
        raise paramiko.SFTPError("Expected handle")
    return paramiko.SFTPFile(sftp, message.get_binary(), "wb")


class _HeldChannel:
    """A command kept running on its own channel; closing the channel ends it (EOF, then
    sshd hangs it up), and so does a dropped connection."""

    def __init__(self, channel: paramiko.Channel) -> None:
        self.channel = channel

    def release(self) -> None:
        try:
            self.channel.shutdown_write()
            self.channel.status_event.wait(10.0)
        except (paramiko.SSHException, OSError, EOFError):
            pass  # the connection is gone, and the lock with it
        finally:
            self.channel.close()
