"""The health checks every container gets (``phoenix health-check``), before configured ones.

``running`` (``pct status``, :func:`phoenix_pve.health.running`, shared with VMs) and ``pct
exec`` (``pct exec <id> -- true``) come first and are required: when one fails the rest are
reported as not run. Then, when the configuration says
what to expect: ``address`` (the static IPv4 of ``network_config`` is up on its interface,
``ip -o -4 addr show dev <if>``), ``dns`` (the container resolves its own name to that address,
``getent hosts``, and its resolver is the configured one) and ``gpu`` (each ``/dev/nvidia<N>``
of ``gpu_assignment`` is a character device in the container). Each attempt is one or two read-only commands;
none is retried.

Why ``dns`` asks for the container's own name: at every start pve-container writes
``<address> <name>.<searchdomain> <name>`` into the container's /etc/hosts and its
``nameserver``/``searchdomain`` into /etc/resolv.conf (src/PVE/LXC/Setup/Base.pm
``set_hostname``, ``set_dns``), so that name resolves on every real node, through the search
domain's DNS too. The homelab's ``domain_name`` itself is often only a search domain with no
record of its own, so resolving it fails on real homelabs.
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


def dns(shell: Shell, name: str, address: str, nameservers: Sequence[str]) -> Check:
    """``name`` resolves to ``address`` in the container (glibc ``getent hosts`` prints
    ``<address> <names>`` lines and exits 2 when nothing is found), and /etc/resolv.conf
    lists each of ``nameservers``."""

    def attempt() -> Attempt:
        result = shell.run(["getent", "hosts", "--", name], readonly=True, timeout=CHECK_TIMEOUT)
        output = result.stdout + result.stderr
        if not result.ok:
            return Attempt(False, output, f"{name} does not resolve: {described(result)}")
        found = [line.split()[0] for line in result.stdout.splitlines() if line.split()]
        if address not in found:
            return Attempt(False, output, f"{name} resolves to {', '.join(found)}, not {address}")
        if not nameservers:
            return Attempt(True, output)
        conf = shell.run(["cat", "/etc/resolv.conf"], readonly=True, timeout=CHECK_TIMEOUT)
        listed = [w[1] for w in map(str.split, conf.stdout.splitlines()) if w[:1] == ["nameserver"]]
        missing = [server for server in nameservers if server not in listed]
        if conf.ok and not missing:
            return Attempt(True, output + conf.stdout)
        has = ", ".join(listed) or "no nameserver"
        reason = (
            f"/etc/resolv.conf has {has}, not {', '.join(missing)}" if conf.ok else described(conf)
        )
        return Attempt(False, conf.stdout + conf.stderr, reason)

    return Check(name="dns", attempt=attempt, where=shell.where)


def gpu(shell: Shell, indices: Sequence[int], assignment: str) -> Check:
    """Each device is a character device in the container: `test -c`, not `-e`, because lxc
    creates the mount target as an empty file before binding the source onto it, and with
    `optional` a node without the driver loaded leaves just that file (lxc src/lxc/conf.c
    mount_entry_on_generic, mount_entry_create_dir_file)."""
    devices = ["/dev/nvidiactl", *(f"/dev/nvidia{i}" for i in indices)]

    def attempt() -> Attempt:
        absent = [
            d
            for d in devices
            if not shell.run(["test", "-c", d], readonly=True, timeout=CHECK_TIMEOUT).ok
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
        servers = (net.nameservers or "").replace(",", " ").replace(";", " ").split()
        found.append(dns(shell, spec.name, net.ip.split("/")[0], servers))
    if spec.gpu_indices():
        found.append(gpu(shell, spec.gpu_indices(), spec.gpu_assignment))
    return found
