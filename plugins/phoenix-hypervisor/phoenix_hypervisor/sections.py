"""The sections of ``phoenix_hypervisor_config.json`` the host manager owns, declared in its
:class:`~phoenix_core.manager.ManagerSpec` (the core declares none of them).

The host manager owns the file: its spec declares these and the guest managers' sections
(:data:`phoenix_pve.guestfiles.VM_SECTIONS`), known to the file's owner even when those
managers are not installed, so with it installed any other key is a typo. Imported by the
entry point at ``phoenix --help``: no imports.
"""

#: What host setup reads (typed by :func:`phoenix_hypervisor.model.parse_spec`).
HOST_SECTIONS = frozenset(
    {
        "domain_name",
        "users",
        "timezone",
        "network",
        "docker",
        "nfs",
        "samba",
        "zfs",
        "tests",
        "nvidia_driver",
        "behavior",
        "shared_volumes",
        "portainer_api",
        "dns_server",
        "vfio",
        "step_ca",
        "mount_point_base",
        "proxmox_storage_ids",
    }
)
#: ``core_paths`` keys of the old tool's file that host setup and its scripts read.
PATHS = frozenset(
    {
        "hf_token_file",
        "docker_token_file",
        "docker_images_path",
        "hypervisor_marker_dir",
        "hypervisor_marker",
        "lxc_config_schema_file",
        "vm_config_schema_file",
    }
)
