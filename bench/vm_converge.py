"""Cost of converging in-sync VMs: commands run and wall time per guest (budget: 8 commands).

Starts a simulated node seeded for the old configuration (its ``local`` storage holding
snippets, the guest agent answering 0.2 s after a start), converges 9000 1001 1002 once
(creating them and the containers 1001 depends on), then converges each VM again, alone,
while counting every command phoenix runs for it (qm/pvesh/... and host commands), and prints
one line per guest. Usage:

    python bench/vm_converge.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "plugins" / "phoenix-vm" / "tests"))

from guest_converge import measure  # noqa: E402
from vm_support import AGENT_DELAY, VM_IDS, copy_original, node_seed  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    return measure(
        VM_IDS,
        args.rounds,
        node_seed,
        copy_original,
        setup=lambda node: node.set_agent_delay(AGENT_DELAY),
    )


if __name__ == "__main__":
    raise SystemExit(main())
