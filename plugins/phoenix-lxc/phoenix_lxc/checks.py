"""The health checks every container gets (``phoenix health-check``), before configured ones.

``running`` (``pct status``, :func:`phoenix_pve.health.running`, shared with VMs) and ``pct
exec`` (``pct exec <id> -- true``) come first and are required: when one fails the rest are
reported as not run. Then, when the configuration says
what to expect: ``address`` (the static IPv4 of ``network_config`` is up on its interface,
``ip -o -4 addr show dev <if>``), ``dns`` (the homelab's ``domain_name`` resolves, ``getent
hosts``: no name is built in) and ``gpu`` (each ``/dev/nvidia<N>`` of ``gpu_assignment`` is in
the container). Each attempt is one read-only command; none is retried.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from phoenix_core.checks import Attempt, Check
from phoenix_core.config.models import Config
from phoenix_lxc.model import LxcSpec
from phoenix_pve.health import CHECK_TIMEOUT, described, running
from phoenix_pve.live import Live
from phoenix_pve.shell import Shell

_INET = re.compile(r"\binet (\S+)")


def execs(shell: Shell) -> Check:
    def attempt() -> Attempt:
        result = shell.run(["true"], readonly=True, timeout=CHECK_TIMEOUT)
        return Attempt(result.ok, result.stdout + result.stderr, described(result))

    return Check(name="pct exec", attempt=attempt, where=shell.where, required=True)


def address(shell: Shell, interface: str, expected: str) -> Check:
    """``expected`` (``10.0.0.5/24``) is among the IPv4 addresses up on ``interface``."""
    wanted = ipaddress.IPv4Interface(expected)

    def attempt() -> Attempt:
        result = shell.run(
            ["ip", "-o", "-4", "addr", "show", "dev", interface],
            readonly=True,
            timeout=CHECK_TIMEOUT,
        )
        if not result.ok:
            return Attempt(False, result.stdout + result.stderr, described(result))
        found = [ipaddress.IPv4Interface(a) for a in _INET.findall(result.stdout)]
        has = ", ".join(map(str, found)) or "no IPv4 address"
        if wanted in found:
            return Attempt(True, f"{interface}: {has}")
        return Attempt(False, result.stdout, f"{interface} has {has}, not {expected}")

    return Check(name="address", attempt=attempt, where=shell.where)


def dns(shell: Shell, name: str) -> Check:
    def attempt() -> Attempt:
        argv = ["getent", "hosts", "--", name]
        result = shell.run(argv, readonly=True, timeout=CHECK_TIMEOUT)
        output = result.stdout + result.stderr
        if result.ok and result.stdout.strip():
            return Attempt(True, output)
        return Attempt(False, output, f"{name} does not resolve: {described(result)}")

    return Check(name="dns", attempt=attempt, where=shell.where)


def gpu(shell: Shell, indices: Sequence[int], assignment: str) -> Check:
    devices = ["/dev/nvidiactl", *(f"/dev/nvidia{i}" for i in indices)]

    def attempt() -> Attempt:
        absent = [
            d
            for d in devices
            if not shell.run(["test", "-e", d], readonly=True, timeout=CHECK_TIMEOUT).ok
        ]
        if not absent:
            return Attempt(True, " ".join(devices))
        return Attempt(
            False,
            reason=f"{', '.join(absent)} not in {shell.where} (gpu_assignment {assignment!r})",
        )

    return Check(name="gpu", attempt=attempt, where=shell.where)


def shipped(spec: LxcSpec, live: Live, shell: Shell, config: Config) -> list[Check]:
    """The checks this container gets from phoenix-lxc, in the order they run."""
    found = [running(live), execs(shell)]
    net = spec.network_config
    if net is not None and net.ip and "/" in net.ip:  # not dhcp or manual: an address to expect
        found.append(address(shell, net.name, net.ip))
    if config.hypervisor.domain_name:
        found.append(dns(shell, config.hypervisor.domain_name))
    if spec.gpu_indices():
        found.append(gpu(shell, spec.gpu_indices(), spec.gpu_assignment))
    return found
