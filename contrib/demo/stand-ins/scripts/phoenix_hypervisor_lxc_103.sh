#!/bin/bash
# Stand-in for the homelab's application script of container 103.
echo "stand-in application script for 103"
