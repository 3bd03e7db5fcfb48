"""Median wall time and mean CPU time of one pve-sim command, against `python -c pass` in the
same run.

Every integration test pays this per command, so the budget is 150 ms median (issue 3). The
CPU column is the command's own processes (the shim and what it runs, from `getrusage` of
the reaped children), not the owner's answer; the suite pays it thousands of times.

    python bench/sim_command.py [--runs 30] [--dir /tmp/sim-bench]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pve_sim.fixture import SimNode

BUDGET_MS = 150.0
TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and mean CPU time, in milliseconds, of running argv to completion."""
    samples = []
    cpu = children_cpu()
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, capture_output=True)
        samples.append((time.perf_counter() - start) * 1000)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed: {proc.stderr.decode()}")
    return statistics.median(samples), (children_cpu() - cpu) * 1000 / runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    sim_dir = args.dir or Path(tempfile.mkdtemp(prefix="sim-bench-"))
    node = SimNode.start(sim_dir)
    try:
        node.run(["pct", "create", "100", TEMPLATE, "--rootfs", "local-lvm:4"], check=True)
        node.run(["pct", "start", "100"], check=True)
        cases = [
            [sys.executable, "-c", "pass"],
            ["pct", "status", "100"],
            ["pct", "config", "100"],
            ["pct", "list"],
            ["pvesm", "status"],
            ["pct", "set", "100", "--memory", "512"],
        ]
        worst = 0.0
        print(f"runs per command: {args.runs}")
        for argv in cases:
            ms, cpu = measure(argv, node.env, args.runs)
            label = "python -c pass" if argv[0] == sys.executable else " ".join(argv)
            print(f"{label:<32} median {ms:7.1f} ms   CPU {cpu:5.1f} ms")
            if argv[0] != sys.executable:
                worst = max(worst, ms)
    finally:
        node.stop()
    print(f"worst simulator median {worst:.1f} ms (budget {BUDGET_MS:.0f} ms)")
    return 0 if worst < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
