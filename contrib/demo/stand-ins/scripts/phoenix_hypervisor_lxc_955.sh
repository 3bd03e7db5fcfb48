#!/bin/bash
# Stand-in for the homelab's application script phoenix_hypervisor_lxc_955.sh.
echo "stand-in application script for $1"
