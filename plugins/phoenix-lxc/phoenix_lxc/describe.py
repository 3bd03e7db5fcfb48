"""``phoenix import`` of a container: its ``phoenix_lxc_configs.json`` entry, read from
``pct config`` (and the raw ``lxc.*`` lines of its conf file), in the keys phoenix-lxc's steps
compare, so ``plan`` of the imported container is empty."""

from __future__ import annotations

from phoenix_lxc import options
from phoenix_pve import describe
from phoenix_pve.describe import JSON
from phoenix_pve.live import Live
from phoenix_pve.parse import GuestConfigText, normalize_value, parse_props

#: net0 properties that map to ``network_config`` keys of the same name.
_NET_KEYS = ("name", "bridge", "ip", "gw", "ip6", "gw6")


def entry(live: Live) -> dict[str, JSON]:
    config = live.config()
    result: dict[str, JSON] = {"name": config.get("hostname") or f"ct{live.vmid}"}
    # Written even when Proxmox leaves them out (its default, 512), so proxmox_defaults.lxc
    # does not fill them in; an absent `cores` (every host core) has no phoenix spelling.
    for key, field in (("memory", "memory_mb"), ("swap", "swap_mb")):
        result[field] = int(config.get(key) or options.COMPARISON.absent[key])
    if config.get("cores"):
        result["cores"] = int(config.get("cores") or 0)
    rootfs = parse_props(config.get("rootfs") or "", "volume")
    if ":" in rootfs.get("volume", ""):
        result["storage_pool"] = rootfs["volume"].split(":", 1)[0]
        size = describe.whole_gib(rootfs.get("size"))
        if size is not None:
            result["storage_size_gb"] = size
    result.update(_network(config))
    result["unprivileged"] = describe.flag(config, "unprivileged")
    result.update(describe.common(live, config))
    if config.get("features"):
        result["pct_options"] = (config.get("features") or "").split(",")
    for key in ("timezone",):
        if config.get(key):
            result[key] = config.get(key)
    devices = _devices(config)
    if devices:
        result["devices"] = devices
    result.update(_mounts(config))
    if config.raw:
        result["lxc_options"] = [f"{key}: {value}" for key, value in config.raw]
    return result


def _network(config: GuestConfigText) -> dict[str, JSON]:
    found: dict[str, JSON] = {}
    net0 = parse_props(config.get("net0") or "")
    if net0:
        network: dict[str, JSON] = {k: net0[k] for k in _NET_KEYS if k in net0}
        for key in ("tag", "mtu"):
            if key in net0:
                network[key] = int(net0[key])
        found["network_config"] = network
        if "hwaddr" in net0:
            found["mac_address"] = net0["hwaddr"]
    for key, field in (("nameserver", "nameservers"), ("searchdomain", "searchdomain")):
        if config.get(key):
            found.setdefault("network_config", {})[field] = config.get(key)
    return found


def _devices(config: GuestConfigText) -> list[dict[str, JSON]]:
    devices = []
    slots = sorted(
        (int(k[3:]), v)
        for k, v in config.options.items()
        if k.startswith("dev") and k[3:].isdigit()
    )
    for _, value in slots:
        props = parse_props(value, "path")
        item: dict[str, JSON] = {"path": props["path"]}
        for key in ("uid", "gid"):
            if key in props:
                item[key] = int(props[key])
        if "mode" in props:
            item["mode"] = props["mode"]
        if normalize_value(props.get("deny-write", "0")) == "1":
            item["deny_write"] = True
        devices.append(item)
    return devices


def _mounts(config: GuestConfigText) -> dict[str, list[dict[str, JSON]]]:
    """Bind mounts as ``mount_points``, storage volumes as ``volumes``."""
    binds: list[dict[str, JSON]] = []
    volumes: list[dict[str, JSON]] = []
    for key, value in sorted(config.options.items()):
        if not (key.startswith("mp") and key[2:].isdigit()):
            continue
        props = parse_props(value, "volume")
        backup = {"backup": props["backup"] == "1"} if "backup" in props else {}
        if props["volume"].startswith("/"):
            item: dict[str, JSON] = {"host_path": props["volume"], "container_path": props["mp"]}
            if props.get("ro") == "1":
                item["read_only"] = True
            binds.append({**item, **backup})
        else:
            size = describe.whole_gib(props.get("size"))
            pool = props["volume"].split(":", 1)[0]
            volumes.append(
                {"pool": pool, "size_gb": size or 1, "mount_point": props["mp"], **backup}
            )
    found: dict[str, list[dict[str, JSON]]] = {}
    if binds:
        found["mount_points"] = binds
    if volumes:
        found["volumes"] = volumes
    return found
