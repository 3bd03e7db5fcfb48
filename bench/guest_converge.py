"""What bench/lxc_converge.py and bench/vm_converge.py share: converge guests once on a
simulated node, then converge each again alone, counting every command phoenix runs for it
(pct/qm/pvesh/... and host commands such as stat) and its own time from the JSON outcome."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from phoenix_core.cli import build
from phoenix_core.hosts.local import LocalHost
from phoenix_core.plugins import Plugins
from pve_sim.fixture import SimNode


def measure(
    ids: Sequence[str],
    rounds: int,
    seed: Callable[[Path], Path],
    prepare: Callable[[Path], Path],
    setup: Callable[[Any], None] = lambda _node: None,
) -> int:
    """Print one line per guest: commands, mutating commands, median milliseconds.

    ``seed(tmp)`` is the node's seed file, ``prepare(tmp)`` the configuration
    directory, ``setup(node)`` tunes the started node."""
    executed: list[tuple[str, ...]] = []
    original = LocalHost._execute

    def counting(self: LocalHost, argv: tuple[str, ...], timeout: float, input: str | None):
        executed.append(argv)
        return original(self, argv, timeout, input)

    LocalHost._execute = counting  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        node = SimNode.start(Path(tmp) / "node", seed=seed(Path(tmp)))
        try:
            setup(node)
            # Guests only: host setup (phoenix-hypervisor) is measured on its own.
            os.environ["PHOENIX_DISABLE_PLUGINS"] = "hypervisor"
            etc = prepare(Path(tmp))
            plugins = Plugins().discover()
            base = ["--config-dir", str(etc), "--log-dir", str(Path(tmp) / "logs"), "-q"]
            base += ["--host", node.host]

            def phoenix(*argv: str) -> int:
                return CliRunner().invoke(build(plugins), [*base, *argv], obj=plugins).exit_code

            def seconds_of(ident: str) -> float:
                """The guest's own converge time, from the JSON outcome (its dependencies excluded)."""
                result = CliRunner().invoke(
                    build(plugins), [*base, "converge", ident, "--output", "json"], obj=plugins
                )
                data = json.loads(result.stdout[result.stdout.index("{") :])
                assert data["schema"] == "phoenix/run/v1", data["schema"]
                assert data["exit_code"] == 0, result.output
                return next(o["seconds"] for o in data["outcomes"] if str(o["id"]) == ident)

            assert phoenix("converge", *ids) == 0
            print(f"{'guest':>6} {'commands':>9} {'mutating':>9} {'median ms':>10}")
            for ident in ids:
                times, counts, muts = [], [], []
                for _ in range(rounds):
                    executed.clear()
                    mark = node.mark()
                    # converge of one id also checks its dependencies: count only this guest's
                    # commands, and take its own time from the outcome.
                    times.append(seconds_of(ident))
                    counts.append(sum(1 for a in executed if _concerns(a, ident)))
                    muts.append(sum(1 for e in node.since(mark) if e["mutating"]))
                print(
                    f"{ident:>6} {max(counts):>9} {max(muts):>9} {statistics.median(times) * 1e3:>10.0f}"
                )
        finally:
            node.stop()
    return 0


def _concerns(argv: tuple[str, ...], ident: str) -> bool:
    """A command about this guest: its id as an argument or a path component (pvesh paths,
    the persistent-data host paths that stat/test/mkdir/chown look at)."""
    return any(a == ident or f"/{ident}/" in a for a in argv)
