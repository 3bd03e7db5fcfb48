"""phoenix-hypervisor: the host manager (``phoenix setup``)."""
