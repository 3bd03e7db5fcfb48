#!/bin/bash
# phoenix feature: nvidia -- the NVIDIA user-space driver matching the host's kernel module,
# for containers with gpu_assignment (phoenix writes the device passthrough lines).
# Runs inside the container. Idempotent: skipped when nvidia-smi already reports the version.
# Contract: PHOENIX_CTID, PHOENIX_GUEST_CONFIG (guest JSON with nvidia_driver_version and
# nvidia_runfile_url, from the LXC file's root keys) and PHOENIX_FEATURE are set.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

config=${PHOENIX_GUEST_CONFIG:?}
value() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or "")' "$config" "$1"; }
version=$(value nvidia_driver_version)
runfile_url=$(value nvidia_runfile_url)
if [ -z "$version" ] || [ -z "$runfile_url" ]; then
    echo "nvidia: nvidia_driver_version and nvidia_runfile_url must be set" >&2
    exit 2
fi

for _ in $(seq 30); do [ -e /dev/nvidia0 ] && break; sleep 1; done
[ -e /dev/nvidia0 ] || { echo "nvidia: /dev/nvidia0 is not passed through" >&2; exit 1; }

if command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=driver_version --format=csv,noheader | grep -qx "$version"; then
    echo "nvidia: driver $version present"
    exit 0
fi

apt-get update -q
apt-get install -y -q wget ca-certificates build-essential pkg-config libglvnd-dev
runfile=/tmp/NVIDIA-Linux-$version.run
[ -s "$runfile" ] || wget -q -O "$runfile" "$runfile_url"
bash "$runfile" --silent --no-kernel-module --no-x-check --no-nouveau-check --no-nvidia-modprobe --no-dkms
rm -f "$runfile"
nvidia-smi
echo "nvidia: done"
