"""`SimNode`: a started simulated node as tests use it (the `pve_node` fixture yields one)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import daemon, journal, protocol
from .profile import DEFAULT


class SimNode:
    """Handle on a running node directory: paths, environment, journal and fault knobs."""

    def __init__(self, sim_dir: Path, state: dict[str, Any]):
        self.dir = Path(sim_dir)
        self.bin_dir = self.dir / "bin"
        self.pve_etc = self.dir / "etc" / "pve"
        self.node = state["node"]
        self.api_url = state["api_url"]
        #: phoenix's ``--host`` for this node: commands and files both land in its directory.
        self.host = f"sim:{self.dir}"
        # Each simulated node keeps phoenix's run lock (phoenix_core.runlock) in its directory.
        self.env = dict(
            os.environ,
            PATH=f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            PHOENIX_LOCK_DIR=str(sim_dir),
        )

    @classmethod
    def start(
        cls,
        sim_dir: Path,
        seed: Path | None = None,
        node: str = "pve1",
        time_scale: float = 0.0,
        pve: int = DEFAULT,
    ) -> SimNode:
        """Bring a node up in sim_dir (playing PVE `pve`) and return its handle."""
        return cls(sim_dir, daemon.up(sim_dir, node, seed, time_scale, pve=pve))

    def stop(self) -> None:
        daemon.down(self.dir)

    # ------------------------------------------------------------ commands

    def run(
        self, argv: Sequence[str], check: bool = False, **kwargs: Any
    ) -> subprocess.CompletedProcess:
        """Run a tool (`["pct", "status", "100"]`) with the node's PATH; text output captured."""
        kwargs.setdefault("env", self.env)
        return subprocess.run(list(argv), capture_output=True, text=True, check=check, **kwargs)

    # ------------------------------------------------------------ journal

    def journal(self) -> list[dict[str, Any]]:
        """Every command the node answered, oldest first."""
        return journal.read(self.dir)

    def mutating(self) -> list[dict[str, Any]]:
        """The journal entries of state-changing commands."""
        return [e for e in self.journal() if e["mutating"]]

    def mark(self) -> int:
        """A position in the journal, for since()."""
        return len(self.journal())

    def since(self, mark: int) -> list[dict[str, Any]]:
        """Journal entries appended after mark()."""
        return self.journal()[mark:]

    # ------------------------------------------------------------ scripting and faults

    def _ctl(self, **message: Any) -> dict[str, Any]:
        return protocol.request(self.dir, message)

    def script_exec(
        self,
        vmid: int | None,
        pattern: str,
        rc: int = 0,
        stdout: str = "",
        stderr: str = "",
        times: int | None = None,
    ) -> None:
        """Answer `pct exec`/`qm guest exec` commands matching the regex pattern in guest vmid
        (None: any guest) with this exit code and output."""
        self._ctl(
            op="script",
            vmid=vmid,
            pattern=pattern,
            rc=rc,
            stdout=stdout,
            stderr=stderr,
            times=times,
        )

    def clear_scripts(self) -> None:
        """Forget every script_exec answer: guests answer as their simulated system does."""
        self._ctl(op="clear_scripts")

    def fail_nth_mutation(self, n: int, message: str | None = None) -> None:
        """Make the nth mutating command from now fail with rc 255 (1 = the next one)."""
        self._ctl(op="fail_nth_mutation", n=n, message=message)

    def hold_lock(self, vmid: int, lock: str = "backup") -> None:
        """Put `lock: <lock>` on a guest, as a running backup or crashed task leaves it."""
        self._ctl(op="hold_lock", vmid=vmid, lock=lock)

    def release_lock(self, vmid: int) -> None:
        self._ctl(op="release_lock", vmid=vmid)

    def hold_flock(self, vmid: int) -> None:
        """Hold the guest's config flock: writes fail with `can't lock file ... got timeout`."""
        self._ctl(op="hold_flock", vmid=vmid)

    def release_flock(self, vmid: int) -> None:
        self._ctl(op="release_flock", vmid=vmid)

    def set_agent_delay(self, seconds: float) -> None:
        """The guest agent of a VM answers this many seconds after its start (default 3)."""
        self._ctl(op="agent_delay", seconds=seconds)

    def add_remote_file(self, url: str, content: bytes) -> None:
        """Make `download-url` of url fetch content (any other URL answers 404)."""
        self._ctl(op="remote_file", url=url, content=content.hex())

    def set_latency(self, seconds: float) -> None:
        """Every task takes this long; LXC tasks hold their locks meanwhile."""
        self._ctl(op="latency", seconds=seconds)

    def set_tool_cost(self, seconds: float) -> None:
        """Every Proxmox tool invocation (pct, qm, pvesh ...) waits this long before it runs."""
        self._ctl(op="tool_cost", seconds=seconds)

    def elapse_timers(self) -> list[str]:
        """Time passes: every armed transient timer (`systemd-run --on-active`) elapses now
        and runs its command; the names of those that did."""
        return list(self._ctl(op="elapse_timers")["elapsed"])

    def clear_faults(self) -> None:
        self._ctl(op="clear_faults")

    def wait_idle(self) -> None:
        """Return once the node answers no command: what a caller that died (a killed SSH
        session) had sent is finished, so it cannot land in the middle of the next run."""
        self._ctl(op="wait_idle")

    def conf(self, vmid: int, kind: str = "lxc") -> Path:
        """The guest's config file, DIR/etc/pve/{lxc,qemu-server}/<id>.conf."""
        return self.pve_etc / ("lxc" if kind == "lxc" else "qemu-server") / f"{vmid}.conf"

    def guest_path(self, vmid: int, inner: str) -> Path:
        """Where a file inside the guest lives (what pct push wrote)."""
        return self.dir / "guests" / str(vmid) / inner.lstrip("/")
