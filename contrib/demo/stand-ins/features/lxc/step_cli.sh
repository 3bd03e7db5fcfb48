#!/bin/bash
# Stand-in for the homelab's own "step_cli" feature, which phoenix does not ship.
echo "stand-in feature step_cli"
