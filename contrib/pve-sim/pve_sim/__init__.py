"""A simulated Proxmox VE node: real CLI syntax and output over fakepve's API state.

`pve-sim up` starts an owner process holding a `fakepve.FakePve`; tiny stdlib-only shims in
DIR/bin (`pct`, `qm`, `pvesm`, `pvesh`, `pveam`, `pveversion`) forward their argv to it.
"""

__version__ = "0.1.0"
