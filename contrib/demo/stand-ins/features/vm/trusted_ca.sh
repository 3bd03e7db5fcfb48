#!/bin/bash
# Stand-in for the homelab's own "trusted_ca" VM feature, which phoenix does not ship.
echo "stand-in vm feature trusted_ca"
