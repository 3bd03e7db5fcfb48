"""What the node says about one guest, read lazily and at most once between changes.

Every step's check reads from one :class:`Live`. With the run's
:class:`~phoenix_pve.snapshot.NodeSnapshot` (``Live.of``), status, config, snapshots, the
conf file and the firewall come from the snapshot: an in-sync guest costs no Proxmox tool call
of its own. An apply goes through :meth:`Live.change`, which invalidates the cache and the
guest's part of the snapshot, so the next check sees the new state: the files are read
again and the status comes from ``pct status``/``qm status``. Without a snapshot every read is
the guest's own command (``status``, ``config``, ``listsnapshot``, ``pvesh get``). For a guest
that does not exist (a dry run of a create), every read answers "empty", so checks plan from
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from phoenix_core.hosts.base import CommandResult, Host
from phoenix_core.manager import RunContext
from phoenix_pve import errors, etcpve, parse, settings, snapshot
from phoenix_pve.guest import GuestKind, firewall_path
from phoenix_pve.parse import GuestConfigText, Snapshot
from phoenix_pve.snapshot import NodeSnapshot

T = TypeVar("T")


#: Not in the cache (None is a status: the guest does not exist).
_UNREAD = object()
#: Changes that cannot create, remove, start or stop a guest: a config edit (pve-container
#: src/PVE/API2/LXC/Config.pm update_vm hands the running state to update_pct_config, which
#: applies or holds each value, and starts or stops nothing), a resize, a snapshot (only a
#: rollback may stop or start: src/PVE/API2/LXC/Snapshot.pm rollback), a pushed file, the
#: cloud-init drive, and the node's own directories. After any other change the guest's
#: status is asked again.
_KEEPING_STATUS = frozenset(
    {
        ("pct", "set"),
        ("qm", "set"),
        ("pct", "resize"),
        ("qm", "disk"),
        ("pct", "snapshot"),
        ("qm", "snapshot"),
        ("pct", "push"),
        ("qm", "cloudinit"),
        ("mkdir",),
        ("chown",),
    }
)


#: What a successful command leaves the guest as, so its status need not be asked: a new guest
#: starts only with ``--start`` (pve-container src/PVE/API2/LXC.pm create_vm, qemu-server
#: src/PVE/API2/Qemu.pm create_vm; clone_vm of neither starts one), ``pct start`` returns once
#: the container's unit has started (src/PVE/LXC.pm vm_start: ``systemctl start
#: pve-container@ID``) and ``qm start`` once QEMU runs (PVE/API2/Qemu.pm vm_start), a stop
#: or shutdown once it is stopped, and ``destroy`` leaves nothing.
_STATUS_AFTER: dict[str, str | None] = {
    "create": "stopped",
    "clone": "stopped",
    "start": "running",
    "stop": "stopped",
    "shutdown": "stopped",
    "destroy": None,
}


def _status_after(argv: Sequence[str]) -> object:
    """The guest's status once ``argv`` (a pct/qm command) succeeded; :data:`_UNREAD` when
    the command does not say."""
    if argv[0] not in ("pct", "qm") or len(argv) < 2 or "--start" in argv:
        return _UNREAD
    return _STATUS_AFTER.get(argv[1], _UNREAD)


def keeps_status(argv: Sequence[str]) -> bool:
    """Does ``argv`` leave the guest existing and running (or not) as it was? A ``pvesh``
    call only when it edits the guest's firewall (a file of its own)."""
    if argv[0] == "pvesh":
        return len(argv) > 2 and "/firewall/" in argv[2]
    return (argv[0],) in _KEEPING_STATUS or tuple(argv[:2]) in _KEEPING_STATUS


class Live:
    """Cached reads for one guest on one host, shared by all its steps in a run."""

    def __init__(
        self,
        host: Host,
        kind: GuestKind,
        vmid: int,
        pve_etc: str,
        *,
        lock_timeout: float | None = None,
        node: NodeSnapshot | None = None,
    ) -> None:
        self.host = host
        self.kind = kind
        self.vmid = vmid
        #: Seconds a locked change is retried (None: :data:`errors.DEFAULT_LOCK_TIMEOUT`).
        self.lock_timeout = lock_timeout
        self.pve_etc = pve_etc.rstrip("/")
        #: The run's snapshot of the node (None: every read is the guest's own command).
        self.node = node
        self._cache: dict[str, Any] = {}

    @classmethod
    def of(
        cls, ctx: RunContext, kind: GuestKind, vmid: int, *, lock_timeout: float | None = None
    ) -> Live:
        """The guest as the run ``ctx`` reads it: through the run's snapshot of its node."""
        pve_etc = settings.of(ctx.config).pve_etc
        node = snapshot.of(ctx)
        return cls(ctx.host, kind, vmid, pve_etc, lock_timeout=lock_timeout, node=node)

    def sibling(self, vmid: int) -> Live:
        """Another guest of the same kind on the same node, read through the same snapshot."""
        return Live(self.host, self.kind, vmid, self.pve_etc, node=self.node)

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """How messages name the guest: ``CT 101``, ``VM 9000``."""
        return f"{self.kind.noun} {self.vmid}"

    def tool(self, verb: str, *args: str) -> list[str]:
        """``[tool, verb, vmid, *args]``: the shape of nearly every pct/qm command."""
        return [self.kind.tool, verb, str(self.vmid), *args]

    def invalidate(self, *, keep_status: bool = False) -> None:
        """Forget what was read of this guest, here and in the run's snapshot (with
        ``keep_status``, all but its status, which the change could not alter)."""
        status = self._cache.get("status", _UNREAD) if keep_status else _UNREAD
        self._cache.clear()
        if status is not _UNREAD:
            self._cache["status"] = status
        if self.node is not None:
            self.node.forget(self.vmid, (self.conf_path, self.firewall_path))

    def query(self, argv: Sequence[str]) -> CommandResult:
        return self.host.query(list(argv))

    def change(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        """A mutating command, retried on lock errors, raised classified on failure.
        ``input`` is its stdin (a password: never on the command line, never logged)."""
        try:
            result = errors.change_retrying(
                self.host,
                list(argv),
                timeout=timeout,
                input=input,
                lock_timeout=self.lock_timeout,
            )
        except BaseException:
            self.invalidate()
            raise
        self.invalidate(keep_status=keeps_status(argv))
        status = _status_after(argv)
        if status is not _UNREAD:
            self._cache["status"] = status
        return result

    def memo(self, key: str, read: Callable[[], T]) -> T:
        """``read()`` once until the next change: for reads a manager adds of its own."""
        if key not in self._cache:
            self._cache[key] = read()
        value: T = self._cache[key]
        return value

    # -- reads -----------------------------------------------------------------------------
    @property
    def conf_path(self) -> str:
        return self.kind.conf_path(self.pve_etc, self.vmid)

    @property
    def firewall_path(self) -> str:
        return firewall_path(self.pve_etc, self.vmid)

    @property
    def api_path(self) -> str:
        """The guest's ``pvesh`` path; ``localhost`` because pct/qm act on the local node."""
        return f"/nodes/localhost/{self.kind.api}/{self.vmid}"

    def status(self) -> str | None:
        """``running`` / ``stopped`` (or another qmpstatus), None when the guest does not exist."""

        def read() -> str | None:
            if self.node is not None and not self.node.changed(self.vmid):
                entry = self.node.runtime(self.kind, self.vmid)
                return None if entry is None else str(entry.get("status") or "unknown")
            result = self.query(self.tool("status"))
            if result.ok:
                return parse.parse_status(result.stdout) or "unknown"
            if errors.classify(result.stderr) is errors.ErrorKind.NOT_FOUND:
                return None
            errors.check(result)
            return None

        return self.memo("status", read)

    @property
    def exists(self) -> bool:
        return self.status() is not None

    @property
    def running(self) -> bool:
        return self.status() == "running"

    def config(self) -> GuestConfigText:
        """``config`` (pending values included, as Proxmox shows them by default)."""

        def read() -> GuestConfigText:
            if not self.exists:
                return GuestConfigText({})
            if self.node is not None:
                return self._conf_file().current
            return parse.parse_config(errors.check(self.query(self.tool("config"))).stdout)

        return self.memo("config", read)

    def conf_text(self) -> str:
        """The guest's conf file (raw ``lxc.*`` lines live only there)."""

        def read() -> str:
            if not self.exists:
                return ""
            if self.node is not None:
                return self.node.file(self.conf_path) or ""
            try:
                return self.host.read_file(self.conf_path).decode()
            except FileNotFoundError:
                return ""

        return self.memo("conf", read)

    def _conf_file(self) -> etcpve.ConfFile:
        return self.memo(
            "conf file",
            lambda: etcpve.parse_conf(self.conf_text(), container=self.kind.api == "lxc"),
        )

    def snapshots(self) -> list[Snapshot]:
        def read() -> list[Snapshot]:
            if not self.exists:
                return []
            if self.node is not None:
                return list(self._conf_file().snapshots)
            return parse.parse_snapshots(errors.check(self.query(self.tool("listsnapshot"))).stdout)

        return self.memo("snapshots", read)

    def pending_keys(self) -> list[str] | None:
        """Keys whose change waits for a restart, from the conf file's pending section; None
        without a snapshot (then the guest's ``pending`` command says)."""
        if self.node is None:
            return None
        return list(self._conf_file().pending) if self.exists else []

    def cloudinit_stale(self) -> list[str] | None:
        """Cloud-init keys changed since the drive was generated (the conf file's
        ``[special:cloudinit]`` section); None without a snapshot."""
        if self.node is None:
            return None
        return list(self._conf_file().cloudinit_stale) if self.exists else []

    def pvesh_json(self, path: str) -> Any:
        def read() -> Any:
            if not self.exists:
                return None
            from_file = self._firewall_file(path)
            if from_file is not None:
                return from_file
            result = errors.check(self.query(["pvesh", "get", path, "--output-format", "json"]))
            return json.loads(result.stdout or "null")

        return self.memo(f"pvesh:{path}", read)

    def _firewall_file(self, path: str) -> Any:
        """The guest firewall's ``options`` or ``rules`` from its file in the snapshot; None
        for another path, without a snapshot, or for a file this parser does not understand
        (then the API is asked)."""
        part = path.removeprefix(f"{self.api_path}/firewall/")
        if self.node is None or part not in ("options", "rules"):
            return None
        try:
            parsed = etcpve.parse_firewall(self.node.file(self.firewall_path) or "")
        except etcpve.FileFormatError:
            return None
        return parsed.options if part == "options" else parsed.rules

    @property
    def is_template(self) -> bool:
        return parse.normalize_value(self.config().get("template", "0") or "0") == "1"
