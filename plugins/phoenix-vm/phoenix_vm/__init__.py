"""phoenix-vm: the phoenix manager for Proxmox virtual machines (``qm``)."""

__version__ = "0.1.0"
