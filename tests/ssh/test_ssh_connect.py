"""Connecting: failures as one-line HostErrors, ~/.ssh/config, ProxyJump, the host pool."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from phoenix_core.errors import HostError
from phoenix_core.hosts.pool import HostOptions, HostPool, NodeAddress
from phoenix_core.hosts.ssh import SSHHost
from tests.ssh.sshd_server import free_port, keygen


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_refused_connection(sshd, connect):
    port = free_port()
    with pytest.raises(HostError) as info:
        connect(sshd, port=port)
    assert one_line(info) == (
        f"cannot connect to {sshd.user}@127.0.0.1:{port}: connection refused "
        f"(is sshd running on port {port}?)"
    )


def test_authentication_failure(sshd, connect, tmp_path):
    stranger = keygen(tmp_path / "stranger")
    with pytest.raises(HostError) as info:
        connect(sshd, identity_files=[str(stranger)])
    assert one_line(info).startswith(f"authentication failed for {sshd.user}@127.0.0.1:")


def test_silent_server_times_out(connect, sshd):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(HostError) as info:
            connect(sshd, port=silent.getsockname()[1], connect_timeout=0.5)
    assert "timed out" in one_line(info)


def test_unresolvable_host(sshd, connect):
    with pytest.raises(HostError, match=r"cannot resolve no-such-node\.invalid"):
        connect(sshd, host="no-such-node.invalid", port=None)


def write_ssh_config(home, sshd, extra: str = "") -> None:
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    (ssh / "known_hosts").write_text(sshd.known_hosts_line + "\n")
    (ssh / "config").write_text(
        f"Host pve1\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n{extra}"
        f"Host jump\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n"
    )


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fake $HOME so ``~/.ssh`` is the test's own, and no agent."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return tmp_path / "home"


def test_ssh_config_alias_user_port_identity_and_known_hosts(sshd, home):
    write_ssh_config(home, sshd)
    host = SSHHost("pve1", connect_timeout=5)
    try:
        assert (host.target.hostname, host.target.port) == ("127.0.0.1", sshd.port)
        assert host.query(["echo", "via config"]).stdout == "via config\n"
    finally:
        host.close()


def test_proxy_jump_goes_through_the_jump_host(sshd, home):
    write_ssh_config(home, sshd, extra="  ProxyJump jump\n")
    before = sshd.accepted_logins()
    host = SSHHost("pve1", connect_timeout=5)
    try:
        assert host.query(["echo", "jumped"]).stdout == "jumped\n"
        assert len(host._clients) == 2
    finally:
        host.close()
    assert sshd.accepted_logins() - before == 2  # the jump host, then the node through it
    assert (
        "direct-tcpip" in sshd.log.read_text()
        or "Connection from 127.0.0.1" in sshd.log.read_text()
    )


def test_host_pool_connects_once_per_node(sshd, home):
    write_ssh_config(home, sshd)
    pool = HostPool(
        NodeAddress("pve1"), {"pve2": NodeAddress("127.0.0.1", sshd.user, sshd.port)}, HostOptions()
    )
    (home / ".ssh" / "config").write_text(
        (home / ".ssh" / "config").read_text()
        + f"Host 127.0.0.1\n  IdentityFile {sshd.client_key}\n"
    )
    try:
        first = pool.for_node(None)
        assert pool.for_node(None) is first
        second = pool.for_node("pve2")
        assert second is not first and isinstance(second, SSHHost)
        assert second.query(["echo", "2"]).stdout == "2\n"
    finally:
        pool.close()


def test_paramiko_is_not_imported_until_an_ssh_host_is_used():
    code = (
        "import sys, phoenix_core.hosts.pool, phoenix_core.hosts.known_hosts;"
        "print('paramiko' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
