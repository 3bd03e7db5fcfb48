"""Which guest tool a manager drives: the one record that separates ``pct`` from ``qm``.

Every shared piece (live reads, power, snapshots, template, firewall, option drift) builds its
commands and paths from a :class:`GuestKind`, so the container and VM managers run the same code.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class GuestKind:
    """A guest tool and where Proxmox keeps its guests."""

    #: The command-line tool: ``pct`` or ``qm``.
    tool: str
    #: The directory of the conf files under ``/etc/pve`` (``lxc``, ``qemu-server``).
    conf_dir: str
    #: The API path segment under ``/nodes/<node>/`` (``lxc``, ``qemu``).
    api: str
    #: How Proxmox's own messages name one guest (``CT 101``, ``VM 9000``).
    noun: str
    #: What plan output calls the guest as a whole (``container``, ``virtual machine``).
    label: str
    #: The guest's config lock on the node, ``{vmid}`` filled in: pve-container
    #: src/PVE/LXC/Config.pm config_file_lock, qemu-server PVE/QemuConfig.pm config_file_lock.
    config_lock: str

    def lock_path(self, vmid: int) -> str:
        return self.config_lock.format(vmid=vmid)

    def conf_path(self, pve_etc: str, vmid: int) -> str:
        """The guest's conf file: ``/etc/pve/lxc/101.conf``, ``/etc/pve/qemu-server/9000.conf``."""
        return f"{pve_etc}/{self.conf_dir}/{vmid}.conf"


def firewall_path(pve_etc: str, vmid: int) -> str:
    """pve-firewall src/PVE/Firewall.pm load_vmfw_conf: ``/etc/pve/firewall/<vmid>.fw``."""
    return f"{pve_etc}/firewall/{vmid}.fw"


CONTAINER = GuestKind(
    tool="pct",
    conf_dir="lxc",
    api="lxc",
    noun="CT",
    label="container",
    config_lock="/run/lock/lxc/pve-config-{vmid}.lock",
)
VIRTUAL_MACHINE = GuestKind(
    tool="qm",
    conf_dir="qemu-server",
    api="qemu",
    noun="VM",
    label="virtual machine",
    config_lock="/var/lock/qemu-server/lock-{vmid}.conf",
)
#: Each kind by its ``.vmlist`` type and API segment (``lxc``, ``qemu``).
BY_API = {kind.api: kind for kind in (CONTAINER, VIRTUAL_MACHINE)}
