#!/bin/bash
# phoenix feature: docker -- Docker CE from Docker's apt repository, with fuse-overlayfs
# (the storage driver that works in unprivileged containers).
# Runs inside the container. Idempotent: each part is skipped when already in place.
# Contract: PHOENIX_CTID, PHOENIX_GUEST_CONFIG (guest JSON), PHOENIX_FEATURE are set.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ! dpkg-query -W -f='${Status}' docker-ce 2>/dev/null | grep -q "install ok installed"; then
    apt-get update -q
    apt-get install -y -q ca-certificates curl gnupg fuse-overlayfs
    install -m 0755 -d /etc/apt/keyrings
    if [ ! -s /etc/apt/keyrings/docker.gpg ]; then
        curl -fsSL https://download.docker.com/linux/ubuntu/gpg | gpg --dearmor -o /etc/apt/keyrings/docker.gpg
    fi
    . /etc/os-release
    echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.gpg] https://download.docker.com/linux/ubuntu ${VERSION_CODENAME} stable" \
        > /etc/apt/sources.list.d/docker.list
    apt-get update -q
    apt-get install -y -q docker-ce docker-ce-cli containerd.io docker-compose-plugin
fi

mkdir -p /etc/docker
if [ ! -s /etc/docker/daemon.json ]; then
    echo '{"storage-driver": "fuse-overlayfs"}' > /etc/docker/daemon.json
    systemctl restart docker
fi
systemctl enable --now docker
docker info --format '{{.ServerVersion}}' >/dev/null
echo "docker: done"
