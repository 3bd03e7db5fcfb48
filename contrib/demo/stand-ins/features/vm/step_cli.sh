#!/bin/bash
# Stand-in for the homelab's own "step_cli" VM feature, which phoenix does not ship.
echo "stand-in vm feature step_cli"
