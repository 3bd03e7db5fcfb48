"""The state one owner process holds for its simulated node, shared by all command handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from . import cloudinit, conffile, fwfile, guestos, pmxcfs, subid
from .api import Api
from .faults import Faults
from .guestfs import GuestFs
from .hoststate import HostState, prepare_tree
from .profile import PVE8, Profile
from .result import CliError, Result


@dataclass
class Node:
    """One simulated PVE node: the fakepve object, an API session and the simulator's extras."""

    pve: Any
    api: Api
    name: str
    sim_dir: Path
    faults: Faults = field(default_factory=Faults)
    catalogue: list[str] = field(default_factory=list)
    profile: Profile = PVE8
    host: HostState = None  # type: ignore[assignment]
    #: Seconds after a start before the guest agent answers (a booting guest starts
    #: qemu-guest-agent late); tests make it small with SimNode.set_agent_delay.
    agent_delay: float = 3.0
    #: What `download-url` can fetch: URL -> the file's bytes (anything else is a 404).
    remote_files: dict[str, bytes] = field(default_factory=dict)
    #: The content of files download-url stored, by path (for its checksum of a kept file).
    stored_files: dict[str, bytes] = field(default_factory=dict)
    #: Per VM, the cloud-init keys as the drive was last generated (start or `cloudinit update`).
    cloudinit_applied: dict[int, dict[str, str]] = field(default_factory=dict)
    #: Per VM, `qm guest exec` results not yet collected by `exec-status`, by pid.
    agent_execs: dict[int, dict[int, dict[str, object]]] = field(default_factory=dict)
    #: systemd-run's transient timers not yet elapsed, by unit name (transient.py).
    transient_timers: dict[str, Any] = field(default_factory=dict)
    #: Per storage, the template files storagefiles.sync wrote in the node directory.
    template_files: dict[str, set[Path]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.host is None:
            self.host = HostState(self.sim_dir)
        prepare_tree(self.sim_dir, self.profile, self.name)
        release = self.sim_dir / "etc" / "os-release"
        if not release.exists():
            release.parent.mkdir(parents=True, exist_ok=True)
            release.write_text(self.profile.os_release)
        self.guestfs = GuestFs(self.sim_dir / "guests", self._container_tool)
        self.pve_etc = self.sim_dir / "etc" / "pve"
        conffile.prepare_tree(self.pve_etc, self.name)
        pmxcfs.write_mounts(self.sim_dir)
        subid.seed(self.sim_dir / "etc")

    # ------------------------------------------------------------ guest OS

    def _container_tool(self, vmid: int, argv: list[str]) -> Result | None:
        """`ip addr`/`getent` inside a container, answered from its facts (guestos.py)."""
        guest = self.guest(vmid)
        if guest is None or self.kind(guest) != "lxc":
            return None
        unit = self.host.units.get("dnsmasq.service")
        dnsmasq = unit is not None and unit.active
        where = partial(self.guestfs.path, vmid)
        return guestos.tool(where, guest.config, self.sim_dir, dnsmasq, argv)

    def container_started(self, vmid: int) -> None:
        """What pve-container's prestart hook writes into the container (guestos.start), and
        the device nodes it gets (guestos.passed_devices)."""
        guest = self.guest(vmid)
        if guest is None or self.kind(guest) != "lxc":
            return
        where = partial(self.guestfs.path, vmid)
        guestos.start(where, guest.config, self.sim_dir / "etc")
        gpus = [
            d
            for d in self.host.pci
            if d.get("vendor") == "10de" and str(d.get("class", "")).startswith("03")
        ]
        host = guestos.host_devices(self.sim_dir, len(gpus) if self.host.nvidia_loaded else 0)
        raw = self.raw_lines(vmid)
        self.guestfs.devices[vmid] = guestos.passed_devices(where, raw, guest.config, host)

    # ------------------------------------------------------------ lookup

    def guest(self, vmid: int) -> Any:
        """The fakepve guest with this id on this node, or None."""
        guest = self.pve.guest(vmid)
        return guest if guest is not None and guest.node == self.name else None

    def kind(self, guest: Any) -> str:
        return "qemu" if type(guest).__name__ == "FakeVm" else "lxc"

    def require(self, vmid: int, kind: str) -> Any:
        """The guest, or the real tools' 'Configuration file ... does not exist' error."""
        guest = self.guest(vmid)
        if guest is None or self.kind(guest) != kind:
            folder = "lxc" if kind == "lxc" else "qemu-server"
            raise CliError(
                f"Configuration file 'nodes/{self.name}/{folder}/{vmid}.conf' does not exist"
            )
        return guest

    def conf_path(self, vmid: int, kind: str) -> Path:
        return conffile.guest_conf(self.pve_etc, self.name, kind, vmid)

    # ------------------------------------------------------------ conf files

    def raw_lines(self, vmid: int, section: str = "") -> list[tuple[str, str]]:
        """Raw lxc.* lines of a CT's config file (a snapshot's with section=name)."""
        return conffile.read_raw(self.conf_path(vmid, "lxc")).get(section, [])

    def sync(self, vmid: int, raw: dict[str, list[tuple[str, str]]] | None = None) -> None:
        """Rewrite a guest's conf file from fakepve's state, keeping its raw lxc.* lines."""
        guest = self.pve.guest(vmid)
        if guest is None or guest.node != self.name:
            for kind in ("lxc", "qemu"):
                conffile.remove_conf(self.conf_path(vmid, kind))
            fwfile.remove(self.pve_etc, vmid)
            return
        fwfile.write(self.pve_etc, vmid, self.pve.firewall_config("ct", vmid=vmid))
        kind = self.kind(guest)
        path = self.conf_path(vmid, kind)
        if raw is None:
            raw = conffile.read_raw(path) if kind == "lxc" else {}
        raw = {k: v for k, v in raw.items() if k == "" or k in guest.snapshots}
        config = dict(guest.config)
        if kind == "qemu" and guest.lock:
            config["lock"] = guest.lock
        if kind == "qemu" and guest.template:
            config["template"] = 1
        snapshots = {
            name: {k: v for k, v in snap.items() if k != "digest"}
            for name, snap in guest.snapshots.items()
        }
        pending = (conffile.PENDING_HEADER[kind], conffile.pending_section(guest.pending))
        special = {}
        if kind == "qemu":
            applied = self.cloudinit_applied.get(vmid, {})
            special = {"cloudinit": cloudinit.special_section(guest, applied)}
        conffile.write_conf(path, config, raw, snapshots, pending, special)

    def sync_all(self) -> None:
        """Write every guest's conf file (after seeding)."""
        for guest in self.pve.vms:
            if guest.node == self.name:
                self.sync(guest.vmid)
