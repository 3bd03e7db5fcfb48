"""Proxmox's own value formats (phoenix_pve.formats), each as its Proxmox source checks it."""

from __future__ import annotations

import pytest

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_pve import formats as f
from phoenix_pve.model import Firewall


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("final-form", True),
        ("pre_features", True),
        ("current", False),
        ("-x", False),
        ("1abc", False),
        ("a", False),
        ("a" * 40, True),
        ("a" * 41, False),
        ("snap shot", False),
    ],
)
def test_snapshot_names_are_pve_configids(name: str, ok: bool) -> None:
    assert (f.snapshot_name_problem(name) is None) is ok


@pytest.mark.parametrize(
    ("storage", "ok"),
    [
        ("local", True),
        ("quickOS-lxc-disks", True),
        ("fast.data_1", True),
        ("a", False),
        ("1local", False),
        ("local-", False),
        ("-local", False),
        ("lo cal", False),
    ],
)
def test_storage_ids(storage: str, ok: bool) -> None:
    assert (f.storage_id_problem(storage) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("dhcp", True),
        ("manual", True),
        ("10.0.0.5/24", True),
        ("10.0.0.5/7", False),
        ("auto", False),
        ("10.0.0.300/24", False),
    ],
)
def test_ipv4_config(value: str, ok: bool) -> None:
    assert (f.ipv4_config_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("8.8.8.8", True),
        ("10.0.0.13 1.1.1.1", True),
        ("fe80::1%eth0", True),
        ("", False),
        ("8.8.8", False),
        ("dns.example", False),
    ],
)
def test_nameservers(value: str, ok: bool) -> None:
    assert (f.nameservers_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", True),
        ("/fastData/shared-iso/template/cache/ubuntu-24.04-standard_24.04-2_amd64.tar.zst", True),
        ("ubuntu.tar.gz", True),
        ("-o.tar.zst", False),
        ("local:iso/x.iso", False),
        ("x:vztmpl/a.tar.zst", False),
        ("../../a.tar.zst", False),
        ("ubuntu-24.04-standard", False),
    ],
)
def test_templates(value: str, ok: bool) -> None:
    assert (f.template_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("22", True),
        ("80,443", True),
        ("8000:8100", True),
        ("ssh", True),
        ("65536", False),
        ("100:10", False),
        ("80,,443", False),
        (",".join(["1"] * 16), False),
        ("1:2," * 7 + "3", True),
    ],
)
def test_ports(value: str, ok: bool) -> None:
    assert (f.ports_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.0/24", True),
        ("10.0.0.1,10.0.0.2", True),
        ("10.0.0.1-10.0.0.9", True),
        ("+trusted", True),
        ("dc/servers", True),
        ("10.0.0.300", False),
        ("10.0.0.1 10.0.0.2", False),
    ],
)
def test_addresses(value: str, ok: bool) -> None:
    assert (f.address_problem(value) is None) is ok


def test_macros_match_case_insensitively() -> None:
    assert f.macro_problem("SSH") is None and f.macro_problem("ssh") is None
    assert f.macro_problem("Telnetz") is not None


def test_rule_actions_depend_on_the_type() -> None:
    assert f.rule_action_problem("in", "ACCEPT") is None
    assert f.rule_action_problem("in", "accept") is not None
    assert f.rule_action_problem("group", "webservers") is None
    assert f.rule_action_problem("group", "x" * 19) is not None


def test_a_firewall_is_checked_field_by_field_and_rule_by_rule() -> None:
    diagnostics = Diagnostics()
    data = {
        "policy_in": "ALLOW",
        "rules": [
            {"type": "in", "action": "PERMIT", "port": "22"},
            {"type": "in", "action": "ACCEPT", "proto": "tcp", "port": "70000"},
            {"type": "out", "action": "ACCEPT", "macro": "Nope", "log": "loud"},
        ],
    }
    assert diagnostics.structure("f.json", "fw", data, Firewall) is None
    paths = sorted(p.path for p in diagnostics.errors)
    assert paths == ["fw.policy_in", "fw.rules[1].port", "fw.rules[2].log", "fw.rules[2].macro"]
    firewall = Firewall(rules=[])
    assert firewall.problems() == []
    bad = Diagnostics().structure("f", "", {"rules": data["rules"][:1]}, Firewall)
    assert bad is not None
    assert [w for w, _ in bad.problems()] == ["rules[0].action", "rules[0].proto"]
