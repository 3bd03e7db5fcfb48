#!/bin/bash
# Stand-in for the homelab's own Step CA health check, which phoenix does not ship.
echo "stand-in health check: step-ca answers"
