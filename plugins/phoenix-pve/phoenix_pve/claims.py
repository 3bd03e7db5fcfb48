"""What a Proxmox guest holds that no other guest may hold too (its static IP, its MAC
addresses), and the check that a GPU it is given has a driver to use.

The core finds two targets with one claim, across every kind (a container and a VM with one
IP); which keys hold the addresses is the Proxmox guest files' knowledge, kept here.
"""

from __future__ import annotations

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.manager import Claim

#: The ``network_config`` keys the old files spell a MAC address with (``hwaddr`` for pct,
#: ``macaddr`` for qm, and the tool's own ``mac_address``).
_MAC_KEYS = ("hwaddr", "macaddr", "mac_address")


def static_ip(guest: TargetConfig) -> str | None:
    """The guest's static IPv4 address (``network_config.ip`` without its prefix), if any."""
    net = guest.raw.get("network_config")
    ip = net.get("ip") if isinstance(net, dict) else None
    if not isinstance(ip, str) or ip.lower() in ("", "dhcp", "manual", "auto"):
        return None
    return ip.split("/")[0]


def claims(guest: TargetConfig) -> list[Claim]:
    """The guest's static IP and MAC addresses, each at the JSON path it is written."""
    found = []
    ip = static_ip(guest)
    if ip is not None:
        found.append(Claim("IP", ip, f"{guest.path}.network_config.ip"))
    mac = guest.raw.get("mac_address")
    if isinstance(mac, str) and mac:
        found.append(Claim("MAC", mac.lower(), f"{guest.path}.mac_address"))
    net = guest.raw.get("network_config")
    if isinstance(net, dict):
        for key in _MAC_KEYS:
            if isinstance(net.get(key), str) and net[key]:
                found.append(Claim("MAC", net[key].lower(), f"{guest.path}.network_config.{key}"))
    return found


def _installs(guest: TargetConfig, feature: str, config: Config) -> bool:
    """True when the guest or a guest it was cloned from installs ``feature``."""
    seen: set[object] = set()
    current: TargetConfig | None = guest
    while current is not None and current.id not in seen:
        seen.add(current.id)
        features = current.raw.get("features")
        if isinstance(features, list) and feature in features:
            return True
        source = current.clone_from
        current = config.guests.get(source) if source is not None else None
    return False


def check_gpu_driver(guest: TargetConfig, config: Config, diagnostics: Diagnostics) -> None:
    """A GPU passed through without the nvidia feature (here or up the clone chain) has no
    driver inside the guest."""
    gpu = guest.raw.get("gpu_assignment")
    if not isinstance(gpu, str) or gpu.strip().lower() in ("", "none"):
        return
    if not _installs(guest, "nvidia", config):
        diagnostics.error(
            guest.file,
            f"{guest.path}.gpu_assignment",
            f'GPU "{gpu}" is assigned but neither this guest nor its clone source installs the "nvidia" feature',
        )
