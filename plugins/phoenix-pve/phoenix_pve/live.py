"""What the node says about one guest, read lazily and at most once between changes.

Every step's check reads from one :class:`Live`; a converge of an in-sync guest therefore
costs one ``status``, one ``config``, one ``listsnapshot`` and the ``pvesh`` reads its steps
ask for, whatever the number of steps. An apply goes through :meth:`Live.change`, which
invalidates the cache, so the next check sees the new state. For a guest that does not exist
(a dry run of a create), every read answers "empty", so checks plan from nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from phoenix_core.hosts.base import CommandResult, Host
from phoenix_pve import errors, parse
from phoenix_pve.guest import GuestKind
from phoenix_pve.parse import GuestConfigText, Snapshot

T = TypeVar("T")


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
    ) -> None:
        self.host = host
        self.kind = kind
        self.vmid = vmid
        #: Seconds a locked change is retried (None: :data:`errors.DEFAULT_LOCK_TIMEOUT`).
        self.lock_timeout = lock_timeout
        self.pve_etc = pve_etc.rstrip("/")
        self._cache: dict[str, Any] = {}

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """How messages name the guest: ``CT 101``, ``VM 9000``."""
        return f"{self.kind.noun} {self.vmid}"

    def tool(self, verb: str, *args: str) -> list[str]:
        """``[tool, verb, vmid, *args]``: the shape of nearly every pct/qm command."""
        return [self.kind.tool, verb, str(self.vmid), *args]

    def invalidate(self) -> None:
        self._cache.clear()

    def query(self, argv: Sequence[str]) -> CommandResult:
        return self.host.query(list(argv))

    def change(
        self, argv: Sequence[str], *, timeout: float | None = None, input: str | None = None
    ) -> CommandResult:
        """A mutating command, retried on lock errors, raised classified on failure.
        ``input`` is its stdin (a password: never on the command line, never logged)."""
        try:
            return errors.change_retrying(
                self.host,
                list(argv),
                timeout=timeout,
                input=input,
                lock_timeout=self.lock_timeout,
            )
        finally:
            self.invalidate()

    def memo(self, key: str, read: Callable[[], T]) -> T:
        """``read()`` once until the next change: for reads a manager adds of its own."""
        if key not in self._cache:
            self._cache[key] = read()
        value: T = self._cache[key]
        return value

    # -- reads -----------------------------------------------------------------------------
    @property
    def conf_path(self) -> str:
        return f"{self.pve_etc}/{self.kind.conf_dir}/{self.vmid}.conf"

    @property
    def api_path(self) -> str:
        """The guest's ``pvesh`` path; ``localhost`` because pct/qm act on the local node."""
        return f"/nodes/localhost/{self.kind.api}/{self.vmid}"

    def status(self) -> str | None:
        """``running`` / ``stopped`` (or another qmpstatus), None when the guest does not exist."""

        def read() -> str | None:
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
            return parse.parse_config(errors.check(self.query(self.tool("config"))).stdout)

        return self.memo("config", read)

    def conf_text(self) -> str:
        """The guest's conf file (raw ``lxc.*`` lines live only there)."""

        def read() -> str:
            if not self.exists:
                return ""
            try:
                return self.host.read_file(self.conf_path).decode()
            except FileNotFoundError:
                return ""

        return self.memo("conf", read)

    def snapshots(self) -> list[Snapshot]:
        def read() -> list[Snapshot]:
            if not self.exists:
                return []
            return parse.parse_snapshots(errors.check(self.query(self.tool("listsnapshot"))).stdout)

        return self.memo("snapshots", read)

    def pvesh_json(self, path: str) -> Any:
        def read() -> Any:
            if not self.exists:
                return None
            result = errors.check(self.query(["pvesh", "get", path, "--output-format", "json"]))
            return json.loads(result.stdout or "null")

        return self.memo(f"pvesh:{path}", read)

    @property
    def is_template(self) -> bool:
        return parse.normalize_value(self.config().get("template", "0") or "0") == "1"
