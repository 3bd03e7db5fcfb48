"""phoenix-lxc: the phoenix manager for Proxmox LXC containers (``pct``)."""

__version__ = "0.1.0"
