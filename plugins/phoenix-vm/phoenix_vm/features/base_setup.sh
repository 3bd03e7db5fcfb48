#!/bin/bash
# phoenix feature: base_setup -- common tools, IPv6 off and ufw off, as the old VM feature did.
# Runs inside the VM through the guest agent. Idempotent: apt-get --no-upgrade leaves installed
# packages alone; the sysctl file is written only when its content differs.
# Contract: PHOENIX_VMID, PHOENIX_GUEST_CONFIG (guest JSON), PHOENIX_FEATURE are set.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get update -q
apt-get install -y -q --no-upgrade curl wget vim htop jq git rsync gnupg ca-certificates \
    nfs-common qemu-guest-agent

sysctl_file=/etc/sysctl.d/99-disable-ipv6.conf
wanted=$'net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1'
if [[ "$(cat "$sysctl_file" 2>/dev/null)" != "$wanted" ]]; then
    printf '%s\n' "$wanted" >"$sysctl_file"
    sysctl -p "$sysctl_file"
fi
if command -v ufw >/dev/null && ufw status | grep -q "Status: active"; then
    ufw disable
fi
