"""Where the test suite's CPU goes, by program: every Python process of one run of the suite
records its own CPU time when it exits, and this prints the totals.

A ``sitecustomize`` module put first on ``PYTHONPATH`` (which every process the suite starts
inherits) registers an exit handler that appends the process's ``getrusage`` user+sys time
and its program to a file. Processes that end with ``os._exit`` (the simulated nodes' owners,
forked from the session's launcher) and programs that are not Python (the simulated
commands' bash scripts, OpenSSH) are not in the file: they are what the whole run's CPU has
beyond the listed total. An interpreter that has a ``sitecustomize`` of its own (Debian's
system Python) loses it for the run.

    python bench/suite_processes.py [PYTEST ARGS...]     (default: the whole suite)
"""

from __future__ import annotations

import collections
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RECORDER = """import atexit, os, resource, sys


def _record():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open({log!r}, "a") as out:
        out.write("%.4f\\t%s\\n" % (usage.ru_utime + usage.ru_stime, " ".join(sys.argv[:1])))


atexit.register(_record)
"""


def program(argv0: str) -> str:
    """A process's program: ``phoenix``, ``pytest``, ``pip``, ``phoenix_core.cli`` ..."""
    path = Path(argv0)
    if path.name == "__main__.py":
        return f"python -m {path.parent.name}"
    if path.parent.name == "phoenix_core" or path.parent.name.startswith("pve_sim"):
        return f"python -m {path.parent.name}.{path.stem}"
    return path.name or "python -c"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "processes.tsv"
        (Path(scratch) / "sitecustomize.py").write_text(RECORDER.format(log=str(log)))
        inherited = os.environ.get("PYTHONPATH")
        before = _children_cpu()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *sys.argv[1:]],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [scratch, inherited]))},
            check=False,
        )
        total = _children_cpu() - before
        rows = [line.split("\t", 1) for line in log.read_text().splitlines() if "\t" in line]
    by_program: dict[str, list[float]] = collections.defaultdict(list)
    for cpu, argv0 in rows:
        by_program[program(argv0)].append(float(cpu))
    listed = sum(sum(v) for v in by_program.values())
    print(f"\nthe run: {total:.1f} s of CPU (user+sys of every process it waited for)")
    print(f"{'program':<34} {'processes':>9} {'CPU s':>8} {'median s':>9}")
    for name, cpus in sorted(by_program.items(), key=lambda kv: -sum(kv[1])):
        print(f"{name:<34} {len(cpus):>9} {sum(cpus):>8.1f} {statistics.median(cpus):>9.3f}")
    print(f"{'not listed (owners, bash, OpenSSH)':<34} {'':>9} {total - listed:>8.1f}")
    return run.returncode


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
