#!/bin/bash
# Stand-in for the homelab's own "trusted_ca" feature, which phoenix does not ship.
echo "stand-in feature trusted_ca"
