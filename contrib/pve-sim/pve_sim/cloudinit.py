"""The cloud-init keys of a simulated VM and the conf file's ``[special:cloudinit]`` section.

qemu-server records, in that section of the conf file, what changed in the cloud-init keys
since the drive was last generated (src/PVE/QemuServer.pm vmconfig_hotplug_pending's
``$cloudinit_record_changed``: a changed or removed key keeps its old value, a new one is
listed in ``added``), clears it when the drive is regenerated
(src/PVE/QemuServer/Cloudinit.pm apply_cloudinit_config) and writes it only for a VM with a
cloud-init drive (write_vm_config, PVE/QemuConfig.pm has_cloudinit). ``qm cloudinit
pending`` reads it (src/PVE/API2/Qemu.pm cloudinit_pending). The simulator keeps the values
the drive was generated from (``Node.cloudinit_applied``) and derives the section from them.
"""

from __future__ import annotations

import re
from typing import Any

#: The keys a cloud-init drive is generated from (qemu-server PVE/QemuServer/Cloudinit.pm).
CI_KEY = re.compile(
    r"^(ciuser|cipassword|sshkeys|ipconfig\d+|nameserver|searchdomain|citype|cicustom|ciupgrade)$"
)


def ci_values(vm: Any) -> dict[str, str]:
    """The cloud-init keys the next generation uses: the config with pending values applied."""
    merged = {**vm.config, **{k: v for k, v in vm.pending.items() if v is not None}}
    for key, value in vm.pending.items():
        if value is None:
            merged.pop(key, None)
    return {k: str(v) for k, v in merged.items() if CI_KEY.match(k)}


DRIVE_KEY = re.compile(r"^(ide|sata|scsi|virtio)\d+$")


def has_drive(vm: Any) -> bool:
    """A cloud-init drive among the VM's disks (qemu-server Drive.pm drive_is_cloudinit: its
    volume name is ``vm-<id>-cloudinit``)."""
    return any(
        str(value).split(",")[0].endswith(f"vm-{vm.vmid}-cloudinit")
        for key, value in vm.config.items()
        if DRIVE_KEY.match(key)
    )


def special_section(vm: Any, applied: dict[str, str]) -> dict[str, str]:
    """``[special:cloudinit]``: the old value of each changed or removed key, the new keys in
    ``added``; empty when the drive holds the config's values (or the VM has no drive)."""
    if not has_drive(vm):
        return {}
    want = ci_values(vm)
    section = {k: v for k, v in applied.items() if want.get(k) != v}
    added = sorted(k for k in want if k not in applied)
    if added:
        section["added"] = ",".join(added)
    return section
