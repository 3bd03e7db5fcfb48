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
- which guests exist, from pmxcfs's ``/etc/pve/.vmlist`` (every guest of the cluster with its
  node and type: pve-cluster src/pmxcfs/status.c cfs_create_vmlist_msg) and the node's own
  name from ``/etc/pve/.members`` (cfs_create_memberlist_msg): a guest the list does not
  place on this node does not exist here, and the node lists are not read for it (a run that
  creates every guest, ``import`` of a guest of another kind). Without those files (pmxcfs
  not answering) the node lists decide, as before;
- each guest's conf and firewall files under ``/etc/pve`` (file reads over the host's file
  channel, no tool), when a step first asks, parsed by :mod:`phoenix_pve.etcpve`. Over a host
  that reads many files in one round trip (:class:`~phoenix_core.hosts.base.ReadingMany`, a
  node over SSH), ``.members`` and ``.vmlist`` come in one, and the first file a step asks
  for comes with every file of every guest ``.vmlist`` places here that is not read yet: two
  round trips for the whole node, where one file each costs a round trip or more (a node far
  away: tens of milliseconds each). On this machine a file costs no round trip, so each is
  read only when asked.

A change to a guest (:meth:`forget`) drops only that guest: its files are read again and its
status comes from its own ``pct status``/``qm status`` for the rest of the run.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from phoenix_core.hosts.base import Host, ReadingMany
from phoenix_core.manager import RunContext
from phoenix_pve import errors, etcpve, settings
from phoenix_pve.guest import BY_API, CONTAINER, VIRTUAL_MACHINE, GuestKind, firewall_path

#: Not read yet (None is "read, and pmxcfs's files cannot tell").
MISSING = object()
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
        self._vmlist: Any = MISSING
        #: Held while the node lists are read (by a guest, or by :meth:`read_ahead`'s thread).
        self._lists_lock = threading.Lock()
        #: Held while files are read in one round trip, so that two steps do not read them twice.
        self._files_lock = threading.Lock()
        self._ahead: threading.Thread | None = None

    def listed(self, kind: GuestKind, vmid: int) -> bool | None:
        """Is the guest on this node as pmxcfs lists it? None when its files cannot tell."""
        guests = self.guests()
        if guests is None:
            return None
        entry = guests.get(vmid)
        return entry is not None and entry.type == kind.api

    def guests(self) -> dict[int, etcpve.ListedGuest] | None:
        """Every guest on this node by id, from ``.vmlist`` and ``.members`` (read once per
        run); None when those files are missing or unreadable."""
        placed = self._placed()
        return None if placed is None else placed[1]

    @property
    def name(self) -> str | None:
        """The node's own name (``.members``); None when pmxcfs's files cannot tell."""
        placed = self._placed()
        return None if placed is None else placed[0]

    def _placed(self) -> tuple[str, dict[int, etcpve.ListedGuest]] | None:
        with self._lock:
            read = self._vmlist is MISSING
        if read:
            placed = self._read_vmlist()
            with self._lock:
                self._vmlist = placed
        return self._vmlist  # type: ignore[no-any-return]

    def _read_vmlist(self) -> tuple[str, dict[int, etcpve.ListedGuest]] | None:
        paths = (f"{self.pve_etc}/.members", f"{self.pve_etc}/.vmlist")
        self._read(paths)
        members, vmlist = map(self.file, paths)
        if members is None or vmlist is None:
            return None
        try:
            name = etcpve.parse_members(members)
            listed = etcpve.parse_vmlist(vmlist)
        except etcpve.FileFormatError:
            return None
        return name, {vmid: entry for vmid, entry in listed.items() if entry.node == name}

    def runtime(self, kind: GuestKind, vmid: int) -> dict[str, Any] | None:
        """The guest's entry in its kind's node list (None: not on this node). A guest that
        ``.vmlist`` does not place here is not looked for; otherwise the first call reads the
        lists of both kinds at once (two calls side by side: one start-up's wait; only the
        kinds ``.vmlist`` has guests of), or waits for the read :meth:`read_ahead` started."""
        if self.listed(kind, vmid) is False:
            return None
        self._load_lists()
        return self._lists[kind.api].get(vmid)

    def read_ahead(self) -> None:
        """Start reading the node lists on a worker thread, as the run begins (``LetsGo`` and
        ``plan`` ask the node's memory first), so that host setup's checks run meanwhile and
        the guests find them read. Nothing is started when ``.vmlist`` lists no guest here."""
        if self.guests() == {}:
            return
        with self._lock:
            if self._ahead is not None:
                return
            self._ahead = threading.Thread(target=self._ahead_read, daemon=True)
        self._ahead.start()

    def _ahead_read(self) -> None:
        # A failure here is met again, and raised, by the first guest that needs the lists.
        with contextlib.suppress(Exception):
            self._load_lists()

    def _load_lists(self) -> None:
        with self._lists_lock:
            if self._lists:
                return
            guests = self.guests()
            # A kind of which .vmlist places no guest here has nothing to list.
            kinds = [
                api
                for api in KINDS
                if guests is None or any(g.type == api for g in guests.values())
            ]
            with ThreadPoolExecutor(max(len(kinds), 1)) as pool:
                listed = dict(zip(kinds, pool.map(self._list, kinds), strict=True))
            now = time.time()
            for api in KINDS:
                self._listed_at[api] = now
                self._lists[api] = {int(e["vmid"]): e for e in listed.get(api, [])}

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
        """A file of the node, read once until its guest changes (None: absent); over a host
        that reads many at once, with every guest file not read yet."""
        with self._lock:
            if path in self._files:
                return self._files[path]
        self._read((path, *self._unread_guest_files()))
        with self._lock:
            return self._files[path]

    def _read(self, paths: tuple[str, ...]) -> None:
        if not isinstance(self.host, ReadingMany):
            for path in paths:
                try:
                    data: bytes | None = self.host.read_file(path)
                except FileNotFoundError:
                    data = None
                self._keep(path, data)
            return
        with self._files_lock:
            with self._lock:
                unread = [path for path in paths if path not in self._files]
            if unread:
                for path, data in self.host.read_files(unread).items():
                    self._keep(path, data)

    def _keep(self, path: str, data: bytes | None) -> None:
        text = None if data is None else data.decode(errors="surrogateescape")
        with self._lock:
            self._files.setdefault(path, text)

    def _unread_guest_files(self) -> list[str]:
        """The conf and firewall files of this node's guests (by ``.vmlist``, once read) not
        read yet; none when the host reads a file per round trip anyway."""
        if not isinstance(self.host, ReadingMany):
            return []
        with self._lock:
            placed = None if self._vmlist is MISSING else self._vmlist
            if placed is None:
                return []
            paths = [
                path
                for vmid, entry in placed[1].items()
                if entry.type in BY_API
                for path in (
                    BY_API[entry.type].conf_path(self.pve_etc, vmid),
                    firewall_path(self.pve_etc, vmid),
                )
            ]
            return [path for path in paths if path not in self._files]

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
    return ctx.scope.get(key, lambda: NodeSnapshot(ctx.host, settings.of(ctx.config).pve_etc))
