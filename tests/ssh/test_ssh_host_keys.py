"""Host key checking against known_hosts, like OpenSSH: unknown, accept-new, changed, hashed."""

from __future__ import annotations

import re
import subprocess

import pytest

from phoenix_core.errors import HostError
from tests.ssh.sshd_server import SSHServer, keygen, public_key_line


def openssh_fingerprint(private_key) -> str:
    """The fingerprint as ``ssh-keygen -l`` prints it, to compare our message with OpenSSH's."""
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{private_key}.pub"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()[1]


def test_unknown_key_is_refused_naming_fingerprint_and_remedy(sshd, connect, known_hosts):
    with pytest.raises(HostError) as info:
        connect(sshd, trust=False)
    message = str(info.value)
    assert f"host key for [127.0.0.1]:{sshd.port} is not known" in message
    assert f"ED25519 key {openssh_fingerprint(sshd.host_key)}" in message
    assert "--accept-new-host-keys" in message
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> {known_hosts}" in message
    assert "\n" not in message
    assert not known_hosts.exists()


def test_accept_new_records_the_key_and_later_connections_trust_it(sshd, connect, known_hosts):
    host = connect(sshd, trust=False, accept_new_host_keys=True)
    assert host.query(["true"]).ok
    assert known_hosts.read_text() == sshd.known_hosts_line + "\n"
    # The next connection, without the flag, accepts the recorded key and records nothing.
    again = connect(sshd, trust=False)
    assert again.query(["echo", "ok"]).stdout == "ok\n"
    assert known_hosts.read_text() == sshd.known_hosts_line + "\n"


def test_accept_new_appends_after_a_file_without_final_newline(sshd, connect, known_hosts):
    other = (
        "otherhost ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEKqMh4dRKb5Xb7EKTbl0h3uFd2kh9m0Cdw5nH1Fo2Y7"
    )
    known_hosts.write_text(other)
    connect(sshd, trust=False, accept_new_host_keys=True)
    assert known_hosts.read_text().splitlines() == [other, sshd.known_hosts_line]


@pytest.mark.parametrize("accept_new", [False, True])
def test_changed_key_is_refused_naming_file_and_line(
    sshd, connect, known_hosts, tmp_path, accept_new
):
    impostor = keygen(tmp_path / "old_host_key")
    known_hosts.write_text(
        "# my nodes\n"
        "pve1 " + public_key_line(impostor) + "\n"
        f"[127.0.0.1]:{sshd.port} {public_key_line(impostor)}\n"
    )
    before = known_hosts.read_text()
    with pytest.raises(HostError) as info:
        connect(sshd, trust=False, accept_new_host_keys=accept_new)
    message = str(info.value)
    assert f"HOST KEY FOR [127.0.0.1]:{sshd.port} HAS CHANGED" in message
    assert f"{known_hosts} line 3 holds a different key" in message
    assert openssh_fingerprint(sshd.host_key) in message
    assert "ssh-keygen -R" in message
    assert known_hosts.read_text() == before


def test_hashed_entries_written_by_openssh_are_recognised(sshd, connect, known_hosts):
    known_hosts.write_text(sshd.known_hosts_line + "\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(known_hosts)], check=True, capture_output=True)
    assert known_hosts.read_text().startswith("|1|")
    assert connect(sshd, trust=False).query(["true"]).ok


def test_revoked_key_is_refused_even_with_accept_new(sshd, connect, known_hosts):
    known_hosts.write_text(f"@revoked * {public_key_line(sshd.host_key)}\n")
    with pytest.raises(HostError, match=re.escape(f"@revoked in {known_hosts}:1")):
        connect(sshd, trust=False, accept_new_host_keys=True)


def test_the_known_key_type_is_negotiated_when_the_server_has_several(
    tmp_path, connect, known_hosts
):
    """A server with ed25519 and ECDSA keys, of which we know only ECDSA: not a new host."""
    server = SSHServer(tmp_path / "multi", host_key_types=("ed25519", "ecdsa")).start()
    try:
        known_hosts.write_text(server.known_hosts_line_for(server.host_keys["ecdsa"]) + "\n")
        assert connect(server, trust=False).query(["true"]).ok
    finally:
        server.stop()
