"""Cost of converging in-sync containers: commands run and wall time per guest.

Starts a simulated node seeded for the old configuration, converges 900 103 101 102 once
(creating them), then converges each again, alone, while counting every command phoenix runs
(pct/pvesh/... and host commands such as stat), and prints one line per guest. Usage:

    python bench/lxc_converge.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "plugins" / "phoenix-lxc" / "tests"))

from click.testing import CliRunner  # noqa: E402
from lxc_support import ACCEPTANCE_IDS, SEED, copy_original  # noqa: E402

from phoenix_core.cli import build  # noqa: E402
from phoenix_core.hosts.local import LocalHost  # noqa: E402
from phoenix_core.plugins import Plugins  # noqa: E402
from pve_sim.fixture import SimNode  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    executed: list[tuple[str, ...]] = []
    original = LocalHost._execute

    def counting(self: LocalHost, argv: tuple[str, ...], timeout: float, input: str | None):
        executed.append(argv)
        return original(self, argv, timeout, input)

    LocalHost._execute = counting  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        node = SimNode.start(Path(tmp) / "node", seed=SEED)
        try:
            os.environ["PATH"] = node.env["PATH"]
            # Containers only: host setup (phoenix-hypervisor) is measured on its own.
            os.environ["PHOENIX_DISABLE_PLUGINS"] = "hypervisor"
            etc = copy_original(Path(tmp), node.pve_etc)
            plugins = Plugins().discover()
            base = ["--config-dir", str(etc), "--log-dir", str(Path(tmp) / "logs"), "-q"]

            def phoenix(*argv: str) -> int:
                return CliRunner().invoke(build(plugins), [*base, *argv], obj=plugins).exit_code

            def seconds_of(ctid: str) -> float:
                """The guest's own converge time, from the JSON outcome (its dependencies excluded)."""
                result = CliRunner().invoke(
                    build(plugins), [*base, "converge", ctid, "--output", "json"], obj=plugins
                )
                data = json.loads(result.stdout[result.stdout.index("{") :])
                assert data["schema"] == "phoenix/run/v1", data["schema"]
                assert data["exit_code"] == 0, result.output
                return next(o["seconds"] for o in data["outcomes"] if str(o["id"]) == ctid)

            assert phoenix("converge", *ACCEPTANCE_IDS) == 0
            print(f"{'guest':>6} {'commands':>9} {'mutating':>9} {'median ms':>10}")
            for ctid in ACCEPTANCE_IDS:
                times, counts, muts = [], [], []
                for _ in range(args.rounds):
                    executed.clear()
                    mark = node.mark()
                    # converge of one id also checks its dependencies: count only this guest's
                    # commands, and take its own time from the outcome.
                    times.append(seconds_of(ctid))
                    counts.append(sum(1 for a in executed if _concerns(a, ctid)))
                    muts.append(sum(1 for e in node.since(mark) if e["mutating"]))
                print(
                    f"{ctid:>6} {max(counts):>9} {max(muts):>9} {statistics.median(times) * 1e3:>10.0f}"
                )
        finally:
            node.stop()
    return 0


def _concerns(argv: tuple[str, ...], ctid: str) -> bool:
    """A command about this guest: its id as an argument or a path component (pvesh paths,
    the persistent-data host paths that stat/test/mkdir/chown look at)."""
    return any(a == ctid or f"/{ctid}/" in a for a in argv)


if __name__ == "__main__":
    raise SystemExit(main())
