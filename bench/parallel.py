"""Parallel converge on the simulator against the ideal schedule (issue 10).

24 containers: a template (900) with 8 full clones, and 15 more created from the OS
template, each task taking ``--latency`` seconds as a real node's tasks take their time.
Converged on a fresh node with ``--jobs 1``, ``4`` and ``8``; then the ideal schedule is
computed from the ``--jobs 1`` run under the same rules as the executor: an action lasts
what it lasted alone, a clone waits for its source to be built and holds it while its
``pct clone`` runs, at most N actions at once, longest remaining work first. Also checked from the
journal: no two clones of one source overlapped, no guest had two mutating commands at once;
and a second converge's commands per in-sync guest. Usage:

    python bench/parallel.py [--latency 0.5] [--jobs 1 4 8]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins" / "phoenix-lxc" / "tests"))

from lxc_support import SEED, base_ct, write_lxc  # noqa: E402

from pve_sim import journal  # noqa: E402
from pve_sim.fixture import SimNode  # noqa: E402

PHOENIX = Path(sys.executable).with_name("phoenix")
SOURCE = 900
CLONES = range(901, 909)
OTHERS = range(200, 215)


def guests() -> dict[str, Any]:
    configs: dict[str, Any] = {
        str(SOURCE): base_ct("base", "10.0.7.250/24", "52:54:00:00:07:fa", is_template=True)
    }
    for ident in CLONES:
        configs[str(ident)] = {
            **base_ct(
                f"clone{ident}", f"10.0.7.{ident - 800}/24", f"52:54:00:00:07:{ident - 800:02x}"
            ),
            "clone_from_ctid": SOURCE,
        }
        del configs[str(ident)]["template"]
    for ident in OTHERS:
        configs[str(ident)] = base_ct(
            f"ct{ident}", f"10.0.6.{ident - 150}/24", f"52:54:00:00:06:{ident - 150:02x}"
        )
    return configs


def converge(node: SimNode, etc: Path, logs: Path, jobs: int) -> tuple[float, dict[str, Any]]:
    argv = [str(PHOENIX), "-q", "--log-dir", str(logs), "--config-dir", str(etc)]
    argv += ["--host", node.host]
    started = time.monotonic()
    run = subprocess.run(
        [*argv, "converge", "--jobs", str(jobs), "-o", "json"],
        # Containers only: host setup (phoenix-hypervisor) is measured on its own.
        env={**os.environ, "PHOENIX_DISABLE_PLUGINS": "hypervisor"},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"converge --jobs {jobs} failed:\n{run.stdout}\n{run.stderr}")
    return elapsed, json.loads(run.stdout)


def ideal(document: dict[str, Any], records: list[dict[str, Any]], jobs: int) -> float:
    """List-schedule the serial run's actions on ``jobs`` workers under the executor's rules:
    each action lasts what it lasted alone; a clone starts after its source is built and
    holds the source only while its ``pct clone`` runs (waiting, if another clone has it,
    on its worker); longest remaining work first."""
    seconds = {int(o["id"]): o["seconds"] for o in document["outcomes"]}
    ends: dict[int, float] = {}
    for record in records:
        for guest in journal.guests_of(record):
            ends[int(guest)] = max(ends.get(int(guest), 0.0), record["ts"] + record["duration"])
    pre, copy = {}, {}
    for record in records:
        if record["argv"][1:2] == ["clone"]:
            target = int(record["argv"][3])
            pre[target] = record["ts"] - (ends[target] - seconds[target])
            copy[target] = record["duration"]
    chain = sum(copy.values()) + max(seconds[c] - pre[c] - copy[c] for c in CLONES)
    rank = {
        i: seconds[i] + (chain if i == SOURCE else 0) + (1 if i in CLONES else 0) for i in seconds
    }
    pending = sorted(seconds, key=lambda i: -rank[i])
    now, done = 0.0, set()
    running: list[tuple[float, int, str]] = []  # (phase end, guest, phase)
    waiting: list[int] = []  # clones done with their checks, queued for the source
    source_free = True
    while pending or running or waiting:
        for ident in list(pending):
            if len(running) + len(waiting) >= jobs:
                break
            if ident in CLONES and SOURCE not in done:
                continue
            pending.remove(ident)
            if ident in CLONES:
                heapq.heappush(running, (now + pre[ident], ident, "checks"))
            else:
                heapq.heappush(running, (now + seconds[ident], ident, "all"))
        now, ident, phase = heapq.heappop(running)
        if phase == "checks":
            waiting.append(ident)
        elif phase == "clone":
            source_free = True
            rest = seconds[ident] - pre[ident] - copy[ident]
            heapq.heappush(running, (now + rest, ident, "all"))
        else:
            done.add(ident)
        if source_free and waiting:
            source_free = False
            first = waiting.pop(0)
            heapq.heappush(running, (now + copy[first], first, "clone"))
    return now


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each task takes")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    results: dict[int, float] = {}
    serial: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in args.jobs:
            node = SimNode.start(Path(tmp) / f"node{jobs}", seed=SEED)
            try:
                etc = write_lxc(Path(tmp) / f"etc{jobs}", guests())
                node.set_latency(args.latency)
                elapsed, document = converge(node, etc, Path(tmp) / "logs", jobs)
                records = node.journal()
                results[jobs] = elapsed
                clones, guests_ = journal.clone_overlaps(records), journal.guest_overlaps(records)
                print(
                    f"--jobs {jobs}: {elapsed:6.2f} s for {len(document['outcomes'])} guests; "
                    f"overlapping clones of one source: {len(clones)}, "
                    f"overlapping mutations of one guest: {len(guests_)}"
                )
                if clones or guests_:
                    print("  ", (clones + guests_)[:3])
                    return 1
                if jobs == 1:
                    serial = (document, records)
                mark = node.mark()
                node.set_latency(0)
                converge(node, etc, Path(tmp) / "logs", jobs)
                again = node.since(mark)
                print(
                    f"  in-sync converge: {len(again) / len(document['outcomes']):.2f} commands "
                    f"per guest, {sum(e['mutating'] for e in again)} mutating"
                )
            finally:
                node.stop()
    if serial is None:
        return 0
    for jobs in args.jobs:
        if jobs == 1:
            continue
        best = ideal(*serial, jobs)
        print(
            f"--jobs {jobs}: ideal {best:6.2f} s; measured/ideal {results[jobs] / best:.2f}; "
            f"speed-up over --jobs 1 {results[1] / results[jobs]:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
