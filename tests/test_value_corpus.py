"""Values that reach command lines, service files or file lookups, checked at load time.

Each case breaks one value of the old tool's real files the way a user (or a hostile file)
could; ``config validate`` and ``converge`` both exit 2 naming the file and the field, with
no traceback, before anything runs. The CLI with every installed plugin (these checks belong
to the managers as much as to the core), on a recording host: not one command is run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.plugins import Plugins
from phoenix_core.testing import CliResult, RecordingHost, invoke
from tests.test_config_corpus import HV, LXC, VM, ct, edit, vm

pytest.importorskip("phoenix_hypervisor", reason="phoenix-hypervisor is not installed")
pytest.importorskip("phoenix_lxc", reason="phoenix-lxc is not installed")
pytest.importorskip("phoenix_vm", reason="phoenix-vm is not installed")

EXAMPLE = Path(__file__).resolve().parents[1] / "contrib" / "examples" / "original-etc"
LONG = "x" * 5000


def without_storage_pool(data: dict[str, Any]) -> None:
    data["lxc_configs"]["900"].pop("storage_pool")
    data.pop("storage_pool", None)


CASES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    (
        "storage-id-option",
        edit(HV, lambda d: d["proxmox_storage_ids"].update(fastData_shared_iso="-rf")),
        [HV, "proxmox_storage_ids.fastData_shared_iso: not a Proxmox storage id", "'-rf'"],
    ),
    (
        "host-interface-name",
        edit(HV, lambda d: d["network"]["interfaces"].update(name="vmbr0 up; reboot")),
        [HV, "network.interfaces.name: not a Linux interface name"],
    ),
    (
        "host-interface-name-too-long",
        edit(HV, lambda d: d["network"]["interfaces"].update(name="v" * 16)),
        [HV, "network.interfaces.name: not a Linux interface name"],
    ),
    (
        "hypervisor-section-not-an-object",
        edit(HV, lambda d: d.update(docker=["registry"])),
        [HV, 'docker: expected an object, got ["registry"]'],
    ),
    (
        "storage-id-illegal",
        edit(HV, lambda d: d["proxmox_storage_ids"].update(quickos_lxc="quick OS")),
        [HV, "proxmox_storage_ids.quickos_lxc: not a Proxmox storage id"],
    ),
    (
        "dns-upstream-not-an-address",
        edit(HV, lambda d: d["dns_server"].update(upstream_servers=["8.8.8.8", "dns.google"])),
        [HV, "dns_server.upstream_servers[1]: not an IP address"],
    ),
    (
        "dns-upstream-option",
        edit(HV, lambda d: d["dns_server"].update(upstream_servers=["--conf-file=/tmp/x"])),
        [HV, "dns_server.upstream_servers[0]: not an IP address"],
    ),
    (
        "samba-path-dotdot",
        edit(HV, lambda d: d["samba"]["shares"][0].update(path="quickOS/../../etc")),
        [HV, "samba.shares[0].path: must not contain '.' or '..'"],
    ),
    (
        "nfs-client-option",
        edit(HV, lambda d: d["nfs"]["exports"][0].update(clients=["-rf"])),
        [HV, "nfs.exports[0].clients[0]: not a host, network or netgroup"],
    ),
    (
        "nfs-client-garbage",
        edit(HV, lambda d: d["nfs"]["exports"][0].update(clients=["10.0.0.0/24(rw)"])),
        [HV, "nfs.exports[0].clients[0]: not a host, network or netgroup"],
    ),
    (
        "ct-interface-name-too-long",
        edit(
            LXC, lambda d: d["lxc_configs"]["103"]["network_config"].update(name="eth0123456789abc")
        ),
        [LXC, "lxc_configs.103.network_config.name: not a Linux interface name"],
    ),
    (
        "vm-bridge-too-long",
        edit(VM, lambda d: d["vms"][1]["network_config"].update(bridge="vmbr0123456789abc")),
        [VM, "vms[1].network_config.bridge: not a Linux interface name"],
    ),
    (
        "feature-name-5000",
        ct("103", features=[LONG]),
        [LXC, "lxc_configs.103.features[0]: is 5000 bytes long; a path is at most 4095 bytes"],
    ),
    (
        "feature-name-300",
        ct("103", features=["x" * 300]),
        [LXC, "lxc_configs.103.features[0]: has a name of 300 bytes; a file name is at most 255"],
    ),
    (
        "health-check-script-5000",
        ct("103", health_checks=[{"script": LONG}]),
        [LXC, "lxc_configs.103.health_checks[0].script: is 5000 bytes long"],
    ),
    (
        "health-check-unbalanced-quote",
        ct("103", health_check={"command": "check_step_ca.sh 'unterminated"}),
        [LXC, "lxc_configs.103.health_check.command: cannot be split into words", "quotation"],
    ),
    (
        "health-check-args-unbalanced-quote",
        ct("103", health_checks=[{"command": ["true"], "args": 'a "b'}]),
        [LXC, "lxc_configs.103.health_checks[0].args: cannot be split into words"],
    ),
    (
        "boot-delay-too-large",
        ct("103", boot_delay=10**30),
        [LXC, "lxc_configs.103.boot_delay: must be at most 9007199254740991 (2^53 - 1"],
    ),
    (
        "memory-too-large",
        ct("103", memory_mb=10**30),
        [LXC, "lxc_configs.103.memory_mb: must be at most 9007199254740991", "31 digits"],
    ),
    (
        "vm-cores-too-large",
        vm(1, cores=10**6),
        [VM, "vms[1].cores: must be between 1 and"],
    ),
    (
        "no-storage-pool",
        edit(LXC, without_storage_pool),
        [LXC, "lxc_configs.900.storage_pool", "cannot be created"],
    ),
]


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return Plugins().discover()


def phoenix(plugins: Plugins, etc: Path, host: RecordingHost, *args: str) -> CliResult:
    log_dir = etc.parent / "logs"
    return invoke(args, plugins, hosts={None: host}, config_dir=etc, log_dir=log_dir)


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_value_is_a_configuration_error(
    plugins: Plugins, tmp_path: Path, mutate: Callable[[Path], None], expected: list[str]
) -> None:
    etc = tmp_path / "etc"
    shutil.copytree(EXAMPLE, etc)
    mutate(etc)
    host = RecordingHost("pve1")
    for verb in (["config", "validate"], ["converge"]):
        result = phoenix(plugins, etc, host, *verb)
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert "configuration error (nothing was executed)" in result.stderr
        for fragment in expected:
            assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert host.journal == []


def test_the_unchanged_files_are_valid(plugins: Plugins, tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    shutil.copytree(EXAMPLE, etc)
    result = phoenix(plugins, etc, RecordingHost("pve1"), "config", "validate")
    assert result.exit_code == 0, result.output
