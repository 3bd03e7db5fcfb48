#!/bin/bash
# Stand-in for the homelab's own health check of Step-CA, which phoenix does not ship. Like the
# old tool's checks it runs on the Proxmox host with the container id as its argument.
set -euo pipefail
ctid="${1:?usage: check_step_ca.sh CTID}"
pct status "$ctid" | grep -q 'status: running'
echo "stand-in health check: CT $ctid is running"
