"""Start, stop and inspect the owner process of a node directory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import preload, protocol
from . import seed as seeds
from .profile import DEFAULT


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(sim_dir: Path) -> dict[str, Any] | None:
    """The running node's state, or None when no owner answers for sim_dir."""
    try:
        state = protocol.read_state(sim_dir)
    except protocol.NodeDown:
        return None
    if not _alive(int(state["pid"])):
        return None
    try:
        protocol.request(sim_dir, {"op": "ping"}, timeout=5)
    except (protocol.NodeDown, RuntimeError):
        return None
    return state


def up(
    sim_dir: Path,
    node: str = "pve1",
    seed: Path | None = None,
    time_scale: float = 0.0,
    timeout: float = 30.0,
    pve: int = DEFAULT,
) -> dict[str, Any]:
    """Start a node in sim_dir (in the background) and wait until its tools answer."""
    sim_dir = Path(sim_dir).resolve()
    sim_dir.mkdir(parents=True, exist_ok=True)
    running = status(sim_dir)
    if running is not None:
        return running
    (sim_dir / protocol.STATE_FILE).unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pve_sim.owner",
        "--dir",
        str(sim_dir),
        "--node",
        node,
        "--time-scale",
        str(time_scale),
        "--pve",
        str(pve),
    ]
    if seed is not None:
        cmd += ["--seed", str(seeds.locate(seed))]
    log = sim_dir / "owner.log"
    if _launcher is not None:
        pid = _launcher.spawn(cmd[3:], sim_dir, log, _owner_env())
        ended: Callable[[], bool] = lambda: not _alive(pid)  # noqa: E731
    else:
        with open(log, "ab") as logfile:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=logfile,
                start_new_session=True,
                cwd=sim_dir,
                env=_owner_env(),
            )
        pid = proc.pid
        ended = lambda: proc.poll() is not None  # noqa: E731
    (sim_dir / "owner.pid").write_text(f"{pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ended():
            raise RuntimeError(f"pve-sim owner exited:\n{log.read_text()[-2000:]}")
        if (sim_dir / protocol.STATE_FILE).exists():
            state = protocol.read_state(sim_dir)
            if state.get("pid") == pid:
                return state
        time.sleep(0.02)
    os.kill(pid, signal.SIGTERM)
    raise RuntimeError(f"pve-sim owner did not become ready within {timeout}s")


#: Set by :func:`preload_owners`: owners are forked by a launcher that imported them once.
_launcher: preload.Launcher | None = None


def preload_owners() -> Callable[[], None]:
    """From now on, :func:`up` forks each owner from one launcher process started at the
    first node (:mod:`pve_sim.preload`), instead of starting a Python that imports them
    again; what to call to stop the launcher once no node is started any more."""
    global _launcher
    previous = _launcher
    launcher = _launcher = preload.Launcher(_owner_env())

    def stop() -> None:
        # A session run inside another (pytester's inline runs) gives the outer one's back.
        global _launcher
        if _launcher is launcher:
            _launcher = previous
        launcher.stop()

    return stop


def _owner_env() -> dict[str, str]:
    """The owner's environment: ours, with OpenSSL's default trust store pointed at nothing.

    The owner's only TLS peer is its own fakepve, whose certificate its API client is given
    as the one CA (:class:`pve_sim.api.Api`). Importing aiohttp loads the default store into
    two module-level contexts all the same, parsing the system's whole CA bundle twice: about
    45 ms of CPU per node started, which the suite pays for every node. The commands the
    owner starts itself (a transient timer's file utility) make no TLS connection either.
    """
    return {**os.environ, "SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}


def down(sim_dir: Path, timeout: float = 10.0) -> bool:
    """Stop the node in sim_dir; True if one was running. Safe to call again."""
    sim_dir = Path(sim_dir).resolve()
    pid_file = sim_dir / "owner.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    stopped = False
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.02)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        stopped = True
    _reap(pid)
    pid_file.unlink(missing_ok=True)
    (sim_dir / protocol.STATE_FILE).unlink(missing_ok=True)
    return stopped


def _reap(pid: int) -> None:
    """Collect the owner if it is our own child (the pytest fixture's case)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
