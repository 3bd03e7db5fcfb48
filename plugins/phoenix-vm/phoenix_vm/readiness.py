"""When a started VM is ready for scripts: its guest agent answers, then cloud-init is done.

``qm start`` returns as soon as QEMU runs. The agent (installed by the vendor data at first
boot) answers ``qm guest cmd <id> ping`` some seconds later; then ``cloud-init status --wait``
blocks inside the guest until the first boot's configuration finished. Its exit code 2 is
what the old tool took for "needs reboot" (cloud-init's "done with recoverable errors"): the
VM is rebooted once and waited for again. Every wait is bounded and named in its error.
"""

from __future__ import annotations

import ipaddress
import json

from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import CommandResult
from phoenix_core.logs import logger
from phoenix_pve import power
from phoenix_pve.live import Live
from phoenix_pve.shell import Shell

CLOUD_INIT = ["cloud-init", "status", "--wait"]
#: cloud-init's exit code for "finished with recoverable errors" (cloud-init >= 23.4).
RECOVERABLE = 2


def agent_command(live: Live, command: str) -> list[str]:
    """``qm guest cmd <id> <command>``: a read of the guest agent, run on the node."""
    return ["qm", "guest", "cmd", str(live.vmid), command]


def agent_probe(live: Live) -> power.Probe:
    """A VM is up when its guest agent answers a ping."""

    def probe() -> CommandResult:
        return live.query(agent_command(live, "ping"))

    return probe


def interface_addresses(
    stdout: str,
) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
    """The addresses with their prefixes in the agent's ``network-get-interfaces`` answer,
    loopback and link-local left out; none when it is not that JSON."""
    try:
        interfaces = json.loads(stdout)
    except ValueError:
        return []
    found = []
    for interface in interfaces if isinstance(interfaces, list) else []:
        for entry in interface.get("ip-addresses") or []:
            address, prefix = str(entry.get("ip-address", "")), entry.get("prefix")
            try:
                ip = ipaddress.ip_interface(address if prefix is None else f"{address}/{prefix}")
            except ValueError:
                continue
            if not (ip.is_loopback or ip.is_link_local):
                found.append(ip)
    return found


def addresses(live: Live) -> tuple[str, ...]:
    """The VM's IPv4/IPv6 addresses from its guest agent, loopback and link-local left out;
    empty when the agent does not answer (no agent, still booting)."""
    result = live.query(agent_command(live, "network-get-interfaces"))
    if not result.ok:
        return ()
    return tuple(str(ip.ip) for ip in interface_addresses(result.stdout))


def cloud_init_settle(
    live: Live, shell: Shell, ready_timeout: float, timeout: float
) -> power.Settle:
    """Wait for cloud-init; on exit code 2 reboot once, wait for the agent and cloud-init again."""

    def wait() -> int:
        result = shell.run(CLOUD_INIT, timeout=timeout)
        if result.timed_out:
            raise PhoenixError(
                f"{live.name}: cloud-init did not finish within {timeout:g} s "
                f"(`cloud-init status --wait`, cloud_init_timeout)"
            )
        if result.exit_code not in (0, RECOVERABLE):
            raise PhoenixError(
                f"{live.name}: `cloud-init status --wait` exited {result.exit_code}: "
                f"{result.detail}\n{result.tail()}"
            )
        return result.exit_code or 0

    def settle() -> None:
        if wait() != RECOVERABLE:
            return
        logger.warning("{}: cloud-init asks for a reboot (exit 2); rebooting once", live.name)
        live.change(live.tool("reboot", "--timeout", "300"), timeout=360)
        power.wait_ready(live, agent_probe(live), ready_timeout)
        if wait() == RECOVERABLE:
            logger.warning(
                "{}: cloud-init still reports recoverable errors after a reboot", live.name
            )

    return settle
