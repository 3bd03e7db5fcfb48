"""Hardware and boot options: the ``qm`` keys phoenix manages and how Proxmox spells them; the
comparison and the one ``qm set`` carrying only the differing keys are phoenix_pve's option
drift, shared with the container manager."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phoenix_core.steps import Change, Step
from phoenix_pve import options
from phoenix_pve.live import Live
from phoenix_pve.parse import format_props
from phoenix_vm.model import VmSpec

#: net0 properties in the order Proxmox writes them; the model key (``virtio``) holds the MAC.
NET_ORDER = ("virtio", "bridge", "firewall", "link_down", "mtu", "queues", "rate", "tag")
COMPARISON = options.Comparison(
    # qemu-server $confdesc defaults: memory 512, cores 1, onboot 0, agent off.
    absent={"memory": "512", "cores": "1", "onboot": "0", "agent": "0", "protection": "0"},
    props=frozenset({"startup"}),
    # A MAC that Proxmox generated stays; an absent `firewall` means off.
    partial={"net0": options.Partial(NET_ORDER, {"firewall": "0"})},
)
#: How many ``hostpciN`` slots phoenix keeps in line with the config (qemu-server allows 16).
HOSTPCI_SLOTS = 16


def net0(spec: VmSpec) -> dict[str, str]:
    """The net0 properties the config asks for (virtio NIC on the bridge)."""
    net = spec.network_config
    props = {"bridge": spec.bridge}
    if net is not None and net.mac_address:
        props["virtio"] = net.mac_address.upper()
    if net is not None and net.vlan_tag is not None:
        props["tag"] = str(net.vlan_tag)
    if net is not None and net.mtu is not None:
        props["mtu"] = str(net.mtu)
    if spec.firewall is not None:
        props["firewall"] = "1" if spec.firewall.enabled else "0"
    return props


def desired(spec: VmSpec, have: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every managed key with its wanted value; ``""`` means "must be absent".

    ``have`` (the live config) decides which extra ``hostpciN`` slots must be emptied."""
    want: dict[str, str] = {
        "name": spec.name,
        "onboot": "1" if spec.start_at_boot else "0",
        "agent": "1" if spec.agent else "0",
        "net0": format_props(net0(spec), NET_ORDER),
    }
    if spec.cores is not None:
        want["cores"] = str(spec.cores)
    if spec.memory_mb is not None:
        want["memory"] = str(spec.memory_mb)
    if spec.boot_order is not None:
        delay = str(spec.boot_delay)
        want["startup"] = f"order={spec.boot_order},up={delay},down={delay}"
    if spec.tags is not None:
        want["tags"] = options.wanted_tags(spec.tags, have)
    if spec.description is not None:
        want["description"] = spec.description
    if spec.protection is not None:
        want["protection"] = "1" if spec.protection else "0"
    for index in range(HOSTPCI_SLOTS):
        key = f"hostpci{index}"
        if index < len(spec.hostpci):
            want[key] = spec.hostpci[index]
        elif have is not None and key in have:
            want[key] = ""
    return want


def step(spec: VmSpec, live: Live) -> Step:
    """The ``options`` step: one ``qm set`` with exactly the keys that differ."""

    def check() -> list[Change]:
        have = live.config().options
        return options.drift(desired(spec, have), have, COMPARISON)

    def apply(changes: Sequence[Change]) -> None:
        live.change(options.set_argv(live, changes))

    return Step("options", check, apply)
