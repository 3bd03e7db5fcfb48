"""The node as one run reads it: a constant number of Proxmox tool calls, whatever the guests.

Every ``pct``/``qm``/``pvesh`` call on a real node starts Perl and loads the PVE modules
(0.3-0.6 s) before it does anything, so reading each guest with its own calls makes an
in-sync run of a homelab cost tens of seconds. A :class:`NodeSnapshot` is shared by every
action of a run (kept in the run's :class:`~phoenix_core.manager.RunScope`) and reads:

- the runtime state of every guest on this node with ``pvesh get /nodes/localhost/lxc`` and
  ``.../qemu``, run side by side (pve-container src/PVE/LXC.pm vmstatus and
  qemu-server's vmstatus: status from the running processes, ``lock`` and ``template`` from
  the config). Not ``/cluster/resources``: pve-manager PVE/API2/Cluster.pm fills its
  ``status`` from PVE/API2Tools.pm extract_vm_stats, i.e. the RRD data pvestatd refreshes every
  few seconds, which can still say ``stopped`` for a guest started a moment ago;
- each guest's conf and firewall files under ``/etc/pve`` (file reads over the host's file
  channel, no tool), when a step first asks, parsed by :mod:`phoenix_pve.etcpve`.

A change to a guest (:meth:`forget`) drops only that guest: its files are read again and its
status comes from its own ``pct status``/``qm status`` for the rest of the run.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from phoenix_core.hosts.base import Host
from phoenix_core.manager import RunContext
from phoenix_pve import errors
from phoenix_pve.guest import CONTAINER, VIRTUAL_MACHINE, GuestKind

#: The node lists read as the run begins: ``/nodes/localhost/lxc`` and ``.../qemu``.
KINDS = (CONTAINER.api, VIRTUAL_MACHINE.api)


class NodeSnapshot:
    """What one run knows of one node's guests; thread-safe (actions run in parallel)."""

    def __init__(self, host: Host, pve_etc: str) -> None:
        self.host = host
        self.pve_etc = pve_etc.rstrip("/")
        self._lock = threading.Lock()
        self._lists: dict[str, dict[int, dict[str, Any]]] = {}
        self._listed_at: dict[str, float] = {}
        self._files: dict[str, str | None] = {}
        self._changed: set[int] = set()
        self._starts: dict[int, float | None] = {}

    def runtime(self, kind: GuestKind, vmid: int) -> dict[str, Any] | None:
        """The guest's entry in its kind's node list (None: not on this node). The first call
        reads the lists of both kinds at once (two calls side by side: one start-up's wait)."""
        with self._lock:
            if not self._lists:
                with ThreadPoolExecutor(len(KINDS)) as pool:
                    listed = dict(zip(KINDS, pool.map(self._list, KINDS), strict=True))
                now = time.time()
                for api, entries in listed.items():
                    self._lists[api] = {int(e["vmid"]): e for e in entries}
                    self._listed_at[api] = now
            return self._lists[kind.api].get(vmid)

    def _list(self, api: str) -> list[dict[str, Any]]:
        argv = ["pvesh", "get", f"/nodes/localhost/{api}", "--output-format", "json"]
        entries: list[dict[str, Any]] = json.loads(
            errors.check(self.host.query(argv)).stdout or "[]"
        )
        return entries

    def started(self, kind: GuestKind, vmid: int) -> float | None:
        """When the running guest started (this machine's clock), by the node list's
        ``uptime``; None when it was not running as the run began."""
        entry = self.runtime(kind, vmid)
        if entry is None or entry.get("status") != "running":
            return None
        return self._listed_at[kind.api] - float(entry.get("uptime") or 0)

    def started_now(self, kind: GuestKind, vmid: int) -> float | None:
        """When the guest started, asked now (``status/current``): for a guest this run
        started. Read once per guest and run; None when it does not run."""
        with self._lock:
            if vmid in self._starts:
                return self._starts[vmid]
        argv = ["pvesh", "get", f"/nodes/localhost/{kind.api}/{vmid}/status/current"]
        result = self.host.query([*argv, "--output-format", "json"])
        data = json.loads(result.stdout or "{}") if result.ok else {}
        running = isinstance(data, dict) and data.get("status") == "running"
        at = time.time() - float(data.get("uptime") or 0) if running else None
        with self._lock:
            return self._starts.setdefault(vmid, at)

    def changed(self, vmid: int) -> bool:
        """Did this run change the guest (so the node list no longer speaks for it)?"""
        with self._lock:
            return vmid in self._changed

    def file(self, path: str) -> str | None:
        """A file under ``/etc/pve``, read once until its guest changes (None: absent)."""
        with self._lock:
            if path in self._files:
                return self._files[path]
        try:
            text: str | None = self.host.read_file(path).decode(errors="surrogateescape")
        except FileNotFoundError:
            text = None
        with self._lock:
            return self._files.setdefault(path, text)

    def put(self, path: str, text: str) -> None:
        """What this run just wrote to ``path``."""
        with self._lock:
            self._files[path] = text

    def forget(self, vmid: int, paths: tuple[str, ...]) -> None:
        """The guest changed: its ``paths`` are read again, its status asked of its own tool."""
        with self._lock:
            self._changed.add(vmid)
            for path in paths:
                self._files.pop(path, None)


def of(ctx: RunContext) -> NodeSnapshot:
    """The run's snapshot of the node ``ctx.host`` is."""
    key = ("phoenix_pve.snapshot", id(ctx.host))
    return ctx.scope.get(key, lambda: NodeSnapshot(ctx.host, ctx.config.hypervisor.pve_etc))
