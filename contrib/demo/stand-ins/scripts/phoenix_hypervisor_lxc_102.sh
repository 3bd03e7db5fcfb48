#!/bin/bash
# Stand-in for the homelab's application script of container 102.
echo "stand-in application script for 102"
