"""Per-command cost of phoenix's reused SSH connection against one ``ssh`` process per command.

Starts a throwaway sshd on 127.0.0.1 (the test fixture's, see ``tests/ssh/sshd_server.py``),
then times ``true`` N times both ways and prints the medians. Both sides pay the same remote
work (sshd's session fork, the login shell, ``env``, ``true``); the difference is what a new
connection costs: TCP and SSH handshakes, key exchange, authentication, process start-up.

    python bench/ssh_overhead.py --runs 200

Exits 1 when the targets of issue 5 are missed: at least 10 times lower, and under 5 ms.
Needs /usr/sbin/sshd, ssh and paramiko (``pip install -e '.[ssh]'``); run as the user sshd
may log in as (root in CI).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from phoenix_core.hosts.ssh import SSHHost  # noqa: E402
from tests.ssh.sshd_server import SSHServer  # noqa: E402

TARGET_RATIO = 10.0
TARGET_MS = 5.0


def median_ms(action: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="commands per method (default 200)")
    parser.add_argument("--ssh-runs", type=int, default=50, help="ssh processes (default 50)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="phoenix-bench-ssh-") as tmp:
        server = SSHServer(Path(tmp) / "sshd").start()
        known_hosts = Path(tmp) / "known_hosts"
        known_hosts.write_text(server.known_hosts_line + "\n")
        try:
            host = SSHHost(
                "127.0.0.1",
                user=server.user,
                port=server.port,
                known_hosts=[str(known_hosts)],
                ssh_config=None,
                identity_files=[str(server.client_key)],
                allow_agent=False,
                look_for_keys=False,
            )
            logins = server.accepted_logins()

            def reused() -> None:
                host.query(["true"]).check()

            ssh_argv = [
                "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-i", str(server.client_key), "-p", str(server.port),
                f"{server.user}@127.0.0.1", "env LC_ALL=C true",
            ]  # fmt: skip

            def per_process() -> None:
                subprocess.run(ssh_argv, check=True, stdin=subprocess.DEVNULL)

            phoenix = median_ms(reused, args.runs)
            assert server.accepted_logins() == logins, "the connection was not reused"
            ssh = median_ms(per_process, args.ssh_runs)
            host.close()
        finally:
            server.stop()

    ratio = ssh / phoenix
    print(f"phoenix SSHHost, one reused connection ({args.runs} x true): median {phoenix:6.2f} ms")
    print(f"one ssh process per command ({args.ssh_runs} x true):        median {ssh:6.2f} ms")
    print(f"ratio {ratio:.1f}x lower (target >= {TARGET_RATIO:g}x, < {TARGET_MS:g} ms per command)")
    ok = ratio >= TARGET_RATIO and phoenix < TARGET_MS
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
