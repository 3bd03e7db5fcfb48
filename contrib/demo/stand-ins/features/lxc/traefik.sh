#!/bin/bash
# Stand-in for the homelab's own "traefik" feature, which phoenix does not ship.
echo "stand-in feature traefik"
