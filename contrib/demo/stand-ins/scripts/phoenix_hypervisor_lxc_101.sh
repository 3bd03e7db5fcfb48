#!/bin/bash
# Stand-in for the homelab's application script of container 101.
echo "stand-in application script for 101"
