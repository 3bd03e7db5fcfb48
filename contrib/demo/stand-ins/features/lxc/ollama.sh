#!/bin/bash
# Stand-in for the homelab's own "ollama" feature, which phoenix does not ship.
echo "stand-in feature ollama"
