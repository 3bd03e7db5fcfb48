"""Owners forked from one process that has already imported them: a node in ~0.1 s of CPU.

A node's owner spends most of its start importing fakepve and aiohttp (about 0.3 s of CPU).
A test session starts hundreds of nodes, so the pytest plugin (:mod:`pve_sim.pytest_plugin`)
has :func:`pve_sim.daemon.up` ask a *launcher* instead: a process started once, which imports
:mod:`pve_sim.owner` and everything it needs, then forks one owner per request. The owner is
the same code run with the same arguments, environment, working directory and log file as
``python -m pve_sim.owner``; only the imports are done before the fork. ``pve-sim up`` and
the demo start owners the plain way.

The launcher is the parent of every owner it forks and reaps each as it ends, so their CPU
time is counted in the launcher's, and the launcher's in the test session's, once it is
stopped (:meth:`Launcher.stop`). Standard library only on the caller's side.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

#: Seconds between reaping the owners that ended, while no request comes.
REAP_EVERY = 0.05


class Launcher:
    """The caller's handle on a launcher process, started on the first :meth:`spawn`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @property
    def socket_path(self) -> Path:
        assert self._dir is not None
        return self._dir / "launcher.sock"

    def _start(self, timeout: float = 30.0) -> None:
        # A short path: a Unix socket's name holds at most 107 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="pve-sim-"))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pve_sim.preload", str(self.socket_path)],
            stdin=subprocess.DEVNULL,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the pve-sim owner launcher did not start")
            time.sleep(0.01)

    def spawn(self, argv: list[str], cwd: Path, log: Path, env: dict[str, str]) -> int:
        """Fork an owner running ``python -m pve_sim.owner *argv`` in ``cwd``, its output
        appended to ``log``, with ``env``; its pid."""
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        request = {"argv": argv, "cwd": str(cwd), "log": str(log), "env": env}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(self.socket_path))
            conn.sendall(json.dumps(request).encode())
            conn.shutdown(socket.SHUT_WR)
            answer = json.loads(_read_all(conn))
        return int(answer["pid"])

    def stop(self) -> None:
        """End the launcher (the owners it forked run on until stopped themselves)."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# -- the launcher process ------------------------------------------------------------------


def _fork_owner(request: dict[str, Any], *inherited: socket.socket) -> int:
    from pve_sim import owner

    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for sock in inherited:  # the caller waits for the end of its connection
            sock.close()
        os.setsid()
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        owner.main(request["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _warm_up() -> None:
    """Do once here what every owner's start would otherwise repeat: the libraries its API
    certificate needs, fakepve's API schema (a gzipped JSON file, parsed into a cached
    object) and the regular expressions of its routes (in ``re``'s cache, which a fork
    keeps), by starting and stopping one API server."""
    import asyncio

    from fakepve import FakePve
    from fakepve.certs import make_cert

    async def start_and_stop(certfile: str, keyfile: str) -> None:
        fake = FakePve(host="127.0.0.1", port=0)
        await fake.start(certfile, keyfile)
        await fake.stop()

    with tempfile.TemporaryDirectory() as scratch:
        certfile, keyfile, _ = make_cert(scratch)
        asyncio.run(start_and_stop(certfile, keyfile))


def serve(path: Path) -> None:
    """Answer fork requests on the Unix socket ``path`` until SIGTERM."""
    import pve_sim.owner  # noqa: F401 - the imports every owner forked from here shares

    _warm_up()
    signal.signal(signal.SIGTERM, _stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path) + ".tmp")
    listener.listen(16)
    os.replace(str(path) + ".tmp", path)
    try:
        while True:
            _reap()
            if not select.select([listener], [], [], REAP_EVERY)[0]:
                continue
            conn, _ = listener.accept()
            with conn:
                request = json.loads(_read_all(conn))
                pid = _fork_owner(request, listener, conn)
                conn.sendall(json.dumps({"pid": pid}).encode())
    finally:
        _reap()  # an owner stopped a moment ago: its CPU time counts in ours


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
