"""A throwaway OpenSSH ``sshd`` on 127.0.0.1 for tests and the loopback benchmark.

Everything lives in one directory: a generated host key, a generated client key (the only
entry of ``AuthorizedKeysFile``), the ``sshd_config``, the pid file and the log. The daemon
runs in the foreground (``-D -e``) as a child process, so killing it (and its per-connection
children) is how tests simulate a node that disappears mid-run.

The login user is whoever runs the tests (root in CI): sshd can only switch to another user
when it runs as root, and creating system users from a test would touch the machine. The
remote ``PATH`` is set with sshd's ``SetEnv``, which overrides the default environment, so a
test can put a simulator's executables first on the node's ``PATH``. ``SHLVL=1`` is set too:
bash sources ``~/.bashrc`` for commands run by sshd only at shell level 1, and a developer's
``.bashrc`` (pyenv, nvm...) would otherwise add ~80 ms to every command and rewrite PATH.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = "ssh-keygen"


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519") -> Path:
    """Generate an unencrypted key pair at ``path`` / ``path.pub``."""
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", kind, "-N", "", "-C", "phoenix-test", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


def public_key_line(private_key: Path) -> str:
    """``TYPE BASE64`` of a generated key, as known_hosts and authorized_keys hold it."""
    kind, blob, *_ = Path(f"{private_key}.pub").read_text().split()
    return f"{kind} {blob}"


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid``, read from /proc (sshd forks one child per connection)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


class SSHServer:
    """One sshd: ``start()``, ``kill()`` (the whole process tree, like a node going down),
    ``start()`` again on the same port and keys, ``stop()`` at the end."""

    def __init__(
        self,
        directory: Path,
        *,
        path_dirs: tuple[str, ...] = (),
        host_key_types: tuple[str, ...] = ("ed25519",),
        proc: Path | None = None,
        pve_etc: Path | None = None,
    ) -> None:
        self.dir = directory
        #: A directory sshd and its sessions see as /proc (a node's mount table), or None.
        self.fake_proc = proc
        #: With ``proc``: a directory they see as /etc/pve (a simulated node's), on an overlay
        #: of /etc whose changes land in this server's directory, never in this machine's /etc.
        self.pve_etc = pve_etc
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_keys = {t: keygen(self.dir / f"ssh_host_{t}_key", t) for t in host_key_types}
        self.host_key = self.host_keys[host_key_types[0]]
        self.client_key = keygen(self.dir / "id_ed25519")
        self.authorized_keys = self.dir / "authorized_keys"
        self.authorized_keys.write_text(public_key_line(self.client_key) + "\n")
        self.log = self.dir / "sshd.log"
        self.remote_path = ":".join([*path_dirs, os.environ.get("PATH", "/usr/bin:/bin")])
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    "ListenAddress 127.0.0.1",
                    f"Port {self.port}",
                    *(f"HostKey {key}" for key in self.host_keys.values()),
                    f"AuthorizedKeysFile {self.authorized_keys}",
                    f"PidFile {self.dir / 'sshd.pid'}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "AllowTcpForwarding yes",
                    "LogLevel VERBOSE",
                    "MaxStartups 100",
                    "MaxSessions 100",
                    "Subsystem sftp internal-sftp",
                    f"SetEnv PATH={self.remote_path} SHLVL=1",
                    "",
                ]
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def known_hosts_line(self) -> str:
        """The line OpenSSH would record for this server (its first host key) in known_hosts."""
        return self.known_hosts_line_for(self.host_key)

    def host_options(self, known_hosts: Path) -> dict:
        """SSHHost keyword arguments that use nothing from the real ``~/.ssh`` or agent."""
        return {
            "user": self.user,
            "port": self.port,
            "known_hosts": [str(known_hosts)],
            "ssh_config": None,
            "identity_files": [str(self.client_key)],
            "allow_agent": False,
            "look_for_keys": False,
            "connect_timeout": 5.0,
        }

    def known_hosts_line_for(self, key: Path) -> str:
        return f"[127.0.0.1]:{self.port} {public_key_line(key)}"

    def start(self, timeout: float = 10.0) -> SSHServer:
        # sshd refuses to start without its privilege separation directory.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = self.log.open("ab")
        argv = [SSHD, "-D", "-e", "-f", str(self.config)]
        if self.fake_proc is not None:
            # Its own mount namespace, where /proc is the fake: the host is untouched.
            script = 'mount --bind "$0" /proc && exec "$@"'
            mounts = [str(self.fake_proc)]
            if self.pve_etc is not None:
                script = (
                    'mount --bind "$0" /proc && mount -t overlay overlay '
                    '-o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc && mkdir -p /etc/pve && '
                    'mount --bind "$3" /etc/pve && shift 3 && exec "$@"'
                )
                layers = [self.dir / "etc-upper", self.dir / "etc-work"]
                for layer in layers:
                    layer.mkdir(exist_ok=True)
                mounts += [*map(str, layers), str(self.pve_etc)]
            unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
            argv = [*unshare, *mounts, *argv]
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"sshd did not listen on {self.port}: {self.log.read_text()}")

    def accepted_logins(self) -> int:
        """How many connections authenticated so far (sshd logs one line per login)."""
        return self.log.read_text(errors="replace").count("Accepted publickey")

    def kill(self) -> None:
        """SIGKILL the daemon and every session it forked: connections drop mid-command."""
        if self.proc is None:
            return
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        self.kill()
