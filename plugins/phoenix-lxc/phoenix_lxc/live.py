"""What the node says about one container, read lazily and at most once between changes.

Every step's check reads from one :class:`Live`; a converge of an in-sync container therefore
costs one ``pct status``, one ``pct config``, one ``pct listsnapshot``, the firewall reads and
one state read inside the CT, whatever the number of steps. An apply calls
:meth:`Live.invalidate` so the next check sees the new state. For a container that does not
exist (a dry run of a create), every read answers "empty", so checks plan from nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from phoenix_core import proxmox
from phoenix_core.hosts.base import CommandResult, Host
from phoenix_core.proxmox import GuestConfigText, Snapshot

#: Where phoenix keeps, inside the container, which features and scripts it has run.
STATE_DIR = "/var/lib/phoenix"
STATE_FILE = f"{STATE_DIR}/state.json"


class Live:
    """Cached reads for one container on one host, shared by all its steps in a run."""

    def __init__(
        self, host: Host, vmid: int, pve_etc: str, *, planned_create: bool = False
    ) -> None:
        self.host = host
        self.vmid = vmid
        self.pve_etc = pve_etc.rstrip("/")
        self._cache: dict[str, Any] = {}
        #: Set when a dry run planned the create: the CT is treated as a fresh, stopped one.
        self.planned_create = planned_create

    # -- plumbing ----------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._cache.clear()

    def query(self, argv: Sequence[str]) -> CommandResult:
        return self.host.query(list(argv))

    def change(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """A mutating command, retried on lock errors, raised classified on failure."""
        try:
            return proxmox.change_retrying(self.host, list(argv), timeout=timeout)
        finally:
            self.invalidate()

    def _memo(self, key: str, read: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    # -- reads -----------------------------------------------------------------------------
    @property
    def conf_path(self) -> str:
        return f"{self.pve_etc}/lxc/{self.vmid}.conf"

    def status(self) -> str | None:
        """``running`` / ``stopped``, or None when the container does not exist."""

        def read() -> str | None:
            if self.planned_create:
                return None
            result = self.query(["pct", "status", str(self.vmid)])
            if result.ok:
                return proxmox.parse_status(result.stdout) or "unknown"
            if proxmox.classify(result.stderr) is proxmox.ErrorKind.NOT_FOUND:
                return None
            proxmox.check(result)
            return None

        return self._memo("status", read)

    @property
    def exists(self) -> bool:
        return self.status() is not None

    @property
    def running(self) -> bool:
        return self.status() == "running"

    def config(self) -> GuestConfigText:
        """``pct config`` (pending values included, as Proxmox shows them by default)."""

        def read() -> GuestConfigText:
            if not self.exists:
                return GuestConfigText({})
            return proxmox.parse_config(
                proxmox.check(self.query(["pct", "config", str(self.vmid)])).stdout
            )

        return self._memo("config", read)

    def conf_text(self) -> str:
        """The container's conf file (raw ``lxc.*`` lines live only there)."""

        def read() -> str:
            if not self.exists:
                return ""
            try:
                return self.host.read_file(self.conf_path).decode()
            except FileNotFoundError:
                return ""

        return self._memo("conf", read)

    def snapshots(self) -> list[Snapshot]:
        def read() -> list[Snapshot]:
            if not self.exists:
                return []
            return proxmox.parse_snapshots(
                proxmox.check(self.query(["pct", "listsnapshot", str(self.vmid)])).stdout
            )

        return self._memo("snapshots", read)

    def pvesh_json(self, path: str) -> Any:
        def read() -> Any:
            if not self.exists:
                return None
            result = proxmox.check(self.query(["pvesh", "get", path, "--output-format", "json"]))
            return json.loads(result.stdout or "null")

        return self._memo(f"pvesh:{path}", read)

    def state(self) -> dict[str, Any]:
        """The run record phoenix keeps inside the CT (features and scripts already run).

        A stopped or missing CT has none readable; an unreadable or absent file is empty.
        """

        def read() -> dict[str, Any]:
            if not self.running:
                return {}
            result = self.query(["pct", "exec", str(self.vmid), "--", "cat", STATE_FILE])
            if not result.ok:
                return {}
            try:
                data = json.loads(result.stdout)
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}

        return self._memo("state", read)

    @property
    def is_template(self) -> bool:
        return proxmox.normalize_value(self.config().get("template", "0") or "0") == "1"
