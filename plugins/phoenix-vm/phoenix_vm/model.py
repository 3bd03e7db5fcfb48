"""The typed configuration of one VM: every key ``phoenix_vm_configs.json`` uses.

``vm_defaults`` apply under each VM (the VM's own keys win), merged in :func:`parse_spec`.
Keys that belong to other tools (Portainer, Traefik, DNS, the sync job) are kept, handed to
scripts in the guest JSON, and reported once as not acted on by phoenix-vm.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

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
from phoenix_pve import formats
from phoenix_pve.manage import report_once, with_file_defaults
from phoenix_pve.model import JSON, Firewall, HealthCheck, LegacyHealthCheck, SuiteCase, doc

# Ranges follow qemu-server src/PVE/QemuServer.pm $confdesc (memory >= 16 MiB, cores 1-8192,
# net tag 1-4094) and src/PVE/QemuServer/Cloudinit.pm (ciuser, nameserver, searchdomain).

#: ``template_image``: a file name (no path), as a storage's ``iso/`` holds it.
_IMAGE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*\.(img|qcow2|raw|iso)$")
#: ``<algorithm>:<hex>`` as download-url takes them (pve-storage Status.pm checksum-algorithm).
_CHECKSUM = re.compile(r"^(md5|sha1|sha224|sha256|sha384|sha512):([0-9a-fA-F]+)$")
_DIGEST_LENGTH = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
#: ``hostpci``: a PCI address (``0000:01:00`` / ``01:00.0``) or ``mapping=<id>``, with options.
_HOSTPCI = re.compile(
    r"^((host=)?([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(\.[0-7])?|mapping=[\w.-]+)"
    r"(,(pcie|x-vga|rombar|mdev|romfile|legacy-igd)=[\w.:-]+)*$"
)
#: A user name as cloud-init and useradd accept it (shadow-utils' default NAME_REGEX).
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: An OpenSSH public key line (type, base64 body, optional comment).
_SSH_KEY = re.compile(r"^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp\d+|sk-\S+) [A-Za-z0-9+/=]+( .*)?$")
_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+$")
_FEATURE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

#: Keys read by other tools of the homelab (Portainer, Traefik, DNS, the sync job): kept in
#: the guest JSON scripts receive, never acted on here.
OTHER_TOOLS = (
    "docker_stacks",
    "portainer_role",
    "portainer_environment_name",
    "portainer_agent_hostname",
    "traefik_service",
    "dns_records",
    "trigger_sync_on_completion",
)


def _image_problem(value: str) -> str | None:
    if _IMAGE.match(value):
        return None
    return f"not an image file name (<name>.img|.qcow2|.raw|.iso, no path): {value!r}"


#: A snippet volume (pve-storage: ``<storage>:snippets/<file>``, no sub-directories).
_SNIPPET = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:snippets/[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _snippet_problem(value: str) -> str | None:
    if _SNIPPET.match(value):
        return None
    return f"not a snippet volume (<storage>:snippets/<file>): {value!r}"


@attrs.frozen
class NetworkConfig:
    """``network_config``: net0 on the host bridge and the guest's cloud-init network."""

    ip: Annotated[str, formats.ipv4_config()] = attrs.field(
        default="dhcp", metadata=doc("IPv4/CIDR (prefix 8-32) or dhcp")
    )
    gw: Annotated[str, Check(ipv4_problem)] | None = attrs.field(
        default=None, metadata=doc("IPv4 gateway inside the ip's subnet (static ip)")
    )
    nameserver: Annotated[str, formats.nameservers()] | None = attrs.field(
        default=None, metadata=doc("space-separated DNS servers (cloud-init)")
    )
    searchdomain: str | None = None
    ip6: Annotated[str, formats.ipv6_config()] | None = attrs.field(
        default=None, metadata=doc("IPv6/CIDR (prefix 8-128), auto or dhcp (cloud-init)")
    )
    gw6: Annotated[str, formats.ipv6()] | None = attrs.field(
        default=None, metadata=doc("IPv6 gateway (static ip6)")
    )
    bridge: Annotated[str, formats.net_name(), Check(ifname_problem)] | None = attrs.field(
        default=None, metadata=doc("host bridge (default vm_defaults.network_bridge, vmbr0)")
    )
    mac_address: Annotated[str, Check(mac_problem)] | None = None
    vlan_tag: Annotated[int, in_range(1, 4094)] | None = None
    mtu: Annotated[int, in_range(1, 65520)] | None = None


@attrs.frozen
class UserConfig:
    """``user_config``: the cloud-init user and the SSH keys it may log in with."""

    username: str = attrs.field(metadata=doc("cloud-init ciuser"))
    ssh_keys: list[str] = attrs.field(
        factory=list, metadata=doc("OpenSSH public key lines for the user")
    )
    ssh_key_file: Annotated[str, absolute_path()] | None = attrs.field(
        default=None, metadata=doc("a public key file on the workstation (e.g. ~/.ssh/id.pub)")
    )


@attrs.frozen
class NfsVolume:
    """A ``volumes`` entry of type nfs: the host exports ``path``, the VM mounts it."""

    type: Literal["nfs"]
    path: Annotated[str, absolute_path()] = attrs.field(metadata=doc("exported host path"))
    mount_point: Annotated[str, absolute_path()]
    server: Annotated[str, Check(ipv4_problem)]
    name: str | None = None
    options: str = attrs.field(default="defaults,_netdev,nofail", metadata=doc("fstab options"))
    owner: str | None = attrs.field(default=None, metadata=doc("host directory owner uid:gid"))
    mode: str | None = attrs.field(default=None, metadata=doc("host directory mode, octal"))


@attrs.frozen
class Snapshots:
    """``snapshots``: the old tool's names for the snapshots around the features."""

    pre_features: Annotated[str, formats.snapshot_name()] | None = attrs.field(
        default=None, metadata={"json": "pre-features"}
    )
    post_features: Annotated[str, formats.snapshot_name()] | None = attrs.field(
        default=None, metadata={"json": "post-features"}
    )


@attrs.frozen
class VmSpec:
    """One VM of ``phoenix_vm_configs.json`` (``vm_defaults`` merged in)."""

    name: Annotated[str, hostname()]
    vmid: Id | None = None
    cores: Annotated[int, in_range(1, 8192)] | None = None
    memory_mb: Annotated[int, in_range(16)] | None = attrs.field(
        default=None, metadata=doc("RAM in MiB")
    )
    disk_size_gb: Annotated[int, in_range(1)] | None = attrs.field(
        default=None, metadata=doc("boot disk size; grown, never shrunk")
    )
    storage_pool: Annotated[str, formats.storage_id()] | None = None
    network_bridge: Annotated[str, formats.net_name(), Check(ifname_problem)] = "vmbr0"
    template: str | None = attrs.field(
        default=None, metadata=doc("not used for VMs (an LXC template name in the old file)")
    )
    is_template: bool = False
    template_image: Annotated[str, Check(_image_problem)] | None = attrs.field(
        default=None, metadata=doc("cloud image file the template VM is built from")
    )
    template_image_url: str | None = attrs.field(
        default=None,
        metadata=doc(
            "where the node downloads it (default https://cloud-images.ubuntu.com/"
            "<ubuntu_release>/current/<template_image>)"
        ),
    )
    template_image_checksum: str | None = attrs.field(
        default=None, metadata=doc("<algorithm>:<hex>, verified by the node after download")
    )
    image_storage: Annotated[str, formats.storage_id()] | None = attrs.field(
        default=None,
        metadata=doc(
            "file storage for the image (default proxmox_storage_ids.fastData_shared_iso)"
        ),
    )
    snippets_storage: Annotated[str, formats.storage_id()] | None = attrs.field(
        default=None,
        metadata=doc(
            "storage with snippets content for cloud-init vendor data (default: the first "
            "storage, by id, that holds snippets)"
        ),
    )
    user_data: Annotated[str, Check(_snippet_problem)] | None = attrs.field(
        default=None,
        metadata=doc("cloud-init user data: a snippet volume <storage>:snippets/<file>"),
    )
    ubuntu_release: str | None = None
    template_snapshot_name: Annotated[str, formats.snapshot_name()] | None = None
    clone_from_vmid: Id | None = None
    linked_clone: bool = attrs.field(default=False, metadata=doc("linked instead of full clone"))
    start_at_boot: bool = False
    boot_order: Annotated[int, in_range(0)] | None = None
    boot_delay: Annotated[int, in_range(0)] = 0
    tags: list[Annotated[str, formats.tag()]] | None = attrs.field(
        default=None, metadata=doc("Proxmox tags (shown and sorted by Proxmox, case-insensitive)")
    )
    description: Annotated[str, MULTILINE, formats.description()] | None = attrs.field(
        default=None, metadata=doc("the notes shown in the VM's summary")
    )
    protection: bool | None = attrs.field(
        default=None, metadata=doc("Proxmox refuses to remove the VM or its disks while set")
    )
    network_config: NetworkConfig | None = None
    user_config: UserConfig | None = None
    agent: bool = attrs.field(default=True, metadata=doc("QEMU guest agent (agent: 1)"))
    cloud_init: bool = attrs.field(
        default=True,
        metadata=doc(
            "phoenix manages cloud-init (ipconfig0, user, keys, vendor data); false for a VM "
            "imported without it"
        ),
    )
    hostpci: list[str] = attrs.field(
        factory=list, metadata=doc("hostpciN values (GPU passthrough)")
    )
    features: list[Annotated[str, contained_name()]] = attrs.Factory(list)
    application_script: Annotated[str, contained_name()] | None = None
    volumes: list[NfsVolume] = attrs.Factory(list)
    firewall: Firewall | None = None
    dependencies: list[TargetId] = attrs.Factory(list)
    snapshots: Snapshots | None = None
    enable_lifecycle_snapshots: bool = False
    health_check: LegacyHealthCheck | None = None
    health_checks: list[HealthCheck] = attrs.Factory(list)
    tests: dict[str, list[SuiteCase]] | None = attrs.field(
        default=None, metadata=doc("test suites `phoenix test` runs (docs/health.md)")
    )
    node: Annotated[str, hostname(single_label=True)] | None = None
    ready_timeout: Annotated[int, in_range(1)] = attrs.field(
        default=300, metadata=doc("seconds to wait for the guest agent after a start")
    )
    cloud_init_timeout: Annotated[int, in_range(1)] = attrs.field(
        default=900, metadata=doc("seconds `cloud-init status --wait` may take")
    )
    # Read by other tools and by scripts only (OTHER_TOOLS).
    docker_stacks: list[str] = attrs.Factory(list)
    portainer_role: str | None = None
    portainer_environment_name: str | None = None
    portainer_agent_hostname: str | None = None
    traefik_service: dict[str, JSON] | None = None
    dns_records: list[JSON] = attrs.Factory(list)
    trigger_sync_on_completion: bool = False

    @property
    def bridge(self) -> str:
        net = self.network_config
        return (net.bridge if net and net.bridge else None) or self.network_bridge


def _user_problems(user: UserConfig) -> list[tuple[str, str]]:
    found = []
    if not _USER.match(user.username):
        found.append(
            ("username", f"not a user name ([a-z_][a-z0-9_-]*, 32 max): {user.username!r}")
        )
    for index, key in enumerate(user.ssh_keys):
        if not _SSH_KEY.match(key.strip()) or "\n" in key.strip():
            found.append((f"ssh_keys[{index}]", "not one OpenSSH public key line"))
    return found


def _value_problems(spec: VmSpec) -> list[tuple[str, str]]:
    """(JSON path below the VM, problem) for what depends on more than one field."""
    found: list[tuple[str, str]] = []
    net = spec.network_config
    if net is not None and net.gw6 is not None and net.ip6 in (None, "auto", "dhcp"):
        found.append(("network_config.gw6", "a gateway goes with a static ip6"))
    if net is not None and net.ip != "dhcp":
        if net.ip == "manual":
            found.append(("network_config.ip", "cloud-init takes a CIDR or dhcp, not manual"))
        elif net.gw is None:
            found.append(("network_config.gw", "a static ip needs a gateway"))
        else:
            problem = gateway_problem(net.gw, net.ip)
            if problem:
                found.append(("network_config.gw", problem))
    searchdomain = net.searchdomain if net is not None else None
    if searchdomain is not None and not all(_DOMAIN.match(d) for d in searchdomain.split()):
        found.append(("network_config.searchdomain", "not a list of domain names"))
    if spec.user_config is not None:
        found += [(f"user_config.{w}", p) for w, p in _user_problems(spec.user_config)]
    if spec.template_image_checksum is not None:
        match = _CHECKSUM.match(spec.template_image_checksum)
        if not match or len(match.group(2)) != _DIGEST_LENGTH[match.group(1)]:
            found.append(
                (
                    "template_image_checksum",
                    "expected <algorithm>:<hex digest>, e.g. sha256:<64 hex>",
                )
            )
    for key in ("template_image_url",):
        value = getattr(spec, key)
        if value is not None and not value.startswith(("https://", "http://")):
            found.append((key, f"not an http(s) URL: {value!r}"))
    for index, value in enumerate(spec.hostpci):
        if not _HOSTPCI.match(value):
            found.append((f"hostpci[{index}]", f"not a PCI address or mapping=<id>: {value!r}"))
    for index, feature in enumerate(spec.features):
        if not _FEATURE.match(feature):
            found.append((f"features[{index}]", f"not a feature name: {feature!r}"))
    if spec.firewall is not None:
        found += [(f"firewall.{where}", problem) for where, problem in spec.firewall.problems()]
    inside = [k for k in ("features", "application_script", "volumes") if getattr(spec, k)]
    if not spec.agent and not spec.is_template:
        found.append(
            (
                "agent",
                "phoenix needs the guest agent to know the VM is up"
                + (f" and for {', '.join(inside)}" if inside else ""),
            )
        )
    seen: dict[str, int] = {}
    for index, volume in enumerate(spec.volumes):
        if volume.mount_point in seen:
            found.append(
                (
                    f"volumes[{index}].mount_point",
                    f"also mounted by volumes[{seen[volume.mount_point]}]",
                )
            )
        seen[volume.mount_point] = index
        if volume.mode is not None and not re.fullmatch(r"[0-7]{3,4}", volume.mode):
            found.append((f"volumes[{index}].mode", f"not an octal mode: {volume.mode!r}"))
        if volume.owner is not None and not re.fullmatch(r"\d+(:\d+)?", volume.owner):
            found.append((f"volumes[{index}].owner", f"expected uid[:gid]: {volume.owner!r}"))
    return found


def parse_spec(guest: TargetConfig, diagnostics: Diagnostics) -> VmSpec | None:
    """Structure a VM (``vm_defaults`` under its own keys) and check what types cannot."""
    merged = with_file_defaults(guest, VmSpec, diagnostics, where=lambda key: f"vm_defaults.{key}")
    spec = diagnostics.structure(guest.file, guest.path, merged, VmSpec)
    if spec is None:
        return None
    path = guest.path
    if spec.clone_from_vmid is None and spec.template_image is None:
        # An imported VM has neither: it is converged while it exists.
        diagnostics.warn(
            guest.file,
            path,
            "has no template_image or clone_from_vmid: it can be converged but not created",
        )
    if spec.template_image is not None and spec.storage_pool is None:
        diagnostics.error(  # qm create needs a storage for its disks (a clone does not)
            guest.file,
            f"{path}.storage_pool",
            "not set, neither here nor in vm_defaults: the VM cannot be created",
        )
    if spec.clone_from_vmid is not None and spec.template_image is not None:
        diagnostics.error(
            guest.file, f"{path}.template_image", "a clone (clone_from_vmid) takes no image"
        )
    for where, problem in _value_problems(spec):
        diagnostics.error(guest.file, f"{path}.{where}", problem)
    other = [k for k in OTHER_TOOLS if k in guest.raw]
    if other:
        diagnostics.warn(
            guest.file,
            path,
            f"{', '.join(other)}: kept for scripts (in the guest JSON), not acted on by phoenix-vm",
        )
    if "template" in merged:
        where = "vm_defaults.template" if "template" not in guest.raw else f"{path}.template"
        message = "not used for VMs: a VM is built from template_image or a clone"
        report_once(diagnostics, guest.file, where, message, fatal=False)
    return spec
