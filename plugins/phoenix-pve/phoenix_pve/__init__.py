"""phoenix-pve: the Proxmox VE library the pct and qm managers share (see ``docs/pve.md``).

Not a plugin: it registers nothing. Like Proxmox's own pve-guest-common, it holds what a
container and a virtual machine have in common, parameterised by the guest tool.
"""

__version__ = "0.1.0"
