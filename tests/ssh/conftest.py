"""Fixtures: a real OpenSSH ``sshd`` on 127.0.0.1 and SSHHost connections to it.

One sshd per test module (``sshd``) keeps the suite fast; tests that kill the daemon get a
private one (``private_sshd``). The login user is the one running pytest (root in CI): sshd
can only change to another user as root, and the tests must not create system users. The
remote ``PATH`` comes from sshd's ``SetEnv`` (see ``sshd_server.py``), which is how a test
puts the Proxmox node simulator's executables on the node's PATH.

Connections never touch the real ``~/.ssh``: each test gets its own known_hosts file, no
ssh config, no agent and no default key files, only the generated client key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phoenix_core.hosts.ssh import SSHHost
from tests.ssh.sshd_server import SSHD, SSHServer

if not os.path.exists(SSHD):
    pytest.skip(
        f"{SSHD} is missing: install openssh-server to run the SSH tests", allow_module_level=True
    )


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    server = SSHServer(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture
def private_sshd(tmp_path: Path) -> Iterator[SSHServer]:
    server = SSHServer(tmp_path / "sshd").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_host(sshd: SSHServer) -> Iterator[SSHHost]:
    """One connection for a whole module, for tests that run many commands."""
    known_hosts = sshd.dir / "shared_known_hosts"
    known_hosts.write_text(sshd.known_hosts_line + "\n")
    host = SSHHost("127.0.0.1", **sshd.host_options(known_hosts))
    yield host
    host.close()


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    """An empty known_hosts file of the test's own."""
    return tmp_path / "known_hosts"


@pytest.fixture
def connect(known_hosts: Path) -> Iterator[Callable[..., SSHHost]]:
    """``connect(server, **kwargs)``: an SSHHost to ``server`` whose key is already trusted."""
    opened: list[SSHHost] = []

    def factory(server: SSHServer, *, trust: bool = True, **kwargs: object) -> SSHHost:
        if trust and not known_hosts.exists():
            known_hosts.write_text(server.known_hosts_line + "\n")
        options = {**server.host_options(known_hosts), **kwargs}
        host = SSHHost(str(options.pop("host", "127.0.0.1")), **options)
        opened.append(host)
        return host

    yield factory
    for host in opened:
        host.close()
