"""What an in-sync run costs a node: Proxmox tool invocations and wall time (issue 19).

On a real node every ``pct``, ``qm``, ``pvesh``, ``pvesm``, ``pveum`` ... starts Perl and
loads the PVE modules (0.3-0.6 s) before doing anything; the simulator charges that with
``pve-sim fault --tool-cost``. Two scenarios, each built once with this checkout's phoenix:

- the old homelab as ``make demo`` builds it (bare node, ``setup --allow-destructive``, then
  ``LetsGo``); measured: an in-sync ``LetsGo``, ``converge``, ``plan``, ``status``,
  ``status --all`` and ``status --addresses``, by this checkout with its host setup
  (``this``) and without (``this -h``: phoenix-hypervisor left out);
- 25 plain containers (no host manager); measured: ``converge``, ``plan`` and ``status``,
  then a hand edit of one container's memory and the ``converge`` that repairs it, then what
  creating guests costs: five new containers from the OS template in one ``converge``
  (``create 5``), then one more alone (``create 1``); each phoenix creates its own.

The containers' runs are also made by a baseline phoenix (by default the commit before issue
19's work, installed once into a cache directory) against the same node, in the same run. The
baseline does not run against the homelab: it knows no ``sim:DIR`` host, so the commands it
runs outside the simulator's tools (``chown`` of the guests' data directories) would reach
this machine. Counted from the node's journal: Proxmox tool invocations, all simulated commands,
mutating commands (0 for every in-sync run). Exits 1 when this checkout misses a budget:
LetsGo of the homelab under 3 s, converge/plan of the 25 containers at most 10 tool
invocations, status at most 3, no mutating command in sync, a repaired drift at most 2 reads
beyond what every run reads (the node probe and at most two node lists) and its mutating
command.

A create is held to the same budget. Before ``pct create`` it reads the pool (``pvesm
status``, once per run and node however many containers the run creates); whether the
template is on its storage is a stat of the template's file (no Perl start-up), ``pveam
list`` only when the file is not there, which the containers here never are, so the bench
fails when a create reads ``pveam list``. Starting a container that has no work inside
waits for no answer, and a create or a start reports the status it leaves.

Usage: python bench/node_cost.py [--tool-cost 0.4] [--baseline PATH | --baseline-commit C]
       [--no-baseline]
``--baseline PATH``: a ``phoenix`` executable (or a checkout whose ``.venv/bin/phoenix``
exists) to compare with instead of installing the baseline commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "contrib" / "demo"))
sys.path.insert(0, str(ROOT / "plugins" / "phoenix-lxc" / "tests"))

import demo  # noqa: E402
from lxc_support import SEED, base_ct, write_lxc  # noqa: E402

from pve_sim import journal  # noqa: E402
from pve_sim.faults import PROXMOX_TOOLS  # noqa: E402
from pve_sim.fixture import SimNode  # noqa: E402
from pve_sim.seed import with_local_snippets  # noqa: E402

PHOENIX = Path(sys.executable).with_name("phoenix")
#: The main commit every part of issue 19 started from.
BASELINE_COMMIT = "fffd11a"
#: The distributions of a phoenix checkout (the simulator is this checkout's, for both).
DISTRIBUTIONS = (
    ".",
    "plugins/phoenix-pve",
    "plugins/phoenix-lxc",
    "plugins/phoenix-vm",
    "plugins/phoenix-hypervisor",
)
CONTAINERS = range(300, 325)
#: The first id of the containers the creating scenario adds (ten ids for each phoenix).
CREATED = 330
HOMELAB_VERBS = ("LetsGo", "converge", "plan", "status", "status --all", "status --addresses")


@attrs.frozen
class Measure:
    scenario: str
    verb: str
    who: str
    tools: int
    commands: int
    mutating: int
    seconds: float
    exit_code: int
    #: The Proxmox tool command lines, in order.
    argvs: tuple[tuple[str, ...], ...] = ()


def baseline_phoenix(commit: str) -> Path:
    """``phoenix`` of ``commit``, installed once into the user's cache directory."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    home = cache / "phoenix-bench" / commit
    executable = home / ".venv" / "bin" / "phoenix"
    if executable.exists():
        return executable
    print(f"installing phoenix {commit} into {home} (once) ...", flush=True)
    home.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(home)], input=archive.stdout, check=True)
    subprocess.run([sys.executable, "-m", "venv", str(home / ".venv")], check=True)
    pip = [str(home / ".venv" / "bin" / "pip"), "install", "--quiet"]
    subprocess.run([*pip, *(f"{home / d}" for d in DISTRIBUTIONS)], check=True)
    return executable


def resolve_baseline(args: argparse.Namespace) -> Path | None:
    if args.no_baseline:
        return None
    if args.baseline is None:
        return baseline_phoenix(args.baseline_commit)
    path = args.baseline.resolve()
    return path / ".venv" / "bin" / "phoenix" if path.is_dir() else path


@attrs.frozen
class Node:
    """A built node and how to run a phoenix against it."""

    scenario: str
    dir: Path
    #: The configuration directory.
    config: Path
    env: dict[str, str]
    #: ``--config-dir ... --log-dir ...``: the same for every phoenix.
    options: tuple[str, ...]


@attrs.frozen
class Phoenix:
    """One phoenix measured: its label, executable and whether host setup is left out."""

    who: str
    executable: Path
    guests_only: bool = False


#: Leaves the host manager out: the baseline's host setup predates the fresh node the
#: simulator now plays (its enterprise repositories answer 401), so guests are compared alone.
GUESTS_ONLY = {"PHOENIX_DISABLE_PLUGINS": "hypervisor"}


def measure(node: Node, phoenix: Phoenix, verb: str) -> Measure:
    """Run ``phoenix VERB`` and count what it sent the node from the journal."""
    mark = len(journal.read(node.dir))
    argv = [str(phoenix.executable), "-q", *node.options, *verb.split()]
    env = {**node.env, **(GUESTS_ONLY if phoenix.guests_only else {})}
    who = phoenix.who
    started = time.monotonic()
    run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    records = journal.read(node.dir)[mark:]
    if run.returncode != 0:
        print(f"  ({who} {verb} exited {run.returncode}: {run.stderr.strip()[-400:]})")
    return Measure(
        node.scenario,
        verb,
        who,
        tools=sum(1 for r in records if r["argv"][0] in PROXMOX_TOOLS),
        commands=len(records),
        mutating=sum(1 for r in records if r["mutating"]),
        seconds=seconds,
        exit_code=run.returncode,
        argvs=tuple(tuple(r["argv"]) for r in records if r["argv"][0] in PROXMOX_TOOLS),
    )


def drift_one(sim: SimNode, node: Node, phoenix: Phoenix) -> Measure:
    """A hand edit of one container's memory, then ``converge``: what repairing it costs."""
    edited = sim.run(["pct", "set", str(CONTAINERS[0]), "--memory", "512"])
    assert edited.returncode == 0, edited.stderr
    measured = measure(node, phoenix, "converge")
    return attrs.evolve(measured, verb="1 drifted")


def creating(node: Node, whom: list[Phoenix]) -> list[Measure]:
    """Five new containers in one ``converge``, then one more alone, by each phoenix in turn
    (its own ids: the node keeps what the one before created)."""
    path = node.config / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    ids = {p.who: range(CREATED + 10 * n, CREATED + 10 * n + 6) for n, p in enumerate(whom)}
    for i in (i for span in ids.values() for i in span):
        data["lxc_configs"][str(i)] = base_ct(
            f"ct{i}", f"10.0.8.{i - 250}/24", f"52:54:00:00:08:{i - 250:02x}"
        )
    path.write_text(json.dumps(data, indent=2))
    measured = []
    for phoenix in whom:
        *five, one = map(str, ids[phoenix.who])
        batch = measure(node, phoenix, " ".join(["converge", *five]))
        alone = measure(node, phoenix, f"converge {one}")
        measured += [attrs.evolve(batch, verb="create 5"), attrs.evolve(alone, verb="create 1")]
    return measured


def build(node: Node, *verbs: list[str]) -> None:
    """Run each phoenix command line with this checkout's phoenix; stop on a failure."""
    for verb in verbs:
        run = subprocess.run(
            [str(PHOENIX), "-q", *node.options, *verb],
            env=node.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            raise SystemExit(f"phoenix {' '.join(verb)} failed:\n{run.stdout}\n{run.stderr}")


def reachable(sim: SimNode, etc: Path) -> dict[str, str]:
    """The environment that points phoenix at the node: ``PHOENIX_HOST=sim:DIR`` for this
    checkout; an older one knows only the node's tools on PATH and ``pve_etc``, which this
    checkout still accepts (and which keeps the older one off this machine's /etc).
    ``PYTHONDONTWRITEBYTECODE`` (set in some CI and container shells) is left out: with it
    every phoenix run compiles each of its modules again (about 0.5 s here), which no
    installed phoenix does."""
    path = etc / "phoenix_hypervisor_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "pve_etc": str(sim.pve_etc)}))
    env = {k: v for k, v in sim.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PHOENIX_LOCK_DIR": str(sim.dir), "PHOENIX_HOST": sim.host}


def homelab(work: Path) -> tuple[SimNode, Node]:
    """The old homelab on a bare node, built as ``make demo`` builds it."""
    sim = SimNode.start(work / "node", seed=with_local_snippets(demo.BARE, work))
    sim.set_agent_delay(float(demo.AGENT_DELAY))
    etc = demo.prepare_config(work)
    demo.serve_cloud_images(sim.dir, etc)
    env = reachable(sim, etc)
    options = ("--config-dir", str(etc), "--log-dir", str(work / "logs"))
    node = Node("homelab", sim.dir, etc, env, options)
    build(node, ["setup", "--allow-destructive"], ["LetsGo"])
    return sim, node


def containers(work: Path) -> tuple[SimNode, Node]:
    """25 plain containers from the OS template, no host manager."""
    sim = SimNode.start(work / "node25", seed=SEED)
    configs = {
        str(i): base_ct(f"ct{i}", f"10.0.8.{i - 250}/24", f"52:54:00:00:08:{i - 250:02x}")
        for i in CONTAINERS
    }
    etc = write_lxc(work / "etc25", configs)
    env = {**reachable(sim, etc), "PHOENIX_DISABLE_PLUGINS": "hypervisor"}
    options = ("--config-dir", str(etc), "--log-dir", str(work / "logs25"))
    node = Node("25 containers", sim.dir, etc, env, options)
    build(node, ["converge"])
    return sim, node


#: (scenario, verb) -> what this checkout must stay within: tool invocations, wall seconds.
BUDGETS: dict[tuple[str, str], Callable[[Measure], str | None]] = {
    ("homelab", "LetsGo"): lambda m: None if m.seconds < 3.0 else "over 3 s",
    ("25 containers", "converge"): lambda m: None if m.tools <= 10 else "over 10 tools",
    ("25 containers", "plan"): lambda m: None if m.tools <= 10 else "over 10 tools",
    ("25 containers", "status"): lambda m: None if m.tools <= 3 else "over 3 tools",
}


#: Runs that change guests, so their mutating commands are expected.
CHANGING = ("1 drifted", "create 5", "create 1")


def verdict(m: Measure) -> str:
    problems = []
    if m.verb in CHANGING:
        # The change itself and at most 2 reads besides what every run reads (the node probe
        # and at most two node lists).
        if m.who.startswith("this") and m.tools - m.mutating > 2 + 1 + 2:
            problems.append("over 2 reads")
        # Creating reads the pools once per run, and the template, on its storage, as a file.
        storages = [a[:2] for a in m.argvs if a[:2] in (("pvesm", "status"), ("pveam", "list"))]
        if (
            m.verb.startswith("create")
            and m.who.startswith("this")
            and storages != [("pvesm", "status")]
        ):
            problems.append(f"storages read as {storages}")
        if m.exit_code != 0:
            problems.append(f"exit {m.exit_code}")
        return "; ".join(problems)
    if m.mutating:
        problems.append(f"{m.mutating} mutating")
    if m.exit_code != 0:
        problems.append(f"exit {m.exit_code}")
    budget = BUDGETS.get((m.scenario, m.verb))
    if budget is not None and m.who.startswith("this"):
        problems += [p for p in [budget(m)] if p]
    return "; ".join(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool-cost", type=float, default=0.4, help="seconds per Proxmox tool")
    parser.add_argument("--baseline", type=Path, help="a phoenix executable or checkout")
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT)
    parser.add_argument("--no-baseline", action="store_true", help="measure this checkout only")
    parser.add_argument(
        "--show", action="store_true", help="list this checkout's Proxmox tool invocations"
    )
    args = parser.parse_args()
    baseline = resolve_baseline(args)
    label = args.baseline_commit if args.baseline is None else "baseline"
    # This checkout first, with its host setup; then guests only, as the baseline is run.
    whom = [Phoenix("this", PHOENIX), Phoenix("this -h", PHOENIX, guests_only=True)]
    if baseline is not None:
        whom.append(Phoenix(f"{label} -h", baseline, guests_only=True))
    results: list[Measure] = []
    with tempfile.TemporaryDirectory() as tmp:
        for make, verbs in (
            (homelab, HOMELAB_VERBS),
            (containers, ("converge", "plan", "status")),
        ):
            sim, node = make(Path(tmp))
            try:
                sim.set_tool_cost(args.tool_cost)
                # The baseline only on the containers (see above), which have no host
                # manager: there "this -h" would repeat "this".
                measured = whom[:2] if make is homelab else [whom[0], *whom[2:]]
                for verb in verbs:
                    results += [measure(node, phoenix, verb) for phoenix in measured]
                if make is containers:
                    results += [drift_one(sim, node, phoenix) for phoenix in measured]
                    results += creating(node, measured)
            finally:
                sim.stop()
    print(f"\nin-sync runs, then changes, --tool-cost {args.tool_cost} s, default --jobs")
    print(
        f"{'scenario':<14} {'verb':<18} {'phoenix':<11} {'tools':>6} {'commands':>9} {'mutating':>9} {'wall s':>7}"
    )
    failed = False
    for m in results:
        problems = verdict(m)
        failed |= bool(problems) and m.who.startswith("this")
        note = f"  {problems}" if problems else ""
        print(
            f"{m.scenario:<14} {m.verb:<18} {m.who:<11} {m.tools:>6} {m.commands:>9} "
            f"{m.mutating:>9} {m.seconds:>7.2f}{note}"
        )
        if args.show and m.who.startswith("this"):
            for argv in m.argvs:
                print(f"    {' '.join(argv)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
