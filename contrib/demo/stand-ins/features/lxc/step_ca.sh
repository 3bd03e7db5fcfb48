#!/bin/bash
# Stand-in for the homelab's own "step_ca" feature, which phoenix does not ship.
echo "stand-in feature step_ca"
