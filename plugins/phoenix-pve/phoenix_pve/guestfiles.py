"""Where the Proxmox guests are configured: the layouts of the old tool's two guest files,
and every guest they describe, whether or not its manager is installed.

phoenix-lxc and phoenix-vm register these layouts. The host manager reads them too, for what
it derives from guests (a DNS record per guest): what it writes follows the configuration,
never which managers happen to be installed. Imported by the plugins' entry points at
``phoenix --help``: the standard library and ``phoenix_core.layout`` only at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phoenix_core.layout import GuestFile

if TYPE_CHECKING:
    from phoenix_core.config.models import Config, TargetConfig

#: The old tool's container file: ``lxc_configs`` keyed by CTID; every other top-level key is
#: a default for all containers; ``core_paths.lxc_config_file`` may move it.
CONTAINERS = GuestFile(
    file="phoenix_lxc_configs.json",
    key="lxc_configs",
    path_key="lxc_config_file",
    root_defaults=True,
    clone_key="clone_from_ctid",
)
#: The old tool's VM file: a ``vms`` list, each VM holding its ``vmid``; ``vm_defaults``
#: apply under every VM; ``core_paths.vm_config_file`` may move it.
VIRTUAL_MACHINES = GuestFile(
    file="phoenix_vm_configs.json",
    key="vms",
    path_key="vm_config_file",
    id_key="vmid",
    defaults_key="vm_defaults",
    clone_key="clone_from_vmid",
)
LAYOUTS = {"lxc": CONTAINERS, "vm": VIRTUAL_MACHINES}
#: The hypervisor-file sections both guest managers read (typed by
#: :class:`phoenix_pve.settings.PveSettings`); phoenix-vm reads ``vm_defaults`` as well.
GUEST_SECTIONS = frozenset(
    {"pve_etc", "legacy_scripts_dir", "proxmox_defaults", "proxmox_storage_ids"}
)
VM_SECTIONS = GUEST_SECTIONS | {"vm_defaults"}


def described(config: Config) -> list[TargetConfig]:
    """Every guest of the Proxmox guest files: the loaded ones, and those of a file no
    installed manager reads, read here with its layout (a problem in it is its manager's to
    report: such a file's unreadable entries are left out)."""
    from phoenix_core.config.diagnostics import Diagnostics
    from phoenix_core.config.guests import read_guests
    from phoenix_core.config.jsonfile import read_json
    from phoenix_core.config.locate import guest_file

    guests = list(config.guests.values())
    for kind, layout in LAYOUTS.items():
        assert layout.file is not None and layout.path_key is not None
        if layout.file in config.files:
            continue
        quiet = Diagnostics()
        named = config.hypervisor.core_paths.get(layout.path_key)
        path = guest_file(config.directory, layout.path_key, named, layout.file, quiet)
        data = None if path is None else read_json(path, quiet)
        if path is not None and data is not None:
            guests += [
                g for g in read_guests(kind, layout, path, data, quiet) if g.id not in config
            ]
    return guests
