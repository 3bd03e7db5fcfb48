"""Cloud-init: the user, SSH keys, network and DNS the guest is configured with at boot.

Drift is read from ``qm config`` (the values) and ``qm cloudinit pending`` (a drive generated
from older values, e.g. after a ``qm set`` whose regeneration never ran). A change is one
``qm set`` with the differing keys, then ``qm cloudinit update``, so a running guest gets the
new drive at its next boot without waiting for a restart to rebuild it.

``--sshkeys`` takes a file on the node whose contents qm URL-encodes (pve-cli.md §2.3): the
keys go in a 0600 file in a private directory, never on a command line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

import attrs

from phoenix_core.errors import PhoenixError
from phoenix_core.steps import Change, Step
from phoenix_pve import errors, options
from phoenix_pve.live import Live
from phoenix_pve.parse import parse_props
from phoenix_pve.shell import private_file
from phoenix_vm import storages
from phoenix_vm.model import VmSpec

COMPARISON = options.Comparison(
    props=frozenset({"cicustom", "ipconfig0"}), words=frozenset({"nameserver", "searchdomain"})
)
#: Where the vendor data that installs the guest agent lives on the snippets storage.
VENDOR_FILE = "phoenix-vm-vendor.yaml"
#: Cloud-init vendor data: install and start the guest agent (and the NFS client the volumes
#: need) at first boot, instead of editing the image with virt-customize as the old tool did.
VENDOR_DATA = """#cloud-config
package_update: true
packages:
  - qemu-guest-agent
  - nfs-common
runcmd:
  - [systemctl, enable, --now, qemu-guest-agent]
"""


@attrs.frozen
class SshKeys:
    """Change data: the public keys, written to a file for ``--sshkeys``."""

    text: str


def ssh_keys(spec: VmSpec) -> str:
    """The authorized keys, one per line (config keys, then the key file's)."""
    user = spec.user_config
    if user is None:
        return ""
    keys = [k.strip() for k in user.ssh_keys]
    if user.ssh_key_file:
        try:
            keys += [k.strip() for k in Path(user.ssh_key_file).read_text().splitlines()]
        except OSError as exc:
            raise PhoenixError(
                f"user_config.ssh_key_file: cannot read {exc.filename}: {exc.strerror}"
            ) from None
    return "".join(f"{k}\n" for k in keys if k)


def current_vendor_storage(live: Live) -> str | None:
    """The storage the VM's vendor data is on already (phoenix's snippet on any storage)."""
    vendor = parse_props(live.config().get("cicustom") or "").get("vendor", "")
    storage, _, volname = vendor.partition(":")
    return storage if volname == f"snippets/{VENDOR_FILE}" else None


def vendor_storage(spec: VmSpec, live: Live) -> str:
    """``snippets_storage`` when set; else the storage the VM's vendor data is on (so an
    in-sync VM costs no storage read); else the node's first storage holding snippets."""
    return (
        spec.snippets_storage
        or current_vendor_storage(live)
        or storages.snippets_home(live, None)[0]
    )


def desired(spec: VmSpec, vendor_storage: str) -> dict[str, str]:
    """The cloud-init keys (``""``: absent) as ``qm config`` prints them, the vendor data on
    ``vendor_storage``."""
    net = spec.network_config
    custom = f"vendor={vendor_storage}:snippets/{VENDOR_FILE}"
    if spec.user_data:
        # The user's own user data replaces Proxmox's generated one (user, keys) entirely.
        custom = f"user={spec.user_data},{custom}"
    want: dict[str, str] = {"cicustom": custom}
    if spec.user_config is not None:
        want["ciuser"] = spec.user_config.username
    if net is None or net.ip == "dhcp":
        want["ipconfig0"] = "ip=dhcp"
    else:
        want["ipconfig0"] = f"ip={net.ip},gw={net.gw}"
    if net is not None and net.ip6 is not None:
        want["ipconfig0"] += f",ip6={net.ip6}" + (f",gw6={net.gw6}" if net.gw6 else "")
    want["nameserver"] = (net.nameserver if net else None) or ""
    want["searchdomain"] = (net.searchdomain if net else None) or ""
    return want


def _shown(keys: str) -> str | None:
    """How a plan shows keys: their count and a short digest, never the keys themselves."""
    if not keys:
        return None
    return f"{len(keys.splitlines())} key(s) {hashlib.sha256(keys.encode()).hexdigest()[:12]}"


def _keys_drift(spec: VmSpec, live: Live) -> list[Change]:
    """Keys are managed with the user: without ``user_config`` a clone keeps its source's.
    No keys wanted is an option change (``--delete sshkeys``); keys go through a file."""
    if spec.user_config is None:
        return []
    want = ssh_keys(spec)
    have = unquote(live.config().get("sshkeys") or "")
    if want.splitlines() == [k for k in have.splitlines() if k.strip()]:
        return []
    data = SshKeys(want) if want else options.OptionValue("sshkeys", None)
    return [Change("sshkeys", _shown(have), _shown(want), data=data)]


def pending_regeneration(live: Live) -> list[str]:
    """Cloud-init keys whose value the drive does not hold yet: from the conf file's
    ``[special:cloudinit]`` section in the run's snapshot, which is all ``qm cloudinit
    pending`` reads (qemu-server src/PVE/API2/Qemu.pm cloudinit_pending); its ``new``/``del``
    lines without a snapshot."""

    def read() -> list[str]:
        recorded = live.cloudinit_stale()
        if recorded is not None:
            return recorded
        argv = [live.kind.tool, "cloudinit", "pending", str(live.vmid)]
        result = errors.check(live.query(argv))
        return [
            line.split(":", 1)[0].split(" ", 1)[1]
            for line in result.stdout.splitlines()
            if line.startswith(("new ", "del "))
        ]

    return live.memo("cloudinit pending", read)


def step(spec: VmSpec, live: Live, *, skip_pending: bool) -> Step:
    """Values first; then, unless ``skip_pending`` (a template never boots), a stale drive."""

    def check() -> list[Change]:
        have = live.config().options
        want = desired(spec, vendor_storage(spec, live))
        changes = options.drift(want, have, COMPARISON) + _keys_drift(spec, live)
        if not changes and live.exists and not skip_pending and not live.is_template:
            stale = pending_regeneration(live)
            if stale:
                changes.append(
                    Change("cloud-init drive", f"stale ({', '.join(stale)})", "regenerated")
                )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        values = [c for c in changes if isinstance(c.data, options.OptionValue)]
        argv = options.set_argv(live, values)
        keys = next((c.data for c in changes if isinstance(c.data, SshKeys)), None)
        if keys is not None:
            with_keys_file(live, keys.text, argv)
        elif values:
            live.change(argv)
        live.change([live.kind.tool, "cloudinit", "update", str(live.vmid)])

    return Step("cloud-init", check, apply)


def with_keys_file(live: Live, text: str, argv: list[str]) -> None:
    """``argv`` plus ``--sshkeys <file>``: ``--sshkeys`` takes a file, and keys never go on a
    command line."""
    with private_file(live.host, text.encode(), "phoenix-sshkeys") as path:
        live.change([*argv, "--sshkeys", path])
