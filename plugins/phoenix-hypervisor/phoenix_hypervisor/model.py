"""The typed host configuration: the sections of ``phoenix_hypervisor_config.json`` setup reads.

The core keeps these sections as plain JSON (it cannot know them); :func:`parse_spec`
structures each with the one converter, so a typo or a bad value is an error naming the file
and the JSON path, exit 2, before anything runs. Values that reach a command line are checked
here: names that could read as options, ZFS properties, package names, URLs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import attrs

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.config.validate import (
    Check,
    absolute_path,
    absolute_path_problem,
    hostname,
    ifname_problem,
    ip_address,
    network_client,
)
from phoenix_pve.formats import storage_id
from phoenix_pve.model import Firewall, SuiteCase

#: The ZFS properties setup reconciles, with the values zfs(8) accepts (zfsprops(7)).
ZFS_VALUES = {
    "recordsize": re.compile(r"^\d+(\.\d+)?[KMG]?$", re.IGNORECASE),
    "quota": re.compile(r"^(none|\d+(\.\d+)?[KMGTP]?)$", re.IGNORECASE),
    "compression": re.compile(r"^(on|off|lz4|zle|lzjb|gzip(-[1-9])?|zstd(-fast)?(-\d+)?)$"),
    "sync": re.compile(r"^(standard|always|disabled)$"),
    "atime": re.compile(r"^(on|off)$"),
}
#: A ZFS dataset or pool name component (zfs_namecheck.c: alphanumerics and `_-:.`, a pool
#: name starting with a letter).
_ZFS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")
#: Debian policy 5.6.1: lower case letters, digits, `+ - .`, starting with an alphanumeric.
_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
#: pve-storage PVE/Storage/Plugin.pm: storage ids are `[a-z][a-z0-9\-\_\.]*[a-z0-9]`.
_STORAGE_ID = re.compile(r"^[a-z][a-z0-9._-]*[a-z0-9]$", re.IGNORECASE)
#: A Samba share name: printable, no brackets (smb.conf(5) section names).
_SHARE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: A Linux account name (shadow's default NAME_REGEX).
_ACCOUNT = re.compile(r"^[a-z_][a-z0-9_-]*[$]?$")
#: A tz database name (Area/Location, letters, digits, `_+-`): never an option or a path.
_TIMEZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
#: One OpenSSH public key: type, base64 blob, optional comment, on one line.
_SSH_KEY = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( [^\n]*)?$"
)
CONTENT_TYPES = {"images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import", "none"}


def _pattern(regex: re.Pattern[str], what: str) -> Check:
    return Check(lambda v: None if regex.match(v) else f"not a valid {what}: {v!r}")


ZfsName = Annotated[str, _pattern(_ZFS_NAME, "ZFS name")]
Account = Annotated[str, _pattern(_ACCOUNT, "account name")]


@attrs.frozen
class Pool:
    """``zfs.pools[]``: a pool and the disks it is made of (by-id paths)."""

    name: ZfsName
    disks: list[Annotated[str, absolute_path()]]
    raid_level: Literal["mirror", "single", "RAIDZ1", "raidz1", "stripe"] = "single"

    @property
    def vdev(self) -> list[str]:
        """The vdev words of ``zpool create``: ``mirror``/``raidz1`` or none (a stripe)."""
        level = self.raid_level.lower()
        return [level] if level in ("mirror", "raidz1") else []


@attrs.frozen
class Dataset:
    """``zfs.datasets[]``: a dataset, its properties and the Proxmox storage on it."""

    name: ZfsName
    pool: ZfsName
    properties: str = ""
    proxmox_storage_type: Literal["zfspool", "dir"] = "zfspool"
    proxmox_content_type: str = "none"
    storage_class: str | None = None

    @property
    def full(self) -> str:
        return f"{self.pool}/{self.name}"

    def props(self) -> dict[str, str]:
        """``"k=v,k=v"`` as a dict (checked at load time by :func:`_dataset_problems`)."""
        items = [p.split("=", 1) for p in self.properties.split(",") if p.strip()]
        return {k.strip(): v.strip() for k, v in items}


@attrs.frozen
class ZfsSettings:
    allow_destructive_operations: bool = False


@attrs.frozen
class Zfs:
    arc_max_gb: Annotated[int, Check(lambda v: None if v >= 1 else "must be at least 1")] | None = (
        None
    )
    pools: list[Pool] = attrs.Factory(list)
    datasets: list[Dataset] = attrs.Factory(list)
    settings: ZfsSettings = attrs.Factory(ZfsSettings)


@attrs.frozen
class Export:
    """``nfs.exports[]``: a path, the clients allowed and the export options."""

    path: Annotated[str, absolute_path()]
    clients: list[Annotated[str, network_client()]]
    options: list[
        Annotated[str, _pattern(re.compile(r"^[a-z_]+(=[A-Za-z0-9_:.,/-]+)?$"), "option")]
    ]


@attrs.frozen
class Nfs:
    exports: list[Export] = attrs.Factory(list)


def _share_path_problem(value: str) -> str | None:
    """The old file's relative form (``quickOS/...``) or an absolute path; never ``..``."""
    return absolute_path_problem("/" + value.lstrip("/"))


@attrs.frozen
class Share:
    """``samba.shares[]``. ``path`` is relative to ``/`` (the old file's form) or absolute;
    ``options`` is a space-separated list of smb.conf ``key=value`` pairs."""

    name: Annotated[str, _pattern(_SHARE, "share name")]
    path: Annotated[str, Check(_share_path_problem)]
    options: str = ""
    valid_users: list[Account] = attrs.Factory(list)

    @property
    def absolute(self) -> str:
        return "/" + self.path.strip("/")


@attrs.frozen
class Samba:
    """``samba``: the Samba user, whose password is read from ``password_file`` (a path
    relative to the configuration directory; never a literal in a file that is shared)."""

    user: Account = "heads"
    shares: list[Share] = attrs.Factory(list)
    password_file: str = "phoenix_samba_password.conf"
    workgroup: Annotated[str, _pattern(_SHARE, "workgroup")] = "WORKGROUP"


@attrs.frozen
class NvidiaDriver:
    """``nvidia_driver``: the host driver, pinned to ``version``."""

    install: bool = False
    version: Annotated[str, _pattern(re.compile(r"^\d+(\.\d+)+$"), "driver version")] | None = None
    runfile_url: (
        Annotated[
            str,
            _pattern(re.compile(r"^https://[A-Za-z0-9.-]+/[A-Za-z0-9._/+-]+\.run$"), "https URL"),
        ]
        | None
    ) = None
    runfile_sha256: Annotated[str, _pattern(re.compile(r"^[0-9a-f]{64}$"), "sha256")] | None = None
    cuda_version: str | None = None
    install_vllm_libs: bool = False


@attrs.frozen
class DnsServer:
    enabled: bool = False
    upstream_servers: list[Annotated[str, ip_address()]] = attrs.Factory(list)
    authoritative_zones: list[str] = attrs.Factory(list)


@attrs.frozen
class Vfio:
    """``vfio``: PCI devices (``vendor:device`` ids) handed to VMs through vfio-pci."""

    pci_ids: list[Annotated[str, _pattern(re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$"), "PCI id")]] = (
        attrs.Factory(list)
    )


@attrs.frozen
class StepCa:
    """``step_ca``: the internal CA. ``renewal_command`` (absolute path) is what the
    certificate-renewal cron entry runs, hourly as root; without it there is no entry."""

    root_ca_name: str | None = None
    intermediate_ca_name: str | None = None
    dns_name: str | None = None
    provisioner_name: str | None = None
    renewal_command: (
        Annotated[
            str, absolute_path(), _pattern(re.compile(r"^/[A-Za-z0-9_./-]+$"), "command path")
        ]
        | None
    ) = None


@attrs.frozen
class Users:
    """``users``: the node's administrator account."""

    username: str = "phoenix_admin"
    password_hash: str = ""
    sudo_access: bool = False
    ssh_public_key: str = ""


@attrs.frozen
class Interfaces:
    """``network.interfaces``: the node's own interface (the rest is read by scripts)."""

    name: Annotated[str, Check(ifname_problem)] | None = None


@attrs.frozen
class Plain:
    """The file's sections that setup or its scripts read as JSON objects, and its plain
    values: each typed here (the core declares none of them)."""

    domain_name: Annotated[str, hostname()] | None = None
    mount_point_base: Annotated[str, absolute_path()] = "/mnt/pve"
    #: Storage ids reach command lines (``pvesm``): never option-like.
    proxmox_storage_ids: dict[str, Annotated[str, storage_id()]] = attrs.Factory(dict)
    network: dict[str, Any] | None = None
    docker: dict[str, Any] | None = None
    behavior: dict[str, Any] | None = None
    shared_volumes: dict[str, Any] | None = None
    portainer_api: dict[str, Any] | None = None
    # The guest managers' sections (phoenix_pve.settings types them when they are installed).
    pve_etc: Annotated[str, absolute_path()] | None = None
    legacy_scripts_dir: Annotated[str, absolute_path()] | None = None
    proxmox_defaults: dict[str, Any] | None = None
    vm_defaults: dict[str, Any] | None = None


@attrs.frozen
class HostSpec:
    """What setup converges on one node."""

    domain_name: Annotated[str, hostname()] | None = None
    address: str | None = None
    timezone: str | None = None
    zfs: Zfs = attrs.Factory(Zfs)
    storage_ids: dict[str, str] = attrs.Factory(dict)
    nfs: Nfs = attrs.Factory(Nfs)
    samba: Samba | None = None
    users: Users | None = None
    firewall: Firewall | None = None
    nvidia: NvidiaDriver = attrs.Factory(NvidiaDriver)
    dns: DnsServer = attrs.Factory(DnsServer)
    vfio: Vfio = attrs.Factory(Vfio)
    step_ca: StepCa = attrs.Factory(StepCa)
    #: ``tests.<suite>[]``: scripts under the configuration's ``tests/``, run on the node.
    tests: dict[str, list[SuiteCase]] = attrs.Factory(dict)

    def storage_id(self, dataset: Dataset) -> str:
        """The storage id of a dataset: ``<pool>-<dataset>`` (the old tool's form, which its
        ``proxmox_storage_ids`` values also follow)."""
        return f"{dataset.pool}-{dataset.name}"


#: Sections of the hypervisor file and the model each is structured into.
SECTIONS: dict[str, type] = {
    "nfs": Nfs,
    "samba": Samba,
    "nvidia_driver": NvidiaDriver,
    "dns_server": DnsServer,
    "vfio": Vfio,
    "step_ca": StepCa,
}


def _dataset_problems(dataset: Dataset) -> list[tuple[str, str]]:
    found = []
    for item in (p for p in dataset.properties.split(",") if p.strip()):
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            found.append(("properties", f"{item!r} is not key=value"))
        elif key not in ZFS_VALUES:
            known = ", ".join(sorted(ZFS_VALUES))
            found.append(("properties", f"setup does not manage ZFS property {key!r} ({known})"))
        elif not ZFS_VALUES[key].match(value):
            found.append(("properties", f"{key}={value!r} is not a value zfs accepts"))
    for content in dataset.proxmox_content_type.split(","):
        if content not in CONTENT_TYPES:
            found.append(("proxmox_content_type", f"unknown content type {content!r}"))
    return found


def parse_spec(target: TargetConfig, diagnostics: Diagnostics) -> HostSpec | None:
    """Structure the host sections of the hypervisor file; every problem goes to diagnostics."""
    raw: dict[str, Any] = dict(target.raw)
    file = target.file
    before = len(diagnostics.errors)
    plain_keys = {f.name for f in attrs.fields(Plain)}
    diagnostics.structure(file, "", {k: v for k, v in raw.items() if k in plain_keys}, Plain)
    _interface(file, raw.get("network"), diagnostics)
    parsed: dict[str, Any] = {}
    for key, cls in SECTIONS.items():
        if isinstance(raw.get(key), dict):
            parsed[key] = diagnostics.structure(file, key, raw[key], cls)
    firewall = None
    shared = raw.get("shared_volumes") or {}
    if isinstance(shared, dict) and isinstance(shared.get("firewall"), dict):
        firewall = _firewall(file, shared["firewall"], diagnostics)
    tests = raw.get("tests")
    suites = (
        diagnostics.structure(file, "tests", tests, dict[str, list[SuiteCase]]) if tests else {}
    )
    users = raw.get("users")
    users_spec = diagnostics.structure(file, "users", users, Users) if users else None
    zfs = _zfs(file, raw.get("zfs"), diagnostics)
    for index, dataset in enumerate(zfs.datasets):
        for key, problem in _dataset_problems(dataset):
            diagnostics.error(file, f"zfs.datasets[{index}].{key}", problem)
        if dataset.pool not in {p.name for p in zfs.pools}:
            diagnostics.warn(
                file, f"zfs.datasets[{index}].pool", f"pool {dataset.pool!r} is not in zfs.pools"
            )
    for index, pool in enumerate(zfs.pools):
        if pool.raid_level == "mirror" and len(pool.disks) < 2:
            diagnostics.error(file, f"zfs.pools[{index}].disks", "a mirror needs two disks")
    timezone = raw.get("timezone")
    if timezone is not None and not (isinstance(timezone, str) and _TIMEZONE.match(timezone)):
        diagnostics.error(file, "timezone", f"not a time zone name: {timezone!r}")
    key = users_spec.ssh_public_key if users_spec is not None else ""
    if key and not _SSH_KEY.match(key):
        diagnostics.error(file, "users.ssh_public_key", "not one OpenSSH public key line")
    if users_spec is not None and not _ACCOUNT.match(users_spec.username):
        diagnostics.error(
            file, "users.username", f"not a valid account name: {users_spec.username!r}"
        )
    if len(diagnostics.errors) > before:
        return None
    interfaces = (raw.get("network") or {}).get("interfaces") or {}
    address = interfaces.get("address") if isinstance(interfaces, dict) else None
    return HostSpec(
        domain_name=raw.get("domain_name"),
        address=address.split("/")[0] if isinstance(address, str) else None,
        timezone=timezone,
        zfs=zfs,
        storage_ids=dict(raw.get("proxmox_storage_ids") or {}),
        nfs=parsed.get("nfs") or Nfs(),
        samba=parsed.get("samba"),
        users=users_spec,
        firewall=firewall,
        nvidia=parsed.get("nvidia_driver") or NvidiaDriver(),
        dns=parsed.get("dns_server") or DnsServer(),
        vfio=parsed.get("vfio") or Vfio(),
        step_ca=parsed.get("step_ca") or StepCa(),
        tests=suites or {},
    )


def _interface(file: Any, network: Any, diagnostics: Diagnostics) -> None:
    """``network.interfaces.name`` is a Linux interface name (it reaches ``ip`` and the
    interfaces file); the section's other keys are the scripts'."""
    interfaces = network.get("interfaces") if isinstance(network, dict) else None
    if isinstance(interfaces, dict) and "name" in interfaces:
        picked = {"name": interfaces["name"]}
        diagnostics.structure(file, "network.interfaces", picked, Interfaces)


def _items(file: Any, path: str, data: Any, cls: type, diagnostics: Diagnostics) -> list[Any]:
    """Each item of a list structured on its own, so one bad item hides no other's problem."""
    if not isinstance(data, list):
        diagnostics.error(file, path, "expected a list")
        return []
    found = (diagnostics.structure(file, f"{path}[{i}]", item, cls) for i, item in enumerate(data))
    return [item for item in found if item is not None]


def _zfs(file: Any, data: Any, diagnostics: Diagnostics) -> Zfs:
    if not isinstance(data, dict):
        return Zfs()
    rest = {k: v for k, v in data.items() if k not in ("pools", "datasets")}
    top = diagnostics.structure(file, "zfs", rest, Zfs) or Zfs()
    return attrs.evolve(
        top,
        pools=_items(file, "zfs.pools", data.get("pools", []), Pool, diagnostics),
        datasets=_items(file, "zfs.datasets", data.get("datasets", []), Dataset, diagnostics),
    )


def _firewall(file: Any, data: dict[str, Any], diagnostics: Diagnostics) -> Firewall | None:
    """``shared_volumes.firewall`` (the old file's odd place for the datacenter firewall)."""
    path = "shared_volumes.firewall"
    renamed = {
        "enabled": data.get("enabled", False),
        "policy_in": data.get("default_input_policy"),
        "policy_out": data.get("default_output_policy"),
        "rules": data.get("global_firewall_rules", []),
    }
    known = {"enabled", "default_input_policy", "default_output_policy", "global_firewall_rules"}
    for key in sorted(set(data) - known):
        diagnostics.error(file, f"{path}.{key}", "unknown key")
    firewall = diagnostics.structure(file, path, renamed, Firewall)
    if firewall is not None:
        for where, problem in firewall.problems():
            diagnostics.error(file, f"{path}.global_firewall_{where}", problem)
    return firewall


def package_problem(name: str) -> str | None:
    return None if _PACKAGE.match(name) else f"not a Debian package name: {name!r}"


def storage_problem(name: str) -> str | None:
    return None if _STORAGE_ID.match(name) else f"not a Proxmox storage id: {name!r}"
