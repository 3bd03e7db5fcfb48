"""What a Proxmox VE node looks like, for the core's node probe (``phoenix_core.hosts.probe``).

Every manager of phoenix-pve (containers, VMs, the host) declares :data:`PROXMOX_NODE`, so no
command or file write of theirs reaches a machine that is not a node.

- pmxcfs, the cluster file system, is what makes ``/etc/pve``: pve-cluster
  ``src/pmxcfs/pmxcfs.c`` ``main`` mounts it with libfuse's ``fuse_mount(CFSDIR, ...)``,
  ``CFSDIR`` being ``"/etc/pve"``, and ``debian/pve-cluster.service`` starts it at boot
  (``ExecStart=/usr/bin/pmxcfs``). A plain ``/etc/pve`` directory (pmxcfs stopped, or a
  workstation holding a copy) is not a node: writes there reach no cluster.
- ``pveversion`` is pve-manager's ``bin/pveversion``: it prints
  ``pve-manager/<version>/<commit> (running kernel: ...)`` and exits 0.

The mount's type, ``fuse`` with source ``/dev/fuse`` (libfuse 2 names no subtype for a plain
``fuse_mount``), is what ``/proc/mounts`` shows on PVE 8 and 9 nodes (field reports).

Imports only ``phoenix_core``, so a plugin module may import it at start-up.
"""

from __future__ import annotations

from phoenix_core.hosts.probe import Mount, NodeProbe

PROXMOX_NODE = NodeProbe(
    what="a Proxmox VE node",
    mounts=(Mount("/etc/pve", "fuse", "pmxcfs (the Proxmox cluster file system)"),),
    command=("pveversion",),
)
