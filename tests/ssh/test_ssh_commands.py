"""Commands over a real sshd: exact results, quoting, reuse, timeouts, lost connections."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoenix_core import interrupt
from phoenix_core.errors import HostError
from phoenix_core.hosts.ssh import remote_command
from tests.ssh.sshd_server import _children

# Prints each argument it received followed by a NUL: NUL is the one byte no argument holds.
PRINT_ARGV = ["sh", "-c", 'printf "%s\\0" "$@"', "sh"]


def test_exact_returncode_stdout_and_stderr(sshd, connect):
    host = connect(sshd)
    result = host.query(["sh", "-c", 'printf "out\\n"; printf "err\\n" >&2; exit 3', "sh"])
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert host.queries == 1 and host.changes == 0


def test_locale_is_c_and_stdin_is_passed(sshd, connect):
    host = connect(sshd)
    assert host.query(["sh", "-c", 'echo "$LC_ALL"']).stdout == "C\n"
    assert host.change(["cat"], input="line one\nzwei ü\n").stdout == "line one\nzwei ü\n"
    assert host.query(["cat"]).stdout == ""  # no input: stdin is at EOF, nothing hangs
    assert host.changes == 1


def test_large_output_on_both_streams_does_not_stall(sshd, connect):
    host = connect(sshd)
    script = "import sys; sys.stdout.write('o' * 3_000_000); sys.stderr.write('e' * 3_000_000)"
    result = host.query(["python3", "-c", script])
    assert (len(result.stdout), len(result.stderr)) == (3_000_000, 3_000_000)


def test_remote_command_quotes_and_prefixes():
    assert remote_command(["pct", "set", "101", "--description", "a b; $(x)"]) == (
        "env LC_ALL=C pct set 101 --description 'a b; $(x)'"
    )
    assert remote_command(["qm", "list"], sudo=True) == "sudo -n env LC_ALL=C qm list"


def test_sudo_is_not_used_for_root(sshd, connect):
    host = connect(sshd, sudo=True)
    assert sshd.user != "root" or host.sudo is False
    assert host.query(["id", "-u"]).stdout.strip().isdigit()


_ARG = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
) | st.sampled_from(["", "-", "--", "-rf", "'", '"', "$(id)", "`id`", "a;b", "\\", "\n", "*", "~"])


@settings(max_examples=150, deadline=None)
@given(args=st.lists(_ARG, max_size=6))
def test_arbitrary_arguments_arrive_exactly(shared_host, args):
    """Quotes, $(), ;, newlines, unicode, backslashes and leading dashes reach argv intact."""
    # A fixed first argument: printf still prints once when it is given no arguments at all.
    result = shared_host.query([*PRINT_ARGV, "first", *args])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\0")[:-1] == ["first", *args]


def test_one_connection_serves_every_command(sshd, connect):
    before = sshd.accepted_logins()
    host = connect(sshd)
    for n in range(25):
        assert host.query(["echo", str(n)]).stdout == f"{n}\n"
    host.write_file(str(sshd.dir / "reuse.txt"), b"x")
    assert host.read_file(str(sshd.dir / "reuse.txt")) == b"x"
    assert sshd.accepted_logins() - before == 1


def test_tcp_nodelay_is_set(sshd, connect):
    import socket

    sock = connect(sshd).transport.sock
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_command_timeout_is_a_host_error_and_the_connection_survives(sshd, connect):
    host = connect(sshd)
    started = time.monotonic()
    with pytest.raises(HostError, match=r"`sleep 5` timed out after 0.5 s"):
        host.query(["sleep", "5"], timeout=0.5)
    assert time.monotonic() - started < 3
    assert host.query(["echo", "still here"]).stdout == "still here\n"


def test_killing_sshd_mid_command_is_a_host_error(private_sshd, connect):
    host = connect(private_sshd, timeout=20)
    assert host.query(["true"]).ok
    killer = threading.Timer(0.5, private_sshd.kill)
    killer.start()
    started = time.monotonic()
    with pytest.raises(HostError, match=r"connection to .* lost during `sleep 10`") as info:
        host.query(["sleep", "10"])
    killer.join()
    assert time.monotonic() - started < 8
    assert "\n" not in str(info.value)
    with pytest.raises(HostError, match="lost"):
        host.query(["true"])
    # The node comes back: a new connection (a rerun) works again.
    private_sshd.start()
    assert connect(private_sshd).query(["echo", "back"]).stdout == "back\n"


def test_a_new_connection_is_proven_not_assumed(private_sshd, connect):
    """What a firewall that drops new connections breaks while established ones live on
    (conntrack): here sshd's listener is gone, its sessions are not."""
    host = connect(private_sshd)
    before = private_sshd.accepted_logins()
    host.check_new_connection()
    assert private_sshd.accepted_logins() - before == 1
    sessions = _children(private_sshd.proc.pid)
    private_sshd.proc.terminate()
    private_sshd.proc.wait()
    private_sshd.proc = None
    try:
        assert host.query(["echo", "still here"]).stdout == "still here\n"
        with pytest.raises(HostError, match=r"cannot connect to .*connection refused"):
            host.check_new_connection()
    finally:
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_wait_for_a_lock_held_on_the_node_ends_at_once_on_a_signal(sshd, connect, tmp_path):
    """``--wait-lock`` over SSH: the run waiting in ``flock -w`` for another run's lock ends
    when SIGTERM comes, not when the lock comes free; its flock lets the lock go later."""
    holder, waiter = connect(sshd), connect(sshd)
    lock = str(tmp_path / "run.lock")
    held = holder.hold(["flock", "--", lock, "cat"], probe="first")
    with interrupt.handling():
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
        started = time.monotonic()
        with pytest.raises(interrupt.Interrupted, match="interrupted by SIGTERM while waiting"):
            waiter.hold(["flock", "-w", "60", "--", lock, "cat"], probe="second")
        assert time.monotonic() - started < 5
    held.release()
    # The interrupted wait does not keep the lock once it gets it: a next run takes it.
    with interrupt.handling():
        holder.hold(["flock", "-w", "10", "--", lock, "cat"], probe="third").release()
