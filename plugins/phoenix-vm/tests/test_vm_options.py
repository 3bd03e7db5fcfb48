"""Option drift of a VM: which keys phoenix owns, how Proxmox spells them, and that a drift is
repaired with exactly the differing keys."""

from __future__ import annotations

from typing import Any

from phoenix_vm import options
from phoenix_vm.model import VmSpec

from phoenix_core.config.convert import converter
from phoenix_pve import options as shared


def spec(**values: Any) -> VmSpec:
    return converter.structure({"name": "vm1", **values}, VmSpec)


LIVE = {
    "name": "vm1",
    "onboot": "1",
    "agent": "1",
    "cores": "4",
    "memory": "8192",
    "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1",
    "startup": "up=2,order=4,down=2",
    "hostpci0": "0000:01:00,pcie=1",
    "hostpci1": "0000:02:00",
}


def wanted(**values: Any) -> VmSpec:
    base = {
        "start_at_boot": True,
        "cores": 4,
        "memory_mb": 8192,
        "boot_order": 4,
        "boot_delay": 2,
        "firewall": {"enabled": True},
        "hostpci": ["0000:01:00,pcie=1", "0000:02:00"],
    }
    return spec(**{**base, **values})


def changed(vm: VmSpec, live: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    drift = shared.drift(options.desired(vm, live), live, options.COMPARISON)
    return [(c.what, c.before, c.after) for c in drift]


def test_in_sync_whatever_the_spelling_and_a_generated_mac_stays() -> None:
    assert changed(wanted(), LIVE) == []


def test_a_drift_is_exactly_the_differing_keys() -> None:
    live = {**LIVE, "memory": "4096", "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr1"}
    assert changed(wanted(), live) == [
        ("net0", live["net0"], "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"),
        ("memory", "4096", "8192"),
    ]


def test_mac_vlan_and_a_removed_gpu() -> None:
    vm = wanted(
        network_config={"mac_address": "52:54:00:12:34:56", "vlan_tag": 20},
        hostpci=["0000:01:00,pcie=1"],
    )
    drift = shared.drift(options.desired(vm, LIVE), LIVE, options.COMPARISON)
    assert [(c.what, c.after) for c in drift] == [
        ("net0", "virtio=52:54:00:12:34:56,bridge=vmbr0,firewall=1,tag=20"),
        ("hostpci1", None),
    ]

    class Live:
        def tool(self, verb: str, *args: str) -> list[str]:
            return ["qm", verb, "1001", *args]

    argv = shared.set_argv(Live(), drift)  # type: ignore[arg-type]
    assert argv == [
        "qm", "set", "1001",
        "--net0", "virtio=52:54:00:12:34:56,bridge=vmbr0,firewall=1,tag=20",
        "--delete", "hostpci1",
    ]  # fmt: skip
