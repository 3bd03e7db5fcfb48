"""`pve-sim`: run a simulated Proxmox VE node for humans and scripts.

pve-sim up --dir DIR [--node pve1] [--seed FILE|NAME] [--time-scale X] [--pve 8|9]
pve-sim down --dir DIR
pve-sim status --dir DIR
pve-sim script --dir DIR [--vmid ID] PATTERN [--rc N] [--stdout S] [--stderr S] [--times N]
pve-sim fault --dir DIR (--fail-nth N [--message M] | --latency SECS | --tool-cost SECS
               | --agent-delay SECS | --hold-lock ID [--lock backup] | --release-lock ID | --clear)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import daemon, protocol
from .profile import DEFAULT, PROFILES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pve-sim", description="Simulated Proxmox VE node")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a node in the background")
    up.add_argument("--node", default="pve1")
    up.add_argument("--seed", type=Path, help="a seed file, or the name of a shipped seed")
    up.add_argument(
        "--time-scale",
        type=float,
        default=0.0,
        help="real seconds per PVE task second (0: tasks finish at once)",
    )
    up.add_argument(
        "--pve", type=int, choices=sorted(PROFILES), default=DEFAULT, help="release to play"
    )
    for name in ("down", "status"):
        sub.add_parser(name)
    script = sub.add_parser("script", help="script pct exec / qm guest exec answers")
    script.add_argument("pattern", help="regular expression searched in the shell-joined command")
    script.add_argument("--vmid", help="only this guest (default: any)")
    script.add_argument("--rc", type=int, default=0)
    script.add_argument("--stdout", default="")
    script.add_argument("--stderr", default="")
    script.add_argument("--times", type=int, help="answer this many times, then forget")
    fault = sub.add_parser("fault", help="inject faults")
    group = fault.add_mutually_exclusive_group(required=True)
    group.add_argument("--fail-nth", type=int, metavar="N", help="fail the Nth mutating command")
    group.add_argument("--latency", type=float, metavar="SECS", help="seconds added to each task")
    group.add_argument(
        "--tool-cost",
        type=float,
        metavar="SECS",
        help="start-up seconds added to every Proxmox tool invocation (pct, qm, pvesh ...)",
    )
    group.add_argument(
        "--agent-delay",
        type=float,
        metavar="SECS",
        help="seconds a VM's guest agent takes to answer after a start (default 3)",
    )
    group.add_argument("--hold-lock", type=int, metavar="VMID", help="set a config lock")
    group.add_argument("--release-lock", type=int, metavar="VMID")
    group.add_argument("--clear", action="store_true", help="drop every fault")
    fault.add_argument("--message", help="stderr text for --fail-nth")
    fault.add_argument("--lock", default="backup", help="lock reason for --hold-lock")
    for p in (up, script, fault, *(sub.choices[n] for n in ("down", "status"))):
        p.add_argument("--dir", required=True, type=Path, help="node directory")
    return parser


def _fault_message(args: argparse.Namespace) -> dict[str, object]:
    if args.fail_nth is not None:
        return {"op": "fail_nth_mutation", "n": args.fail_nth, "message": args.message}
    if args.latency is not None:
        return {"op": "latency", "seconds": args.latency}
    if args.tool_cost is not None:
        return {"op": "tool_cost", "seconds": args.tool_cost}
    if args.agent_delay is not None:
        return {"op": "agent_delay", "seconds": args.agent_delay}
    if args.hold_lock is not None:
        return {"op": "hold_lock", "vmid": args.hold_lock, "lock": args.lock}
    if args.release_lock is not None:
        return {"op": "release_lock", "vmid": args.release_lock}
    return {"op": "clear_faults"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sim_dir = args.dir.resolve()
    try:
        if args.command == "up":
            daemon.up(sim_dir, args.node, args.seed, args.time_scale, pve=args.pve)
            print(f"export PATH={sim_dir / 'bin'}:$PATH")
            return 0
        if args.command == "down":
            daemon.down(sim_dir)
            return 0
        if args.command == "status":
            state = daemon.status(sim_dir)
            if state is None:
                print(f"stopped ({sim_dir})")
                return 3
            shown = {k: state[k] for k in ("node", "pid", "api_url", "pve_etc")}
            print("running " + json.dumps(shown))
            return 0
        if args.command == "script":
            protocol.request(
                sim_dir,
                {
                    "op": "script",
                    "vmid": args.vmid,
                    "pattern": args.pattern,
                    "rc": args.rc,
                    "stdout": args.stdout,
                    "stderr": args.stderr,
                    "times": args.times,
                },
            )
            return 0
        protocol.request(sim_dir, _fault_message(args))
        return 0
    except (protocol.NodeDown, RuntimeError) as exc:
        print(f"pve-sim: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
