"""The checks phoenix-lxc ships, read from a recording host: which ones a container gets, the
dns check's commands, and the GPU check's passing and failing cases."""

from __future__ import annotations

from pathlib import Path

import attrs

from phoenix_core.checks import run_checks
from phoenix_core.config.models import Config, HypervisorConfig
from phoenix_core.testing import RecordingHost
from phoenix_lxc import checks
from phoenix_lxc.model import LxcSpec, NetworkConfig
from phoenix_pve.guest import CONTAINER
from phoenix_pve.live import Live
from phoenix_pve.shell import ContainerShell

EXEC = ["pct", "exec", "101", "--", "timeout", "120"]


def _shipped(spec: LxcSpec, host: RecordingHost) -> list[str]:
    config = Config(Path("/etc"), HypervisorConfig(), {}, {})
    live = Live(host, CONTAINER, 101, "/etc/pve")
    return [c.name for c in checks.shipped(spec, live, ContainerShell(host, 101), config)]


def test_a_container_gets_the_checks_its_configuration_asks_for() -> None:
    host = RecordingHost()
    bare = LxcSpec(name="web")
    assert _shipped(bare, host) == ["running", "pct exec"]
    full = attrs.evolve(
        bare,
        network_config=NetworkConfig(ip="10.0.0.11/24", gw="10.0.0.1"),
        gpu_assignment="0, 1",
    )
    assert _shipped(full, host) == ["running", "pct exec", "address", "dns", "gpu"]
    dhcp = attrs.evolve(bare, network_config=NetworkConfig(ip="dhcp"))
    assert _shipped(dhcp, host) == ["running", "pct exec"]  # no address to expect


def test_gpu_check_passes_when_every_assigned_device_is_in_the_container() -> None:
    host = RecordingHost()
    [result] = run_checks("101", [checks.gpu(ContainerShell(host, 101), [0, 1], "0, 1")])
    assert result.passed
    tested = [c.argv[len(EXEC) :] for c in host.journal]
    assert tested == [
        ("test", "-c", "/dev/nvidiactl"),
        ("test", "-c", "/dev/nvidia0"),
        ("test", "-c", "/dev/nvidia1"),
    ]
    assert not any(c.mutating for c in host.journal)


def test_dns_resolves_the_containers_own_name_not_the_bare_domain() -> None:
    # pve-container writes `<address> <name>.<searchdomain> <name>` into /etc/hosts at start;
    # a homelab's domain is often only a search domain, with no record to resolve.
    host = RecordingHost().on(
        [*EXEC, "getent", "hosts", "--", "web"], stdout="10.0.0.11       web.lab web\n"
    )
    host.on([*EXEC, "cat", "/etc/resolv.conf"], stdout="search lab\nnameserver 10.0.0.1\n")
    check = checks.dns(ContainerShell(host, 101), "web", "10.0.0.11", ["10.0.0.1"])
    [result] = run_checks("101", [check])
    assert result.passed, result.reason
    assert [c.argv[len(EXEC) :] for c in host.journal] == [
        ("getent", "hosts", "--", "web"),
        ("cat", "/etc/resolv.conf"),
    ]


def test_gpu_check_names_the_devices_that_are_missing() -> None:
    host = RecordingHost().on([*EXEC, "test", "-c", "/dev/nvidia1"], returncode=1)
    [result] = run_checks("101", [checks.gpu(ContainerShell(host, 101), [0, 1], "0, 1")])
    assert result.result == "failed"
    assert result.reason == "/dev/nvidia1 not in CT 101 (gpu_assignment '0, 1')"
