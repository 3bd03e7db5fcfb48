"""The typed configuration of one container: every key ``phoenix_lxc_configs.json`` uses.

Defaults merge in one order, lowest first: the hypervisor file's ``proxmox_defaults.lxc``, then
the keys at the root of the LXC file (``nvidia_driver_version`` ...), then the container's own
keys. The first two are merged where they can be: root keys at load time (:func:`parse_spec`),
``proxmox_defaults.lxc`` when steps are built (:func:`with_host_defaults`), because a manager's
``parse`` sees one guest file only.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import attrs

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.config.types import Id, TargetId
from phoenix_core.config.validate import (
    MULTILINE,
    Check,
    absolute_path,
    contained_name,
    gateway_problem,
    hostname,
    ifname_problem,
    in_range,
    ipv4_problem,
    mac_problem,
)
from phoenix_lxc import rawkeys
from phoenix_pve import formats
from phoenix_pve.manage import with_file_defaults
from phoenix_pve.model import JSON, Firewall, HealthCheck, LegacyHealthCheck, SuiteCase, doc
from phoenix_pve.settings import PveSettings

# Ranges and formats follow pve-container src/PVE/LXC/Config.pm (snapshot 94f55852): memory
# minimum 16, swap minimum 0, cores 1-8192, net tag 1-4094, mtu 64-65535, hwaddr mac-addr,
# ip pve-ipv4-config, gw ipv4, bridge/name '[-_.\w\d]+', mp paths pve-lxc-mp-string.
#: Container uids and gids an unprivileged CT maps (rawconf.ID_RANGE): 0-65535.
CT_ID_MAX = 65535
#: Linux uid_t is 32 bits and (uid_t)-1 means "no id" (chown(2)), so host ids stop below it.
HOST_ID_MAX = 2**32 - 2
#: Config.pm $MAX_DEVICES: dev0 to dev255.
MAX_DEVICES = 256
#: A container path (``mp=``): absolute, no '.'/'..' (stricter than pve-lxc-mp-string, which
#: refuses /./ and /../), and not the root itself, which an empty path once became.
_CT_PATH = Check(
    lambda v: (
        absolute_path().test(v)
        or ("cannot mount over the container's root" if v.strip("/") == "" else None)
    ),
    {"pattern": "^/."},
)
#: pve-container LXC/Config.pm $dev_desc: ``path`` (pve-lxc-dev-string: under /dev, no '..'),
#: ``mode`` pattern '0[0-7]{3}', ``uid``/``gid`` integers >= 0, ``deny-write`` boolean.
_DEV_PATH = Check(
    lambda v: (
        absolute_path().test(v)
        or (None if v.startswith("/dev/") and "," not in v else f"not a device under /dev: {v!r}")
    ),
    {"pattern": "^/dev/[^,]+$"},
)
_DEV_MODE = Check(
    lambda v: None if re.fullmatch(r"0[0-7]{3}", v) else f"not an octal mode like 0660: {v!r}",
    {"pattern": "^0[0-7]{3}$"},
)


@attrs.frozen
class NetworkConfig:
    """``network_config``: the container's first interface (net0) and its DNS servers."""

    name: Annotated[str, formats.net_name(), Check(ifname_problem)] = attrs.field(
        default="eth0", metadata=doc("interface name inside the CT")
    )
    bridge: Annotated[str, formats.net_name(), Check(ifname_problem)] = attrs.field(
        default="vmbr0", metadata=doc("host bridge")
    )
    ip: Annotated[str, formats.ipv4_config()] | None = attrs.field(
        default=None, metadata=doc("IPv4/CIDR (prefix 8-32), dhcp or manual")
    )
    gw: Annotated[str, Check(ipv4_problem)] | None = attrs.field(
        default=None, metadata=doc("IPv4 gateway inside the ip's subnet")
    )
    nameservers: Annotated[str, formats.nameservers()] | None = attrs.field(
        default=None, metadata=doc("space-separated DNS server addresses")
    )
    tag: Annotated[int, in_range(1, 4094)] | None = attrs.field(
        default=None, metadata=doc("VLAN tag")
    )
    mtu: Annotated[int, in_range(64, 65535)] | None = None
    ip6: Annotated[str, formats.ipv6_config()] | None = attrs.field(
        default=None, metadata=doc("IPv6/CIDR (prefix 8-128), auto, dhcp or manual")
    )
    gw6: Annotated[str, formats.ipv6()] | None = attrs.field(
        default=None, metadata=doc("IPv6 gateway")
    )
    searchdomain: Annotated[str, formats.dns_names()] | None = attrs.field(
        default=None, metadata=doc("space-separated DNS search domains")
    )


@attrs.frozen
class Device:
    """A ``devices`` entry: a host device node passed through as ``devN`` (PVE 8.1+)."""

    path: Annotated[str, _DEV_PATH] = attrs.field(
        metadata=doc("host device, e.g. /dev/dri/renderD128")
    )
    uid: Annotated[int, in_range(0)] | None = attrs.field(
        default=None, metadata=doc("owner of the node inside the CT")
    )
    gid: Annotated[int, in_range(0)] | None = attrs.field(
        default=None, metadata=doc("group of the node inside the CT (44: video, 104: render)")
    )
    mode: Annotated[str, _DEV_MODE] | None = attrs.field(
        default=None, metadata=doc("access mode, octal like 0660")
    )
    deny_write: bool = attrs.field(default=False, metadata=doc("read-only for the CT"))


@attrs.frozen
class IdMap:
    """One ``id_maps`` entry: container ids [container_id, +size) map to host ids from host_id."""

    type: Literal["uid", "gid"]
    host_id: Annotated[int, in_range(0, HOST_ID_MAX)]
    container_id: Annotated[int, in_range(0, CT_ID_MAX)]
    size: Annotated[int, in_range(1, CT_ID_MAX + 1)] = 1


@attrs.frozen
class MountPoint:
    """A bind mount of a host directory (``mount_points``)."""

    host_path: Annotated[str, absolute_path()]
    container_path: Annotated[str, _CT_PATH]
    owner_uid: Annotated[int, in_range(0, CT_ID_MAX)] | None = attrs.field(
        default=None, metadata=doc("uid inside the CT")
    )
    owner_gid: Annotated[int, in_range(0, CT_ID_MAX)] | None = attrs.field(
        default=None, metadata=doc("gid inside the CT")
    )
    read_only: bool = False
    backup: bool | None = None


@attrs.frozen
class Volume:
    """A storage-allocated volume (``zfs_volumes``, ``volumes``), allocated once."""

    pool: Annotated[str, formats.storage_id()]
    size_gb: Annotated[int, in_range(1)]
    mount_point: Annotated[str, _CT_PATH]
    name: str | None = None
    backup: bool | None = None


@attrs.frozen
class LxcSpec:
    """One container of ``phoenix_lxc_configs.json`` (root keys already merged in)."""

    name: Annotated[str, hostname()]
    memory_mb: Annotated[int, in_range(16)] | None = attrs.field(
        default=None, metadata=doc("RAM in MiB")
    )
    cores: Annotated[int, in_range(1, 8192)] | None = None
    swap_mb: Annotated[int, in_range(0)] | None = None
    template: Annotated[str, formats.template()] | None = attrs.field(
        default=None, metadata=doc("volid, file name or path of the OS template (create)")
    )
    template_storage: Annotated[str, formats.storage_id()] | None = attrs.field(
        default=None,
        metadata=doc("storage for templates (default proxmox_storage_ids.fastData_shared_iso)"),
    )
    download_template: bool = attrs.field(
        default=True, metadata=doc("pveam download the template when it is missing")
    )
    clone_from_ctid: Id | None = None
    template_snapshot_name: Annotated[str, formats.snapshot_name()] | None = attrs.field(
        default=None, metadata=doc("snapshot to take; clones of this CT clone from it")
    )
    storage_pool: Annotated[str, formats.storage_id()] | None = None
    # A rootfs of 0 GiB is not "no size": pct allocates its default and every later run then
    # fails to shrink it to 0.
    storage_size_gb: Annotated[int, in_range(1)] | None = None
    network_config: NetworkConfig | None = None
    mac_address: Annotated[str, Check(mac_problem)] | None = None
    unprivileged: bool = True
    tags: list[Annotated[str, formats.tag()]] | None = attrs.field(
        default=None, metadata=doc("Proxmox tags (shown and sorted by Proxmox, case-insensitive)")
    )
    description: Annotated[str, MULTILINE, formats.description()] | None = attrs.field(
        default=None, metadata=doc("the notes shown in the CT's summary")
    )
    timezone: Annotated[str, formats.timezone()] | None = attrs.field(
        default=None, metadata=doc("host, UTC or a zone name like Europe/Berlin")
    )
    devices: list[Device] | None = attrs.field(
        default=None, metadata=doc("host devices passed through as dev0, dev1... (PVE 8.1+)")
    )
    protection: bool | None = attrs.field(
        default=None, metadata=doc("Proxmox refuses to remove the CT or its disks while set")
    )
    ssh_public_keys_file: Annotated[str, absolute_path()] | None = attrs.field(
        default=None,
        metadata=doc("root's authorized keys: a public key file on the workstation (create)"),
    )
    root_password_file: Annotated[str, absolute_path()] | None = attrs.field(
        default=None,
        metadata=doc("root's password: a mode 0600 file on the workstation (create)"),
    )
    start_at_boot: bool = False
    boot_order: Annotated[int, in_range(0)] | None = None
    boot_delay: Annotated[int, in_range(0)] = 0
    features: list[Annotated[str, contained_name()]] = attrs.Factory(list)
    gpu_assignment: str = attrs.field(default="none", metadata=doc('"none" or "0" / "0, 1"'))
    portainer_role: str | None = None
    apparmor_profile: str | None = None
    apparmor_manages_nesting: bool = False
    pct_options: list[str] | None = attrs.field(
        default=None, metadata=doc('pct --features entries, e.g. "nesting=1"')
    )
    lxc_options: list[str] = attrs.field(
        factory=list, metadata=doc("raw lines `lxc.key=value` or `lxc.key: value`")
    )
    id_maps: list[IdMap] = attrs.Factory(list)
    mount_points: list[MountPoint] = attrs.Factory(list)
    zfs_volumes: list[Volume] = attrs.Factory(list)
    volumes: list[Volume] = attrs.Factory(list)
    firewall: Firewall | None = None
    dependencies: list[TargetId] = attrs.Factory(list)
    application_script: Annotated[str, contained_name()] | None = None
    bootstrap_ca_url: str | None = None
    health_check: LegacyHealthCheck | None = None
    health_checks: list[HealthCheck] = attrs.Factory(list)
    enable_lifecycle_snapshots: bool = False
    trigger_sync_on_completion: bool = False
    is_template: bool = attrs.field(default=False, metadata=doc("convert to a template at the end"))
    node: Annotated[str, hostname(single_label=True)] | None = None
    ready_timeout: Annotated[int, in_range(1)] = attrs.field(
        default=120, metadata=doc("seconds to wait for `pct exec <id> -- true` after a start")
    )
    # Read by feature and application scripts only; handed to them in the guest JSON.
    vllm_engine_config: dict[str, JSON] | None = None
    traefik_service: dict[str, JSON] | None = None
    ports: list[str] = attrs.Factory(list)
    tests: dict[str, list[SuiteCase]] | None = None
    nvidia_driver_version: str | None = None
    nvidia_repo_url: str | None = None
    nvidia_runfile_url: str | None = None

    def gpu_indices(self) -> list[int]:
        """``"0, 1"`` -> [0, 1]; ``"none"`` -> []."""
        if self.gpu_assignment.strip().lower() in ("", "none"):
            return []
        return [int(p) for p in self.gpu_assignment.split(",") if p.strip()]


#: proxmox_defaults.lxc keys that have the model's shape and are merged.
_HOST_DEFAULT_KEYS = (
    "memory_mb",
    "cores",
    "swap_mb",
    "storage_pool",
    "storage_size_gb",
    "unprivileged",
)
#: A feature is looked up as ``features/lxc/<name>.sh``: one file name, not a path.
_FEATURE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
#: pve-container Config.pm $features_desc: the keys of ``--features``; ``mount`` takes
#: file system types (pattern [a-zA-Z0-9_; ]+), the others are booleans.
_PCT_FEATURES = re.compile(
    r"^((nesting|keyctl|fuse|mknod|force_rw_sys)=(0|1|yes|no|true|false|on|off)|mount=[A-Za-z0-9_; ]+)$"
)
_GPU = re.compile(r"^(none|[0-9]+( *, *[0-9]+)*)$", re.IGNORECASE)


def parse_spec(guest: TargetConfig, diagnostics: Diagnostics) -> LxcSpec | None:
    """Structure a container (file root keys merged under its own) and check what types cannot."""
    merged = with_file_defaults(guest, LxcSpec, diagnostics, where=lambda key: key)
    spec = diagnostics.structure(guest.file, guest.path, merged, LxcSpec)
    if spec is None:
        return None
    path = guest.path
    if spec.template is None and spec.clone_from_ctid is None:
        # An imported container has neither: it is converged while it exists.
        diagnostics.warn(
            guest.file,
            path,
            "has no template or clone_from_ctid: it can be converged but not created",
        )
    for index, feature in enumerate(spec.features):
        if not _FEATURE.match(feature):
            diagnostics.error(
                guest.file, f"{path}.features[{index}]", f"not a feature name: {feature!r}"
            )
    if not _GPU.match(spec.gpu_assignment.strip()):
        diagnostics.error(
            guest.file, f"{path}.gpu_assignment", 'expected "none" or GPU indices like "0, 1"'
        )
    for where, problem in _value_problems(spec):
        diagnostics.error(guest.file, f"{path}.{where}", problem)
    for where, problem, fatal in _raw_key_problems(spec):
        (diagnostics.error if fatal else diagnostics.warn)(guest.file, f"{path}.{where}", problem)
    if spec.is_template and spec.enable_lifecycle_snapshots:
        diagnostics.warn(
            guest.file,
            f"{path}.enable_lifecycle_snapshots",
            "ignored for a template: Proxmox cannot convert a CT that has snapshots",
        )
    seen: dict[str, str] = {}
    for key, items in (
        ("mount_points", spec.mount_points),
        ("zfs_volumes", spec.zfs_volumes),
        ("volumes", spec.volumes),
    ):
        for index, item in enumerate(items):
            target = item.container_path if isinstance(item, MountPoint) else item.mount_point
            where = f"{key}[{index}]"
            if target in seen:
                diagnostics.error(
                    guest.file, f"{path}.{where}", f"{target} is also mounted by {seen[target]}"
                )
            seen[target] = where
    if spec.apparmor_profile not in (None, "unconfined"):
        diagnostics.warn(
            guest.file,
            f"{path}.apparmor_profile",
            "custom AppArmor profiles are not installed by phoenix; put `lxc.apparmor.profile: <name>` in lxc_options",
        )
    return spec


def _value_problems(spec: LxcSpec) -> list[tuple[str, str]]:
    """(JSON path below the container, problem) for what depends on more than one field."""
    found: list[tuple[str, str]] = []
    net = spec.network_config
    if net is not None and net.gw is not None and net.ip not in (None, "dhcp", "manual"):
        problem = gateway_problem(net.gw, str(net.ip))
        if problem:
            found.append(("network_config.gw", problem))
    for index, item in enumerate(spec.id_maps):
        where = f"id_maps[{index}]"
        if item.container_id + item.size > CT_ID_MAX + 1:
            found.append(
                (f"{where}.size", f"container ids {item.container_id}+{item.size} pass {CT_ID_MAX}")
            )
        if item.host_id + item.size - 1 > HOST_ID_MAX:
            found.append(
                (f"{where}.size", f"host ids {item.host_id}+{item.size} pass {HOST_ID_MAX}")
            )
    for index, option in enumerate(spec.pct_options or []):
        if not _PCT_FEATURES.match(option):
            found.append(
                (
                    f"pct_options[{index}]",
                    f"not a container feature (nesting, keyctl, fuse, mknod, force_rw_sys =0|1, "
                    f"or mount=<fs;fs>): {option!r}",
                )
            )
    if spec.firewall is not None:
        found += [(f"firewall.{where}", problem) for where, problem in spec.firewall.problems()]
    if spec.devices is not None and len(spec.devices) > MAX_DEVICES:
        found.append(("devices", f"Proxmox has {MAX_DEVICES} device slots (dev0-dev255)"))
    return found


def _raw_key_problems(spec: LxcSpec) -> list[tuple[str, str, bool]]:
    found = []
    for index, option in enumerate(spec.lxc_options):
        key, _ = rawkeys.split_option(option)
        problem = rawkeys.key_problem(key)
        if problem is not None:
            found.append((f"lxc_options[{index}]", *problem))
    return found


def with_host_defaults(spec: LxcSpec, guest: TargetConfig, hypervisor: PveSettings) -> LxcSpec:
    """Fill keys the container leaves unset from ``proxmox_defaults.lxc`` (the lowest layer).

    Only keys with the model's own shape are used; the rest (``network_config`` as an
    ``"ip/cidr,gw,dns"`` string, ``features`` as ``"nesting=1"``, ``security``, ``nesting``) are
    ignored with a logged warning: the old tool never applied them, and applying them now would
    silently change every container.
    """
    defaults = hypervisor.proxmox_defaults.lxc
    updates: dict[str, Any] = {}
    for key in _HOST_DEFAULT_KEYS:
        if key in defaults and key not in guest.raw and key not in guest.file_defaults:
            updates[key] = defaults[key]
    typed = {
        k: v
        for k, v in updates.items()
        if isinstance(v, bool) == (k == "unprivileged") and isinstance(v, int | str)
    }
    return attrs.evolve(spec, **typed) if typed else spec


def ignored_host_defaults(hypervisor: PveSettings) -> list[str]:
    """The ``proxmox_defaults.lxc`` keys :func:`with_host_defaults` does not use."""
    return sorted(k for k in hypervisor.proxmox_defaults.lxc if k not in _HOST_DEFAULT_KEYS)
