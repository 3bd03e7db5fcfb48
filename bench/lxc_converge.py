"""Cost of converging in-sync containers: commands run and wall time per guest.

Starts a simulated node seeded for the old configuration, converges 900 103 101 102 once
(creating them), then converges each again, alone, while counting every command phoenix runs
(pct/pvesh/... and host commands such as stat), and prints one line per guest. Usage:

    python bench/lxc_converge.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "plugins" / "phoenix-lxc" / "tests"))

from guest_converge import measure  # noqa: E402
from lxc_support import ACCEPTANCE_IDS, SEED, copy_original  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    return measure(ACCEPTANCE_IDS, args.rounds, lambda _tmp: SEED, copy_original)


if __name__ == "__main__":
    raise SystemExit(main())
