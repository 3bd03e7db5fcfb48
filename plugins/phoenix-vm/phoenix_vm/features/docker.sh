#!/bin/bash
# phoenix feature: docker -- Docker Engine from Docker's apt repository, the cloud-init user in
# the docker group. Runs inside the VM. Idempotent: skipped when docker is active; never kills
# apt (it waits for the dpkg lock instead, bounded).
# Contract: PHOENIX_VMID, PHOENIX_GUEST_CONFIG (guest JSON), PHOENIX_FEATURE are set.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

user=$(jq -r '.user_config.username // empty' "$PHOENIX_GUEST_CONFIG")
if systemctl is-active --quiet docker; then
    echo "docker: already active"
else
    for _ in $(seq 60); do
        fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1 || break
        sleep 5
    done
    install -m 0755 -d /etc/apt/keyrings
    if [[ ! -s /etc/apt/keyrings/docker.asc ]]; then
        curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc
        chmod a+r /etc/apt/keyrings/docker.asc
    fi
    . /etc/os-release
    echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu ${VERSION_CODENAME} stable" >/etc/apt/sources.list.d/docker.list
    apt-get update -q
    apt-get install -y -q docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin
    systemctl enable --now docker
fi
if [[ -n "$user" ]] && id "$user" >/dev/null 2>&1 && ! id -nG "$user" | grep -qw docker; then
    usermod -aG docker "$user"
fi
