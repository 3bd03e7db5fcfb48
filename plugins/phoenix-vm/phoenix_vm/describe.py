"""``phoenix import`` of a VM: its ``phoenix_vm_configs.json`` entry, read from ``qm config``,
in the keys phoenix-vm's steps compare, so ``plan`` of the imported VM is empty.

A VM that carries phoenix's cloud-init vendor data (``cicustom`` naming
``phoenix-vm-vendor.yaml``) is imported with its cloud-init keys (``ipconfig0``, ``ciuser``,
``sshkeys``, ``nameserver``, ``searchdomain``); any other VM with ``cloud_init: false``, so
phoenix leaves its cloud-init alone.
"""

from __future__ import annotations

from urllib.parse import unquote

from phoenix_pve import describe
from phoenix_pve.describe import JSON
from phoenix_pve.live import Live
from phoenix_pve.parse import GuestConfigText, parse_props
from phoenix_vm import cloudinit, create, options


def entry(live: Live) -> dict[str, JSON]:
    config = live.config()
    result: dict[str, JSON] = {"vmid": live.vmid, "name": config.get("name") or f"vm{live.vmid}"}
    # Written even when Proxmox leaves them out (its defaults), so vm_defaults do not fill them.
    for key, field in (("cores", "cores"), ("memory", "memory_mb")):
        result[field] = int(config.get(key) or options.COMPARISON.absent[key])
    disk = parse_props(config.get(create.BOOT_DISK) or "", "volume")
    if ":" in disk.get("volume", ""):
        result["storage_pool"] = disk["volume"].split(":", 1)[0]
        size = describe.whole_gib(disk.get("size"))
        if size is not None:
            result["disk_size_gb"] = size
    result["agent"] = describe.flag(config, "agent")
    result.update(describe.common(live, config))
    network = _network(config)
    hostpci = [config.get(f"hostpci{i}") for i in range(options.HOSTPCI_SLOTS)]
    if any(hostpci):
        result["hostpci"] = [value for value in hostpci if value]
    if cloudinit.VENDOR_FILE in (config.get("cicustom") or ""):
        network.update(_cloud_init_network(config))
        result.update(_user(config))
    else:
        result["cloud_init"] = False
    result["network_config"] = network
    return result


def _network(config: GuestConfigText) -> dict[str, JSON]:
    net0 = parse_props(config.get("net0") or "")
    network: dict[str, JSON] = {"bridge": net0.get("bridge", "vmbr0")}
    if "virtio" in net0:
        network["mac_address"] = net0["virtio"]
    for key, field in (("tag", "vlan_tag"), ("mtu", "mtu")):
        if key in net0:
            network[field] = int(net0[key])
    return network


def _cloud_init_network(config: GuestConfigText) -> dict[str, JSON]:
    ipconfig = parse_props(config.get("ipconfig0") or "ip=dhcp")
    found: dict[str, JSON] = {"ip": ipconfig.get("ip", "dhcp")}
    for key in ("gw", "ip6", "gw6"):
        if key in ipconfig:
            found[key] = ipconfig[key]
    for key in ("nameserver", "searchdomain"):
        if config.get(key):
            found[key] = config.get(key)
    return found


def _user(config: GuestConfigText) -> dict[str, JSON]:
    found: dict[str, JSON] = {}
    if config.get("ciuser"):
        keys = [k for k in unquote(config.get("sshkeys") or "").splitlines() if k.strip()]
        found["user_config"] = {"username": config.get("ciuser"), "ssh_keys": keys}
    custom = parse_props(config.get("cicustom") or "")
    if "user" in custom:
        found["user_data"] = custom["user"]
    storage = custom.get("vendor", "").split(":", 1)[0]
    if storage and storage != "local":
        found["snippets_storage"] = storage
    return found
