"""known_hosts parsing and matching, and ~/.ssh/config resolution, without a server."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phoenix_core.hosts.known_hosts import (
    KnownHosts,
    Verdict,
    fingerprint,
    hash_hostname,
    host_pattern,
    hosts_match,
    parse,
    preferred_algorithms,
)
from phoenix_core.hosts.ssh_connect import resolve

BLOB_A = b"\x00\x00\x00\x0bssh-ed25519" + b"A" * 36
BLOB_B = b"\x00\x00\x00\x0bssh-ed25519" + b"B" * 36
B64_A = base64.b64encode(BLOB_A).decode()
B64_B = base64.b64encode(BLOB_B).decode()


def test_host_pattern_brackets_non_default_ports():
    assert host_pattern("pve1", 22) == "pve1"
    assert host_pattern("10.0.0.5", 2222) == "[10.0.0.5]:2222"


def test_fingerprint_matches_openssh_format():
    assert fingerprint(b"abc") == "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0"


@pytest.mark.parametrize(
    ("field", "name", "expected"),
    [
        ("pve1,pve1.lan", "pve1.lan", True),
        ("PVE1", "pve1", True),
        ("[127.0.0.1]:2222", "[127.0.0.1]:2222", True),
        ("[127.0.0.1]:2222", "127.0.0.1", False),
        ("*.lan", "pve1.lan", True),
        ("pve?", "pve1", True),
        ("pve?", "pve10", False),
        ("*.lan,!bad.lan", "bad.lan", False),
        ("[1-3]", "2", False),  # brackets are literal, not a character class
    ],
)
def test_hosts_match(field, name, expected):
    assert hosts_match(field, name) is expected


@given(st.text(min_size=1, max_size=30).filter(lambda s: "," not in s and not s.startswith("!")))
def test_hashed_names_match_only_themselves(name):
    hashed = hash_hostname(name)
    assert hosts_match(hashed, name)
    assert not hosts_match(hashed, name + "x")


def test_parse_keeps_line_numbers_and_skips_junk(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text(
        f"# comment\n\nbroken-line\npve1 ssh-ed25519 not-base64!\n"
        f"pve1 ssh-ed25519 {B64_A}\n@revoked pve2 ssh-ed25519 {B64_B}\n"
    )
    entries = parse(str(path))
    assert [(e.line, e.hosts, e.marker) for e in entries] == [
        (5, "pve1", None),
        (6, "pve2", "@revoked"),
    ]
    assert parse(str(tmp_path / "missing")) == []


def test_check_verdicts(tmp_path):
    first, second = tmp_path / "user", tmp_path / "global"
    first.write_text(f"pve1 ssh-ed25519 {B64_A}\n")
    second.write_text(f"pve2 ssh-ed25519 {B64_A}\n@revoked * ssh-ed25519 {B64_B}\n")
    known = KnownHosts([str(first), str(second)])
    assert known.check("pve1", "ssh-ed25519", BLOB_A).verdict is Verdict.KNOWN
    assert known.check("pve2", "ssh-ed25519", BLOB_A).verdict is Verdict.KNOWN
    assert known.check("pve3", "ssh-ed25519", BLOB_A).verdict is Verdict.UNKNOWN
    revoked = known.check("pve1", "ssh-ed25519", BLOB_B)
    assert (revoked.verdict, revoked.entry.path, revoked.entry.line) == (
        Verdict.REVOKED, str(second), 2,
    )  # fmt: skip
    first.write_text(f"pve1 ssh-ed25519 {B64_A}\n")
    changed = KnownHosts([str(first)]).check("pve1", "ssh-ed25519", BLOB_B)
    assert (changed.verdict, changed.entry.line) == (Verdict.CHANGED, 1)
    # A key of a type we know nothing about for this host is new, not changed (as in ssh).
    other = KnownHosts([str(first)]).check("pve1", "ecdsa-sha2-nistp256", BLOB_B)
    assert other.verdict is Verdict.UNKNOWN


def test_add_creates_the_directory_and_can_hash(tmp_path):
    path = tmp_path / "new" / ".ssh" / "known_hosts"
    known = KnownHosts([str(path)], hash_new=True)
    assert known.add("[pve1]:2222", "ssh-ed25519", BLOB_A) == str(path)
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    line = path.read_text()
    assert line.startswith("|1|") and "pve1" not in line
    assert known.check("[pve1]:2222", "ssh-ed25519", BLOB_A).verdict is Verdict.KNOWN


def test_preferred_algorithms_put_known_types_first():
    available = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"]
    assert preferred_algorithms(["ssh-rsa"], available) == [
        "rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519", "ecdsa-sha2-nistp256",
    ]  # fmt: skip
    assert preferred_algorithms([], available) == available


def test_resolve_merges_ssh_config_and_explicit_values_win(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "config"
    config.write_text(
        "Host pve1\n  HostName 10.0.0.5\n  User admin\n  Port 2222\n  IdentityFile ~/.ssh/pve\n"
        "  UserKnownHostsFile ~/kh1 ~/kh2\n  StrictHostKeyChecking accept-new\n"
        "  HashKnownHosts yes\n  ProxyJump bastion,admin@gw:2200\n"
    )
    target = resolve("pve1", ssh_config=str(config))
    assert (target.hostname, target.user, target.port) == ("10.0.0.5", "admin", 2222)
    assert target.identity_files == (f"{tmp_path}/.ssh/pve",)
    assert target.known_hosts[:2] == (f"{tmp_path}/kh1", f"{tmp_path}/kh2")
    assert target.accept_new and target.hash_known_hosts
    assert target.proxy_jump == ("bastion", "admin@gw:2200")
    assert target.key_name == "[10.0.0.5]:2222"
    explicit = resolve("pve1", user="root", port=22, ssh_config=str(config))
    assert (explicit.user, explicit.port, explicit.key_name) == ("root", 22, "10.0.0.5")
    plain = resolve("pve9", ssh_config=str(config))
    assert (plain.hostname, plain.port, plain.accept_new) == ("pve9", 22, False)
    assert resolve("pve1", ssh_config=None).hostname == "pve1"
