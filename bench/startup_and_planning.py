"""Start-up and planning cost of phoenix-core.

Prints, in one run on this machine:
- the median wall time of ``phoenix --help`` against ``python -c pass`` (budget 150 ms),
  and the slowest imports of ``phoenix --help`` from ``python -X importtime``;
- the time to load, validate and order the old tool's 15 guests and synthetic
  configurations of 100, 1,000 and 10,000 guests (budget: under 1 s for 10,000), with every
  installed manager plugin validating its own keys.

With ``--baseline DIR`` (a checkout of an older commit, e.g. ``git worktree add /tmp/old
6f4215d``), ``phoenix --help`` and planning 10,000 guests are also timed side by side with
that checkout's core and plugins: with its own ``DIR/.venv`` when it has one (``make dev``
there: this venv's editable installs would shadow it on ``PYTHONPATH``), else on
``PYTHONPATH`` with this venv's dependencies. Runs alternate (which side goes first too),
with only the plugins both have (the others disabled), and the median ratio is printed; for planning also the ratio of its CPU time (``time.process_time`` in
the planning interpreter), which a busy machine disturbs less than the wall time.

Usage: python bench/startup_and_planning.py [--runs N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOENIX = Path(sys.executable).parent / "phoenix"


#: The interpreters timed here may cache bytecode, as an installed phoenix has it: with
#: PYTHONDONTWRITEBYTECODE set, every ``--help`` would compile each module from source.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_ms(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs + 1):  # the first run (which writes the bytecode) is dropped
        started = time.perf_counter()
        subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples[1:]) * 1e3


def slowest_imports(count: int = 6) -> list[tuple[int, str]]:
    code = "import sys; from phoenix_core.cli import main; sys.argv=['phoenix','--help']; main()"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _self, cumulative, name = (
                part.strip() for part in line[len("import time:") :].split("|")
            )
            if not name.startswith(" "):
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def synthetic(directory: Path, guests: int) -> Path:
    """Containers in clone chains of 10 with cross dependencies, and one VM per 10 guests."""
    lxc, vms = {}, []
    for index in range(guests):
        ident = 1000 + index
        host = index + 2
        guest: dict[str, object] = {
            "name": f"guest-{ident}",
            "memory_mb": 1024,
            "cores": 2,
            "storage_pool": "local-lvm",
            "storage_size_gb": 16,
            "unprivileged": True,
            "network_config": {
                "name": "eth0",
                "bridge": "vmbr0",
                # Hosts from 10.0.0.2: .0 is the network and .1 the gateway.
                "ip": f"10.{host // 65536}.{host // 256 % 256}.{host % 256}/8",
                "gw": "10.0.0.1",
            },
            "boot_order": index % 7,
        }
        if index % 10 == 0:
            guest["template"] = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
        else:
            guest["clone_from_ctid"] = str(ident - 1)
        if index % 10 == 5 and index > 20:
            guest["dependencies"] = [str(ident - 20)]
        if index % 10 == 9:
            vm = {"vmid": 500_000 + index, "name": f"vm-{index}", "dependencies": [str(ident - 1)]}
            # A VM needs something to be created from and a storage for its disks (phoenix-vm
            # checks both at load).
            vm["template_image"] = "noble-server-cloudimg-amd64.img"
            vm["storage_pool"] = "local-lvm"
            vms.append(vm)
            continue
        lxc[str(ident)] = guest
    directory.mkdir(parents=True)
    (directory / "phoenix_hypervisor_config.json").write_text(json.dumps({"core_paths": {}}))
    (directory / "phoenix_lxc_configs.json").write_text(json.dumps({"lxc_configs": lxc}))
    (directory / "phoenix_vm_configs.json").write_text(json.dumps({"vms": vms}))
    return directory


def plan_seconds(directory: Path, repeat: int) -> tuple[float, int]:
    from phoenix_core.config import load_config
    from phoenix_core.engine import Engine
    from phoenix_core.hosts.pool import HostPool
    from phoenix_core.plugins import Plugins

    plugins = Plugins().discover()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        config = load_config(directory, plugins)
        engine = Engine(config, plugins, HostPool())
        order = engine.order("converge", engine.all_ids())
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), len(order)


#: What ``--baseline`` runs in a fresh interpreter: ``--help``, and one planning of DIR.
HELP_CODE = "from phoenix_core.cli import main; main(['--help'])"
PLAN_CODE = (
    "import sys, time; sys.path.insert(0, {bench!r}); import startup_and_planning as b; "
    "cpu = time.process_time(); "
    "wall = b.plan_seconds(__import__('pathlib').Path({directory!r}), 1)[0]; "
    "print(wall, time.process_time() - cpu)"
)


def side_by_side(baseline: Path, runs: int, directory: Path) -> None:
    """Medians of this checkout and ``baseline`` (alternating runs) and their ratio."""
    old_path = os.pathsep.join(
        [str(baseline), *(str(p) for p in sorted((baseline / "plugins").glob("*")))]
    )
    shared = {p.name for p in (baseline / "plugins").glob("*")}
    disabled = [
        p.name.removeprefix("phoenix-")
        for p in (ROOT / "plugins").glob("*")
        if p.name not in shared
    ]
    env = {**ENV, "PHOENIX_DISABLE_PLUGINS": ",".join([*disabled, "hello"])}
    own = baseline / ".venv" / "bin" / "python"
    sides = {"this": {**env, "PYTHONPATH": ""}, "baseline": {**env, "PYTHONPATH": old_path}}
    python = {"this": sys.executable, "baseline": sys.executable}
    if own.exists():
        sides["baseline"]["PYTHONPATH"] = ""
        python["baseline"] = str(own)
    plan = PLAN_CODE.format(bench=str(ROOT / "bench"), directory=str(directory))
    for what, code, count in (
        ("phoenix --help", HELP_CODE, runs),
        ("plan 10,000", plan, max(5, runs // 2)),
    ):
        samples: dict[str, list[float]] = {"this": [], "baseline": []}
        cpu: dict[str, list[float]] = {"this": [], "baseline": []}
        for side, side_env in sides.items():  # writes each side's bytecode
            subprocess.run([python[side], "-c", code], env=side_env, capture_output=True)
        for run in range(count):
            # Which side goes first alternates: a busy machine then slows both alike.
            for side in ("this", "baseline")[:: 1 if run % 2 == 0 else -1]:
                started = time.perf_counter()
                out = subprocess.run(
                    [python[side], "-c", code],
                    env=sides[side],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                if what.startswith("plan"):
                    took, used = map(float, out.split())
                    cpu[side].append(used)
                else:
                    took = time.perf_counter() - started
                samples[side].append(took)
        this, old = (statistics.median(samples[k]) * 1e3 for k in ("this", "baseline"))
        print(
            f"{what:<16} this {this:8.1f} ms  baseline {old:8.1f} ms  ratio {this / old:.3f}"
            f"  (plugins disabled on both: {', '.join(disabled) or 'none'})"
        )
        if cpu["this"]:
            this, old = (statistics.median(cpu[k]) * 1e3 for k in ("this", "baseline"))
            print(
                f"{'  its CPU time':<16} this {this:8.1f} ms  baseline {old:8.1f} ms  ratio {this / old:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    args = parser.parse_args()
    os.environ.setdefault("PHOENIX_CONFIG_DIR", str(ROOT / "contrib" / "examples" / "original-etc"))

    baseline = median_ms([sys.executable, "-c", "pass"], args.runs)
    help_ms = median_ms([str(PHOENIX), "--help"], args.runs)
    print(f"python -c pass      median {baseline:6.1f} ms  ({args.runs} runs)")
    print(
        f"phoenix --help      median {help_ms:6.1f} ms  (budget 150 ms; {help_ms - baseline:.1f} ms above the interpreter)"
    )
    print("slowest imports of phoenix --help (cumulative):")
    for micros, name in slowest_imports():
        print(f"  {micros / 1000:6.1f} ms  {name}")

    work = Path(tempfile.mkdtemp(prefix="phoenix-bench-"))
    try:
        seconds, count = plan_seconds(ROOT / "contrib" / "examples" / "original-etc", 20)
        print(
            f"load+validate+order original-etc: {count:>6} guests in {seconds * 1e3:8.1f} ms  (old bash dispatcher: 1.9 s)"
        )
        for guests in (100, 1_000, 10_000):
            seconds, count = plan_seconds(
                synthetic(work / str(guests), guests), 5 if guests < 10_000 else 3
            )
            note = "  (old bash dispatcher: 18.5 s for 400)" if guests == 100 else ""
            print(
                f"load+validate+order synthetic:    {count:>6} guests in {seconds * 1e3:8.1f} ms{note}"
            )
        if args.baseline is not None:
            side_by_side(args.baseline.resolve(), args.runs, work / "10000")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
