"""Which host runs a guest's commands: one open connection per node, made on first use.

A node is named by ``--host`` (``[user@]node[:port]``), by the hypervisor config's ``nodes``
map, or by a guest's ``node`` key. The default, when nothing names one, is this machine.
"""

from __future__ import annotations

import os
import re
import threading
from typing import TYPE_CHECKING

import attrs

from phoenix_core.errors import UsageError
from phoenix_core.hosts.base import DEFAULT_TIMEOUT, Host
from phoenix_core.hosts.nodedir import SCHEME, NodeDirHost
from phoenix_core.hosts.probe import NodeProbe, confirm

if TYPE_CHECKING:
    from phoenix_core.hosts.ssh import SSHHost

LOCAL_NAMES = frozenset({"", "local", "localhost"})
_ADDRESS = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?P<host>\[[^\]]+\]|[^:@\s]+)(?::(?P<port>\d+))?$")


@attrs.frozen
class NodeAddress:
    """Where a node is reached: host name or address, optional user and port, sudo or not."""

    host: str
    user: str | None = None
    port: int | None = None
    sudo: bool = False

    @property
    def is_local(self) -> bool:
        return self.host in LOCAL_NAMES

    @property
    def is_ssh(self) -> bool:
        return not (self.is_local or self.host.startswith(SCHEME))

    def __str__(self) -> str:
        text = f"{self.user}@{self.host}" if self.user else self.host
        return f"{text}:{self.port}" if self.port else text


def parse_address(text: str) -> NodeAddress:
    """Parse ``[user@]host[:port]`` (IPv6 in brackets), or ``sim:DIR`` (a simulated node in
    DIR, made absolute); raise UsageError naming the text."""
    if text.startswith(SCHEME):
        directory = text.removeprefix(SCHEME)
        if not directory:
            raise UsageError("--host sim:DIR: the simulated node's directory is missing")
        return NodeAddress(SCHEME + os.path.abspath(directory))
    match = _ADDRESS.match(text.strip())
    if not match:
        raise UsageError(f"--host: expected [user@]node[:port], got {text!r}")
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise UsageError(f"--host: port must be 1-65535, got {port}")
    return NodeAddress(match["host"].strip("[]"), match["user"], int(port) if port else None)


def require_ssh() -> type[SSHHost]:
    """The SSH transport, or a usage error (exit 2) when the ``ssh`` extra is not installed:
    paramiko is optional so that local runs never need it."""
    try:
        from phoenix_core.hosts.ssh import SSHHost
    except ImportError as exc:
        if exc.name != "paramiko":
            raise
        raise UsageError(
            "remote nodes are reached over SSH with paramiko, which is not installed: "
            "install phoenix-core[ssh] (pip install 'phoenix-core[ssh]')"
        ) from None
    return SSHHost


@attrs.define
class HostOptions:
    """Transport settings shared by every connection of a run."""

    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = 10.0
    accept_new_host_keys: bool = False


class HostPool:
    """Hands out one :class:`Host` per node and closes them all at the end of the run.

    ``default`` answers for guests with no ``node``; ``nodes`` maps node names from the
    configuration to addresses. A guest naming a node that is not in ``nodes`` is reached at
    the node name itself (as ``ssh NAME`` would, so ``~/.ssh/config`` aliases work).
    """

    def __init__(
        self,
        default: NodeAddress | None = None,
        nodes: dict[str, NodeAddress] | None = None,
        options: HostOptions | None = None,
    ) -> None:
        self.default = default or NodeAddress("local")
        self.nodes = dict(nodes or {})
        self.options = options or HostOptions()
        self._open: dict[NodeAddress, Host] = {}
        #: (host, probe) pairs already confirmed this run: each probe runs once per host
        #: (probe None: a preset host, taken as it is).
        self._confirmed: set[tuple[int, NodeProbe | None]] = set()
        self._confirming = threading.Lock()

    def address_for(self, node: str | None) -> NodeAddress:
        if node is None:
            return self.default
        return self.nodes.get(node) or NodeAddress(node)

    def preset(self, node: str | None, host: Host) -> None:
        """Answer ``node`` (None: the default) with ``host`` instead of connecting to it.

        For embedding phoenix and for tests (``phoenix_core.testing`` injects its fake host
        this way); the pool closes ``host`` at the end of the run like any other. No node
        probe runs on it: the caller that built it vouches for what it is.
        """
        self._open[self.address_for(node)] = host
        # Whoever hands a host in vouches for it: node probes are not run on it.
        self._confirmed.add((id(host), None))

    def for_node(self, node: str | None) -> Host:
        """The host for ``node`` (``None``: the default), connecting on first use."""
        address = self.address_for(node)
        if address not in self._open:
            self._open[address] = self._connect(address)
        return self._open[address]

    def confirm(self, host: Host, probe: NodeProbe) -> None:
        """Run ``probe`` on ``host`` unless it passed already this run (raise NotANode)."""
        with self._confirming:
            if {(id(host), probe), (id(host), None)} & self._confirmed:
                return
            confirm(host, probe)
            self._confirmed.add((id(host), probe))

    def _connect(self, address: NodeAddress) -> Host:
        if address.is_local:
            from phoenix_core.hosts.local import LocalHost

            return LocalHost(timeout=self.options.timeout)
        if address.host.startswith(SCHEME):
            return NodeDirHost(address.host.removeprefix(SCHEME), timeout=self.options.timeout)
        return require_ssh()(
            address.host,
            user=address.user,
            port=address.port,
            sudo=address.sudo,
            timeout=self.options.timeout,
            connect_timeout=self.options.connect_timeout,
            accept_new_host_keys=self.options.accept_new_host_keys,
        )

    def close(self) -> None:
        for host in self._open.values():
            host.close()
        self._open.clear()
