#!/bin/bash
# phoenix feature: base_setup -- common tools and an en_US.UTF-8 locale.
# Runs inside the container. Idempotent: installs only packages dpkg does not report as
# installed (package names, not command names), and generates the locale only when missing.
# Contract: PHOENIX_CTID, PHOENIX_GUEST_CONFIG (guest JSON), PHOENIX_FEATURE are set.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(curl wget vim htop jq git rsync gnupg locales ca-certificates)
missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    echo "base_setup: installing ${missing[*]}"
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
else
    echo "base_setup: packages present"
fi

if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
    sed -i 's/^# *\(en_US.UTF-8\)/\1/' /etc/locale.gen
    locale-gen en_US.UTF-8
fi
if ! grep -q '^LANG=en_US.UTF-8' /etc/default/locale 2>/dev/null; then
    update-locale LANG=en_US.UTF-8
fi
echo "base_setup: done"
