"""``phoenix health-check host`` and ``phoenix test host`` on the simulator after ``phoenix
setup`` with the old hypervisor file, the CLI run as a subprocess: every shipped check passes,
and a stopped service, a degraded pool, a storage that is not active and a driver at another
version each fail with a clear reason (the node put back after each)."""

from __future__ import annotations

import json
import shutil
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hv_support import DISKS, REPO, configure, phoenix, start
from phoenix_hypervisor import checks
from phoenix_hypervisor.features import HostContext
from phoenix_hypervisor.model import HostSpec, Samba, Share, Zfs

from phoenix_core.testing import schema_file
from pve_sim.fixture import SimNode

SHIPPED = [
    "proxmox services",
    "zfs pools",
    "storages",
    "firewall",
    "nfs exports",
    "samba shares",
    "admin user",
    "nvidia driver",
]
PINNED = "580.76.05"
CACHE = "usr/local/phoenix_hypervisor/cache"


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimNode, Path]]:
    """The node after ``setup`` (and the reboot the driver needs to load)."""
    tmp = tmp_path_factory.mktemp("hostchk")
    sim = start(tmp)
    etc = configure(tmp, sim)
    result = phoenix(sim, etc, "setup", "--allow-destructive", "--allow-reboot")
    assert result.returncode == 0, result.stdout + result.stderr
    yield sim, etc
    sim.stop()


def rows(result: Any, shape: str = "health") -> dict[str, dict[str, Any]]:
    document = json.loads(result.stdout)
    schema = json.loads((REPO / "docs" / "json" / schema_file(document, shape)).read_text())
    jsonschema.validate(document, schema)
    return {row["check"]: row for row in document["results"]}


def health(sim: SimNode, etc: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    result = phoenix(sim, etc, "health-check", "host", "-o", "json")
    return result.returncode, rows(result)


def failed(found: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: row["reason"] for name, row in found.items() if row["result"] != "passed"}


def test_every_shipped_check_passes_after_setup(converged: tuple[SimNode, Path]) -> None:
    sim, etc = converged
    mark = sim.mark()
    code, found = health(sim, etc)
    assert code == 0, failed(found)
    assert list(found) == SHIPPED
    assert {row["target"] for row in found.values()} == {"host"}
    assert all(row["attempts"] == 1 and row["where"].startswith("host ") for row in found.values())
    assert not [e for e in sim.since(mark) if e["mutating"]]  # checks only read
    text = phoenix(sim, etc, "health-check", "host")
    assert text.returncode == 0
    assert "health-check: 8 passed, 0 failed, 0 skipped" in text.stdout


def test_a_stopped_service_fails_with_its_name(converged: tuple[SimNode, Path]) -> None:
    sim, etc = converged
    sim.run(["systemctl", "stop", "pveproxy"], check=True)
    try:
        code, found = health(sim, etc)
    finally:
        sim.run(["systemctl", "start", "pveproxy"], check=True)
    assert code == 1
    assert failed(found) == {"proxmox services": "pveproxy is inactive"}
    assert "inactive" in found["proxmox services"]["output"]


def test_a_degraded_pool_fails(converged: tuple[SimNode, Path]) -> None:
    sim, etc = converged
    sim.run(["zpool", "offline", "quickOS", DISKS[0]], check=True)
    try:
        code, found = health(sim, etc)
    finally:
        sim.run(["zpool", "online", "quickOS", DISKS[0]], check=True)
    assert code == 1
    assert failed(found) == {"zfs pools": "pool quickOS is DEGRADED"}
    assert "OFFLINE" in found["zfs pools"]["output"]


def test_a_storage_that_is_not_active_fails(converged: tuple[SimNode, Path]) -> None:
    sim, etc = converged
    sim.run(["pvesm", "set", "quickOS-vm-disks", "--disable", "1"], check=True)
    try:
        code, found = health(sim, etc)
    finally:
        sim.run(["pvesm", "set", "quickOS-vm-disks", "--disable", "0"], check=True)
    assert code == 1
    assert failed(found) == {"storages": "storage quickOS-vm-disks is disabled"}


def test_the_driver_at_another_version_fails(
    converged: tuple[SimNode, Path], tmp_path: Path
) -> None:
    sim, etc = converged
    pinned = sim.dir / CACHE / f"NVIDIA-Linux-x86_64-{PINNED}.run"
    other = tmp_path / "NVIDIA-Linux-x86_64-570.86.16.run"
    shutil.copy(pinned, other)
    sim.run([str(other), "--silent", "--dkms"], check=True)
    sim._ctl(op="reboot")
    try:
        code, found = health(sim, etc)
    finally:
        sim.run([str(pinned), "--silent", "--dkms"], check=True)
        sim._ctl(op="reboot")
    assert code == 1
    assert failed(found) == {"nvidia driver": f"driver 570.86.16 loaded, not the pinned {PINNED}"}
    assert health(sim, etc)[0] == 0


def test_host_tests_run_on_the_node_without_an_id(
    converged: tuple[SimNode, Path], tmp_path: Path
) -> None:
    sim, etc = converged
    script = etc / "tests" / "hypervisor" / "phoenix_hypervisor_tests.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text('#!/bin/bash\necho "arguments: $#"\n')
    junit = tmp_path / "junit.xml"
    result = phoenix(sim, etc, "test", "host", "-o", "json", "--junit", str(junit))
    assert result.returncode == 1  # validate_systemic_fixes.sh is not under tests/
    found = rows(result, "test")
    ran = found["Phoenix Hypervisor Tests"]
    assert (ran["result"], ran["suite"], ran["output"]) == (
        "passed",
        "hypervisor_health_.check",
        "arguments: 0",
    )
    missing = found["Validate Systemic Fixes"]
    assert missing["result"] == "failed"
    assert "'hypervisor/validate_systemic_fixes.sh' not found" in missing["reason"]
    assert junit.exists()
    one = phoenix(sim, etc, "test", "host", "--suite", "hypervisor_health_.check")
    assert one.returncode == 0, one.stdout
    validate = phoenix(sim, etc, "config", "validate")
    assert "tests.system_validation[0]" in validate.stderr + validate.stdout


def test_only_configured_features_are_checked() -> None:
    """A file without pools, storages, exports, shares, users, firewall or driver gets only
    the Proxmox services check; each section adds its own."""

    def names(spec: HostSpec) -> list[str]:
        ctx = HostContext(types.SimpleNamespace(name="pve1"), None, spec, None)  # type: ignore[arg-type]
        return [c.name for c in checks.shipped(ctx)]

    assert names(HostSpec()) == ["proxmox services"]
    samba = Samba(shares=[Share(name="data", path="tank/data")])
    assert names(HostSpec(samba=samba, zfs=Zfs())) == ["proxmox services", "samba shares"]


def test_a_stopped_firewall_and_a_loose_sudoers_file_fail(converged: tuple[SimNode, Path]) -> None:
    sim, etc = converged
    sudoers = sim.dir / "etc" / "sudoers.d" / "phoenix-phoenix_admin"
    sim.run(["systemctl", "stop", "pve-firewall"], check=True)
    sudoers.chmod(0o644)
    try:
        code, found = health(sim, etc)
    finally:
        sim.run(["systemctl", "start", "pve-firewall"], check=True)
        sudoers.chmod(0o440)
    assert code == 1
    reasons = failed(found)
    assert reasons["firewall"] == "pve-firewall is enabled/stopped, not enabled/running"
    assert reasons["admin user"].startswith("`visudo -cf ")
    assert reasons["admin user"].endswith("bad permissions, should be mode 0440")
    assert set(reasons) == {"firewall", "admin user"}
