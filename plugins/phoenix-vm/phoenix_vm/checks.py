"""The health checks every VM gets (``phoenix health-check``), before configured ones.

``running`` (``qm status``, shared with containers) and ``guest agent`` (``qm guest cmd <id>
ping``) come first and are required: without the agent nothing inside the VM can be asked.
Then ``cloud-init`` (``cloud-init status --long`` through the agent: ``done`` passes, a first
boot still running is not done, ``error`` or ``degraded`` fails with what cloud-init says) and,
when ``network_config.ip`` is static, ``address`` (the agent's ``network-get-interfaces``
reports it). Each attempt is one read-only command; none is retried. A template gets none of
them: it is never running.
"""

from __future__ import annotations

import ipaddress
import re

from phoenix_core.checks import Attempt, Check
from phoenix_pve.health import CHECK_TIMEOUT, described, running
from phoenix_pve.live import Live
from phoenix_pve.shell import HostShell, Shell, ShellResult
from phoenix_vm import readiness
from phoenix_vm.model import VmSpec

CLOUD_INIT_STATUS = ["cloud-init", "status", "--long"]
#: A top-level ``key: value`` line of ``cloud-init status --long``.
_KEY = re.compile(r"^([a-z_]+):\s*(.*)$")


def _agent_read(live: Live, command: str) -> ShellResult:
    """``qm guest cmd <id> <command>`` on the node, within the check time limit."""
    argv = readiness.agent_command(live, command)
    return HostShell(live.host).run(argv, readonly=True, timeout=CHECK_TIMEOUT)


def agent(live: Live) -> Check:
    def attempt() -> Attempt:
        result = _agent_read(live, "ping")
        output = result.stdout + result.stderr
        if result.ok:
            return Attempt(True, output)
        return Attempt(False, output, f"guest agent does not answer: {described(result)}")

    return Check(name="guest agent", attempt=attempt, where="host", required=True)


def _status_fields(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``cloud-init status --long``: each key's value on its line, and the lines under it
    (``detail:`` before cloud-init 23.4, the ``errors`` and ``recoverable_errors`` lists)."""
    values: dict[str, str] = {}
    below: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        match = _KEY.match(line)
        if match:
            key = match.group(1)
            values[key] = match.group(2).strip()
        elif key is not None and line.strip() and not line.strip().endswith(":"):
            below.setdefault(key, []).append(line.strip().removeprefix("- ").strip())
    return values, below


def cloud_init_state(result: ShellResult) -> Attempt:
    """Whether cloud-init finished its boot without errors, from ``cloud-init status --long``
    (``status``, and ``extended_status`` since cloud-init 23.4: ``degraded done`` is done with
    recoverable errors; exit code 1 error, 2 recoverable errors)."""
    output = result.stdout + result.stderr
    values, below = _status_fields(result.stdout)
    status = values.get("status", "")
    state = values.get("extended_status") or status
    if not status:
        return Attempt(False, output, f"no cloud-init status: {described(result)}")
    if "running" in state or status in ("not started", "not run"):
        return Attempt(False, output, f"cloud-init is not done: status {state}")
    if status == "done" and state == "done" and result.exit_code == 0:
        return Attempt(True, output, "status: done")
    detail = values.get("detail") or " ".join(below.get("detail", []))
    errors = below.get("errors", []) + below.get("recoverable_errors", [])
    why = "; ".join(errors[:2]) or detail or described(result)
    return Attempt(False, output, f"cloud-init {state}: {why}")


def cloud_init(shell: Shell) -> Check:
    def attempt() -> Attempt:
        return cloud_init_state(shell.run(CLOUD_INIT_STATUS, readonly=True, timeout=CHECK_TIMEOUT))

    return Check(name="cloud-init", attempt=attempt, where=shell.where)


def address(live: Live, expected: str) -> Check:
    """``expected`` (``10.0.0.5/24``, ipconfig0's ip) is among the IPv4 addresses the guest
    agent reports on any interface of the VM."""
    wanted = ipaddress.IPv4Interface(expected)

    def attempt() -> Attempt:
        result = _agent_read(live, "network-get-interfaces")
        if not result.ok:
            return Attempt(False, result.stdout + result.stderr, described(result))
        found = [
            ip
            for ip in readiness.interface_addresses(result.stdout)
            if isinstance(ip, ipaddress.IPv4Interface)
        ]
        has = ", ".join(map(str, found)) or "no IPv4 address"
        if wanted in found:
            return Attempt(True, has)
        return Attempt(False, result.stdout, f"{live.name} has {has}, not {expected}")

    return Check(name="address", attempt=attempt, where="host")


def shipped(spec: VmSpec, live: Live, shell: Shell) -> list[Check]:
    """The checks this VM gets from phoenix-vm, in the order they run (none for a template)."""
    if spec.is_template:
        return []
    found = [running(live), agent(live), cloud_init(shell)]
    net = spec.network_config
    if net is not None and "/" in net.ip:  # a static address (not dhcp) to expect
        found.append(address(live, net.ip))
    return found
