"""Core options: the ``pct`` keys phoenix manages and how Proxmox spells them; the comparison
and the one ``pct set`` are phoenix_pve's option drift."""

from __future__ import annotations

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Step
from phoenix_lxc.model import LxcSpec
from phoenix_pve import options
from phoenix_pve.live import Live
from phoenix_pve.parse import format_props, normalize_value

#: net0 keys phoenix sets; the rest (``type``, a generated ``hwaddr``) are kept as Proxmox has them.
NET_ORDER = ("name", "bridge", "firewall", "gw", "hwaddr", "ip", "mtu", "tag", "type")
COMPARISON = options.Comparison(
    # What Proxmox assumes when a key is absent from the config.
    absent={"memory": "512", "swap": "512", "onboot": "0"},
    props=frozenset({"startup", "features"}),
    # An absent net0 `firewall` means off.
    partial={"net0": options.Partial(NET_ORDER, {"firewall": "0"})},
    words=frozenset({"nameserver"}),
)


def net0(spec: LxcSpec) -> dict[str, str] | None:
    """The net0 properties the config asks for (None: net0 is not managed)."""
    net = spec.network_config
    if net is None:
        return None
    props = {"name": net.name, "bridge": net.bridge}
    for key, value in (("ip", net.ip), ("gw", net.gw), ("hwaddr", spec.mac_address)):
        if value:
            props[key] = value
    if net.tag is not None:
        props["tag"] = str(net.tag)
    if net.mtu is not None:
        props["mtu"] = str(net.mtu)
    if spec.firewall is not None:
        props["firewall"] = "1" if spec.firewall.enabled else "0"
    return props


def desired(spec: LxcSpec) -> dict[str, str]:
    """Every managed key with its wanted value; ``""`` means "must be absent"."""
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

    return options.step(live, desired(spec), COMPARISON, guard=same_privilege)
