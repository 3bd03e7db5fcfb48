#!/bin/bash
# Stand-in for the homelab's own "vllm" feature, which phoenix does not ship.
echo "stand-in feature vllm"
