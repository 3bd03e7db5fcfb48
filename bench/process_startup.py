"""CPU of the processes the test suite starts most: a simulated node's owner, and the imports
of a ``phoenix`` process.

Prints, in one run on this machine (CPU from ``getrusage`` of the waited children, so a busy
machine stretches it less than wall time):

- the median CPU of a node's owner process from its start to ready and stopped, alternating
  two environments: as ``pve_sim.daemon`` starts it (OpenSSL's default CA store pointed at
  nothing) and with the system's CA store, which aiohttp would load twice at import; then
  an owner forked by the launcher the test session uses (``pve_sim.preload``, which imported
  the owner once), and that launcher's own cost (best of three sessions);
- the CPU of importing each library a ``phoenix plan`` imports, and of everything a ``plan``
  imports, over ``python -c pass`` (best of the runs).

Bytecode is cached in a temporary directory (``PYTHONPYCACHEPREFIX``), as the suite's
processes have it.

Usage: python bench/process_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORTS = (
    "attrs",
    "cattrs",
    "click",
    "pluggy",
    "importlib.metadata",
    "loguru",
    "phoenix_core.cli",
    "phoenix_core.cli, phoenix_core.engine, phoenix_core.config.load, phoenix_pve.health, "
    "phoenix_lxc.manager, phoenix_vm.manager, phoenix_hypervisor.manager",
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def owner_cpu(top: Path, env: dict[str, str]) -> float:
    """CPU of one owner process: started, ready (its state file written), stopped."""
    sim_dir = top / "node"
    shutil.rmtree(sim_dir, ignore_errors=True)
    sim_dir.mkdir()
    before = children_cpu()
    argv = [sys.executable, "-m", "pve_sim.owner", "--dir", str(sim_dir)]
    owner = subprocess.Popen(argv, stderr=subprocess.DEVNULL, env=env)
    while not (sim_dir / "state.json").exists():
        if owner.poll() is not None:
            raise SystemExit(f"the owner exited with {owner.returncode}")
        time.sleep(0.01)
    owner.send_signal(signal.SIGTERM)
    owner.wait()
    return children_cpu() - before


def launcher_session_cpu(top: Path, owners: int) -> float:
    """CPU of a launcher (:mod:`pve_sim.preload`, as the pytest plugin has it) and of
    ``owners`` owners forked from it, each started, ready and stopped."""
    from pve_sim import daemon

    stop = daemon.preload_owners()
    before = children_cpu()
    for n in range(owners):
        sim_dir = top / f"forked{n}"
        shutil.rmtree(sim_dir, ignore_errors=True)
        daemon.up(sim_dir)
        daemon.down(sim_dir)
    stop()
    return children_cpu() - before


def import_cpu(code: str, env: dict[str, str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        before = children_cpu()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        best = min(best, children_cpu() - before)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="phoenix-bench-") as top:
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["PYTHONPYCACHEPREFIX"] = str(Path(top) / "pycache")
        no_store = {**base, "SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}
        owners = {"as daemon.up starts it": no_store, "with the system CA store": base}
        owner_cpu(Path(top), base)  # writes the bytecode
        samples: dict[str, list[float]] = {name: [] for name in owners}
        for _ in range(args.runs):
            for name, env in owners.items():
                samples[name].append(owner_cpu(Path(top), env))
        print(f"owner process, median CPU of {args.runs} starts:")
        for name, values in samples.items():
            print(f"  {statistics.median(values) * 1e3:5.0f} ms  {name}")
        os.environ.update(no_store)
        one = min(launcher_session_cpu(Path(top), 1) for _ in range(3))
        many = min(launcher_session_cpu(Path(top), args.runs + 1) for _ in range(3))
        forked = (many - one) / args.runs
        print(f"  {forked * 1e3:5.0f} ms  forked by the test session's launcher, each")
        print(f"  {(one - forked) * 1e3:5.0f} ms  the launcher itself, once per session")
        idle = import_cpu("pass", base, args.runs)
        print(f"imports, CPU over python -c pass ({idle * 1e3:.0f} ms), best of {args.runs}:")
        for names in IMPORTS:
            cost = import_cpu(f"import {names}", base, args.runs) - idle
            print(f"  {cost * 1e3:5.0f} ms  {names}")


if __name__ == "__main__":
    main()
