"""Core options: the ``pct`` keys phoenix manages and how Proxmox spells them; the comparison
and the one ``pct set`` are phoenix_pve's option drift."""

from __future__ import annotations

from collections.abc import Mapping

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Step
from phoenix_lxc.model import Device, LxcSpec
from phoenix_pve import options
from phoenix_pve.live import Live
from phoenix_pve.parse import format_props, normalize_value

#: net0 keys phoenix sets; the rest (``type``, a generated ``hwaddr``) are kept as Proxmox has them.
NET_ORDER = (
    "name", "bridge", "firewall", "gw", "gw6", "hwaddr", "ip", "ip6", "mtu", "tag", "type"
)  # fmt: skip


#: pve-container LXC/Config.pm $MAX_DEVICES.
DEVICE_SLOTS = 256
COMPARISON = options.Comparison(
    # What Proxmox assumes when a key is absent from the config.
    absent={"memory": "512", "swap": "512", "onboot": "0", "protection": "0"},
    props=frozenset({"startup", "features"}),
    # An absent net0 `firewall` means off.
    partial={"net0": options.Partial(NET_ORDER, {"firewall": "0"})},
    words=frozenset({"nameserver", "searchdomain"}),
    default_keys={"dev": "path"},
)


def net0(spec: LxcSpec) -> dict[str, str] | None:
    """The net0 properties the config asks for (None: net0 is not managed)."""
    net = spec.network_config
    if net is None:
        return None
    props = {"name": net.name, "bridge": net.bridge}
    pairs = (("ip", net.ip), ("gw", net.gw), ("ip6", net.ip6), ("gw6", net.gw6))
    for key, value in (*pairs, ("hwaddr", spec.mac_address)):
        if value:
            props[key] = value
    if net.tag is not None:
        props["tag"] = str(net.tag)
    if net.mtu is not None:
        props["mtu"] = str(net.mtu)
    if spec.firewall is not None:
        props["firewall"] = "1" if spec.firewall.enabled else "0"
    return props


def device(item: Device) -> str:
    """A ``devN`` value as Proxmox prints it: the path first, then the set properties."""
    props = {"path": item.path, "deny-write": "1" if item.deny_write else ""}
    for key, value in (("uid", item.uid), ("gid", item.gid), ("mode", item.mode)):
        if value is not None:
            props[key] = str(value)
    rest = format_props({k: v for k, v in props.items() if v and k != "path"})
    return ",".join(filter(None, (item.path, rest)))


def desired(spec: LxcSpec, have: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every managed key with its wanted value; ``""`` means "must be absent".

    ``have`` (the live config) decides which extra ``devN`` slots must be emptied."""
    want: dict[str, str] = {"hostname": spec.name, "onboot": "1" if spec.start_at_boot else "0"}
    if spec.memory_mb is not None:
        want["memory"] = str(spec.memory_mb)
    if spec.swap_mb is not None:
        want["swap"] = str(spec.swap_mb)
    if spec.cores is not None:
        want["cores"] = str(spec.cores)
    props = net0(spec)
    if props is not None:
        want["net0"] = format_props(props, NET_ORDER)
    if spec.network_config is not None and spec.network_config.nameservers:
        want["nameserver"] = spec.network_config.nameservers
    if spec.boot_order is not None:
        delay = str(spec.boot_delay)
        want["startup"] = f"order={spec.boot_order},up={delay},down={delay}"
    if spec.pct_options is not None:
        want["features"] = ",".join(spec.pct_options)
    if spec.network_config is not None and spec.network_config.searchdomain:
        want["searchdomain"] = spec.network_config.searchdomain
    if spec.tags is not None:
        want["tags"] = options.wanted_tags(spec.tags, have)
    for key in ("description", "timezone"):
        if getattr(spec, key) is not None:
            want[key] = getattr(spec, key)
    if spec.protection is not None:
        want["protection"] = "1" if spec.protection else "0"
    if spec.devices is not None:
        for index in range(DEVICE_SLOTS):
            key = f"dev{index}"
            if index < len(spec.devices):
                want[key] = device(spec.devices[index])
            elif have is not None and key in have:
                want[key] = ""
    return want


def step(spec: LxcSpec, live: Live) -> Step:
    def same_privilege() -> None:
        """Proxmox cannot change ``unprivileged`` after creation: say so instead of trying."""
        unpriv = live.config().get("unprivileged", "0") or "0"
        if normalize_value(unpriv) != ("1" if spec.unprivileged else "0"):
            raise PhoenixError(
                f"CT {live.vmid} is {'un' if unpriv == '1' else ''}privileged but the config asks "
                f"unprivileged={str(spec.unprivileged).lower()}; Proxmox cannot change this after "
                "creation: delete and re-create the container"
            )

    return options.step(live, lambda have: desired(spec, have), COMPARISON, guard=same_privilege)
