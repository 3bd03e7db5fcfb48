"""The checks phoenix-vm ships, read from a recording host: which ones a VM gets, and how the
cloud-init check reads the outputs of cloud-init versions the simulator does not play."""

from __future__ import annotations

import json

import attrs
from phoenix_vm import checks
from phoenix_vm.model import NetworkConfig, VmSpec

from phoenix_core.checks import run_checks
from phoenix_core.testing import RecordingHost
from phoenix_pve.guest import VIRTUAL_MACHINE
from phoenix_pve.live import Live
from phoenix_pve.shell import AgentShell, ShellResult


def _shipped(spec: VmSpec) -> list[str]:
    host = RecordingHost()
    live = Live(host, VIRTUAL_MACHINE, 1001, "/etc/pve")
    return [c.name for c in checks.shipped(spec, live, AgentShell(host, 1001))]


def test_a_vm_gets_the_address_check_only_for_a_static_address_and_a_template_none() -> None:
    bare = VmSpec(name="portainer")
    assert _shipped(bare) == ["running", "guest agent", "cloud-init"]
    static = attrs.evolve(bare, network_config=NetworkConfig(ip="10.0.0.5/24", gw="10.0.0.1"))
    assert _shipped(static) == ["running", "guest agent", "cloud-init", "address"]
    assert _shipped(attrs.evolve(bare, network_config=NetworkConfig(ip="dhcp"))) == _shipped(bare)
    assert _shipped(attrs.evolve(static, is_template=True)) == []


def _state(stdout: str, code: int = 0) -> tuple[bool, str]:
    attempt = checks.cloud_init_state(ShellResult("cloud-init status --long", code, stdout))
    return attempt.passed, attempt.reason


def test_cloud_init_older_than_23_4_reads_status_and_the_detail_below_it() -> None:
    done = "status: done\ntime: Mon, 01 Jan 2024 00:00:36 +0000\ndetail:\nDataSourceNoCloud\n"
    assert _state(done) == (True, "status: done")
    failed = "status: error\ntime: Mon, 01 Jan 2024 00:00:36 +0000\ndetail:\n('ssh', KeyError)\n"
    assert _state(failed, 1) == (False, "cloud-init error: ('ssh', KeyError)")
    assert _state("status: not started\n") == (False, "cloud-init is not done: status not started")


def test_cloud_init_missing_or_silent_is_a_failure_naming_the_command() -> None:
    passed, reason = _state("", 127)
    assert not passed
    assert reason.startswith("no cloud-init status: `cloud-init status --long` exited 127")


def test_address_compares_with_the_prefix_and_ignores_loopback() -> None:
    answer = [
        {"name": "lo", "ip-addresses": [{"ip-address": "127.0.0.1", "prefix": 8}]},
        {"name": "ens18", "ip-addresses": [{"ip-address": "10.0.0.5", "prefix": 16}]},
    ]
    host = RecordingHost().on(
        lambda argv: "network-get-interfaces" in argv, stdout=json.dumps(answer)
    )
    live = Live(host, VIRTUAL_MACHINE, 1001, "/etc/pve")
    [result] = run_checks("1001", [checks.address(live, "10.0.0.5/24")])
    assert result.reason == "VM 1001 has 10.0.0.5/16, not 10.0.0.5/24"
    assert host.mutations == []
