"""Core options: the ``pct`` keys phoenix manages, compared after normalising Proxmox's formats.

One ``pct set`` carries exactly the keys that differ, so a container in sync costs nothing
and a drift of one key is repaired by one command naming one key.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core import proxmox
from phoenix_core.steps import Change, Step
from phoenix_lxc.live import Live
from phoenix_lxc.model import LxcSpec

#: net0 keys phoenix sets; the rest (``type``, a generated ``hwaddr``) are kept as Proxmox has them.
NET_ORDER = ("name", "bridge", "firewall", "gw", "hwaddr", "ip", "mtu", "tag", "type")
#: What Proxmox assumes when a key is absent from the config.
ABSENT = {"memory": "512", "swap": "512", "onboot": "0"}


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
        want["net0"] = proxmox.format_props(props, NET_ORDER)
    if spec.network_config is not None and spec.network_config.nameservers:
        want["nameserver"] = spec.network_config.nameservers
    if spec.boot_order is not None:
        delay = str(spec.boot_delay)
        want["startup"] = f"order={spec.boot_order},up={delay},down={delay}"
    if spec.pct_options is not None:
        want["features"] = ",".join(spec.pct_options)
    return want


def _same(key: str, want: str, have: str | None) -> bool:
    if key == "net0":
        live = proxmox.normalize_props(have or "")
        live.setdefault("firewall", "0")
        wanted = proxmox.normalize_props(want)
        return all(live.get(k) == v for k, v in wanted.items())
    if key in ("startup", "features"):
        return proxmox.normalize_props(want) == proxmox.normalize_props(have or "")
    if key == "nameserver":
        return want.split() == (have or "").split()
    if have is None:
        have = ABSENT.get(key)
    if want == "":
        return have in (None, "")
    return have is not None and proxmox.normalize_value(want) == proxmox.normalize_value(have)


def drift(spec: LxcSpec, live: Live) -> list[Change]:
    """The keys whose live value differs from the config (empty for a planned create: done then)."""
    options = live.config().options
    changes = []
    for key, want in desired(spec).items():
        have = options.get(key)
        if not _same(key, want, have):
            if key == "net0" and have:
                merged = proxmox.parse_props(have)
                merged.update(proxmox.parse_props(want))
                want = proxmox.format_props(merged, NET_ORDER)
            changes.append(Change(key, have, want or None))
    return changes


def set_argv(vmid: int, changes: Sequence[Change]) -> list[str]:
    """One ``pct set`` for all changed keys; keys wanted absent go to ``--delete``."""
    argv = ["pct", "set", str(vmid)]
    deletes = [c.what for c in changes if c.after is None]
    for change in changes:
        if change.after is not None:
            argv += [f"--{change.what}", str(change.after)]
    if deletes:
        argv += ["--delete", ",".join(deletes)]
    return argv


def step(spec: LxcSpec, live: Live) -> Step:
    def check() -> list[Change]:
        if not live.exists:
            return drift(spec, live)
        unpriv = live.config().get("unprivileged", "0") or "0"
        if proxmox.normalize_value(unpriv) != ("1" if spec.unprivileged else "0"):
            from phoenix_core.errors import PhoenixError

            raise PhoenixError(
                f"CT {live.vmid} is {'un' if unpriv == '1' else ''}privileged but the config asks "
                f"unprivileged={str(spec.unprivileged).lower()}; Proxmox cannot change this after "
                "creation: delete and re-create the container"
            )
        return drift(spec, live)

    def apply(changes: Sequence[Change]) -> None:
        live.change(set_argv(live.vmid, changes))

    return Step("options", check, apply)
