"""The three shells report exit codes, output and timeouts the same way, and a push never puts
a file's content on a command line."""

from __future__ import annotations

import base64
import json
import time

import pytest

from phoenix_core.errors import PhoenixError
from phoenix_core.testing import RecordingHost
from phoenix_pve.shell import AgentShell, ContainerShell, HostShell, Shell

SECRET = b"password=hunter2\n"
AGENT_EXEC = ["qm", "guest", "exec"]


def _argvs(host: RecordingHost) -> list[tuple[str, ...]]:
    return [entry.argv for entry in host.journal]


def _agent_json(**body: object) -> str:
    return json.dumps(body, indent=3, sort_keys=True) + "\n"


def test_agent_shell_reads_a_failing_exitcode_from_the_json_although_qm_exits_0() -> None:
    host = RecordingHost().on(
        AGENT_EXEC,
        stdout=_agent_json(exitcode=3, exited=1, **{"out-data": "partial\n", "err-data": "boom\n"}),
    )
    result = AgentShell(host, 9000).run(["false"], env={"A": "1"}, timeout=60)
    assert _argvs(host) == [
        ("qm", "guest", "exec", "9000", "--timeout", "60", "--", "env", "A=1", "false")
    ]
    assert host.journal[0].mutating and host.journal[0].timeout == 90
    assert (result.exit_code, result.ok, result.timed_out) == (3, False, False)
    assert (result.stdout, result.stderr, result.detail) == ("partial\n", "boom\n", "boom")


def test_agent_shell_reports_a_timeout_with_the_pid() -> None:
    host = RecordingHost().on(
        AGENT_EXEC, stdout='timeout reached, returning pid\n{\n   "pid" : 4242\n}\n'
    )
    result = AgentShell(host, 9000).run(["sleep", "99"], timeout=5)
    assert result.timed_out and not result.ok and result.exit_code is None
    assert result.detail == "timed out"
    assert "4242" in result.stderr


def test_agent_shell_states_qms_default_limit_and_reads_through_query() -> None:
    host = RecordingHost().on(AGENT_EXEC, stdout=_agent_json(exitcode=0, exited=1))
    assert AgentShell(host, 9000).run(["true"], readonly=True).ok
    assert _argvs(host)[0][4:6] == ("--timeout", "30") and not host.journal[0].mutating


def test_agent_shell_passes_on_a_cli_failure_before_the_guest_ran_anything() -> None:
    host = RecordingHost().on(
        AGENT_EXEC, returncode=255, stderr="QEMU guest agent is not running\n"
    )
    result = AgentShell(host, 9000).run(["true"])
    assert result.exit_code == 255 and result.detail == "QEMU guest agent is not running"


def test_agent_push_sends_base64_on_stdin_never_in_argv() -> None:
    host = RecordingHost().on(AGENT_EXEC, stdout=_agent_json(exitcode=0, exited=1))
    AgentShell(host, 9000).push(SECRET, "/etc/app.conf", mode=0o600)
    [call] = host.journal
    encoded = base64.b64encode(SECRET).decode()
    assert call.input == encoded
    assert not any("hunter2" in a or encoded in a for a in call.argv)
    assert call.argv[:8] == ("qm", "guest", "exec", "9000", "--timeout", "30", "--pass-stdin", "1")
    assert call.argv[-3:] == ("/etc/app.conf.phoenix-part", "/etc/app.conf", "0600")
    assert 'chmod "$3" "$1" && mv -f "$1" "$2"' in call.argv[-5]


def test_agent_push_of_a_large_file_appends_chunks_and_renames_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(AgentShell, "CHUNK", 4)
    host = RecordingHost().on(AGENT_EXEC, stdout=_agent_json(exitcode=0, exited=1))
    AgentShell(host, 9000).push(b"0123456789", "/opt/x", mode=0o755)
    scripts = [c.argv[-5] for c in host.journal]
    assert [s.split('"$1"')[0].split()[-1] for s in scripts] == [">", ">>", ">>"]
    assert ["mv -f" in s for s in scripts] == [False, False, True]
    decoded = b"".join(base64.b64decode(c.input or "") for c in host.journal)
    assert decoded == b"0123456789"


def test_agent_push_failure_raises() -> None:
    host = RecordingHost().on(
        AGENT_EXEC, stdout=_agent_json(exitcode=1, exited=1, **{"err-data": "no space"})
    )
    with pytest.raises(PhoenixError, match=r"pushing /x into VM 9000 failed.*no space"):
        AgentShell(host, 9000).push(b"x", "/x", mode=0o644)


def test_container_shell_runs_under_pct_exec_and_reports_a_timeout() -> None:
    host = RecordingHost().on(["pct", "exec"], returncode=124, stdout="step 1\n", stderr="killed\n")
    lines: list[str] = []
    result = ContainerShell(host, 101).run(
        ["/bin/bash", "x.sh"], env={"K": "v"}, timeout=60, on_line=lines.append
    )
    assert _argvs(host) == [
        ("pct", "exec", "101", "--", "timeout", "60", "env", "K=v", "/bin/bash", "x.sh")
    ]
    assert result.timed_out and result.exit_code is None and not result.ok
    assert lines == ["step 1", "killed"]


def test_container_shell_exit_code_is_the_commands_own() -> None:
    host = RecordingHost().on(["pct", "exec"], returncode=124)
    result = ContainerShell(host, 101).run(["cat", "/f"], readonly=True)
    # Without a limit there is no `timeout` wrapper, so 124 is just the command's exit code.
    assert _argvs(host) == [("pct", "exec", "101", "--", "cat", "/f")]
    assert not host.journal[0].mutating
    assert result.exit_code == 124 and not result.timed_out


def test_container_push_stages_in_a_private_directory_and_removes_it() -> None:
    host = RecordingHost().on(["mktemp"], stdout="/tmp/phoenix-push.Xa81kQ\n")
    ContainerShell(host, 101).push(SECRET, "/var/lib/phoenix/run/x.sh", mode=0o755)
    mktemp, write, push, remove = _argvs(host)
    # A fresh 0700 directory from mktemp, never a predictable name in the shared /tmp.
    assert mktemp == ("mktemp", "-d", "-t", "phoenix-push.XXXXXXXXXX")
    staged = write[1]
    assert staged == "/tmp/phoenix-push.Xa81kQ/data"
    assert (host.files[staged], host.modes[staged]) == (SECRET, 0o600)
    assert push == ("pct", "push", "101", staged, "/var/lib/phoenix/run/x.sh", "--perms", "0755")
    assert remove == ("rm", "-rf", "--", "/tmp/phoenix-push.Xa81kQ")
    assert not any("hunter2" in a for argv in _argvs(host) for a in argv)


def test_container_push_refuses_what_is_not_a_directory_from_mktemp() -> None:
    host = RecordingHost().on(["mktemp"], stdout="")
    with pytest.raises(PhoenixError, match="not a path"):
        ContainerShell(host, 101).push(SECRET, "/x", mode=0o644)
    assert _argvs(host) == [("mktemp", "-d", "-t", "phoenix-push.XXXXXXXXXX")]


def test_host_shell_runs_on_the_node_and_pushes_with_write_file() -> None:
    host = RecordingHost().on(["timeout"], returncode=124)
    shell = HostShell(host)
    result = shell.run(["apt-get", "update"], env={"DEBIAN_FRONTEND": "noninteractive"}, timeout=9)
    assert _argvs(host) == [
        ("timeout", "9", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update")
    ]
    assert result.timed_out and shell.where == "host fake"
    shell.push(SECRET, "/etc/x", mode=0o640)
    assert (host.files["/etc/x"], host.modes["/etc/x"]) == (SECRET, 0o640)


def test_output_lines_reach_the_callback() -> None:
    host = RecordingHost().on(["pct", "exec"], stdout="a\nb\n", stderr="c\n")
    host.on(["echo"], stdout="d\n")
    shells: list[Shell] = [ContainerShell(host, 1), HostShell(host)]
    lines: list[str] = []
    for shell in shells:
        shell.run(["echo"], on_line=lines.append)
    assert lines == ["a", "b", "c", "d"]


def test_agent_output_lines_reach_the_callback() -> None:
    host = RecordingHost().on(
        AGENT_EXEC, stdout=_agent_json(exitcode=0, exited=1, **{"out-data": "a\nb\n"})
    )
    lines: list[str] = []
    AgentShell(host, 9000).run(["echo"], on_line=lines.append)
    assert lines == ["a", "b"]


def test_detached_agent_shell_starts_with_synchronous_0_and_polls_exec_status() -> None:
    """qemu-server src/PVE/CLI/qm.pm `exec`: `--synchronous 0` answers the pid at once and
    takes no `--timeout` (`--timeout 0` would wait for the command without limit)."""
    from phoenix_core.testing import Reply

    host = (
        RecordingHost()
        .on(AGENT_EXEC, stdout=_agent_json(pid=77))
        .on(
            ["qm", "guest", "exec-status"],
            [
                Reply(stdout=_agent_json(exited=0)),
                Reply(stdout=_agent_json(exited=1, exitcode=3, **{"out-data": "a\nb\n"})),
            ],
        )
    )
    slept: list[float] = []
    shell = AgentShell(host, 9000, detached=True, sleep=slept.append)
    result = shell.run(["/bin/bash", "/run/x.sh"], timeout=60)
    assert _argvs(host) == [
        ("qm", "guest", "exec", "9000", "--synchronous", "0", "--", "timeout", "60", "/bin/bash", "/run/x.sh"),
        ("qm", "guest", "exec-status", "9000", "77"),
        ("qm", "guest", "exec-status", "9000", "77"),
    ]  # fmt: skip
    assert host.journal[0].mutating and not host.journal[1].mutating
    assert (result.exit_code, result.stdout, slept) == (3, "a\nb\n", [0.5])
    assert result.tail() == "a\nb"
    # A read stays synchronous (qm's own limit, no poll).
    shell.run(["cat", "/x"], readonly=True)
    assert _argvs(host)[-1] == ("qm", "guest", "exec", "9000", "--timeout", "30", "--", "cat", "/x")


@pytest.mark.parametrize(("timeout", "shown"), [(0.2, "1"), (7.5, "8"), (0, "1"), (30, "30")])
def test_agent_shell_limits_are_whole_seconds_never_0(timeout: float, shown: str) -> None:
    """`--timeout` is an integer (qm.pm `exec`), and 0 would mean no limit."""
    host = RecordingHost().on(AGENT_EXEC, stdout=_agent_json(exitcode=0, exited=1))
    AgentShell(host, 9000).run(["true"], timeout=timeout)
    assert _argvs(host)[0][4:6] == ("--timeout", shown)


def test_detached_agent_shell_gives_up_at_its_own_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from phoenix_core.testing import Reply
    from phoenix_pve import shell as shell_module

    monkeypatch.setattr(shell_module, "GRACE", 0.0)
    host = (
        RecordingHost()
        .on(AGENT_EXEC, stdout=_agent_json(pid=9))
        .on(["qm", "guest", "exec-status"], Reply(stdout=_agent_json(exited=0)))
    )
    shell = AgentShell(host, 9000, detached=True, sleep=lambda _: time.sleep(0.02))
    result = shell.run(["sleep", "99"], timeout=0.05)
    assert result.timed_out and result.stderr == "still running as pid 9 (qm guest exec-status)"
    assert _argvs(host)[0][4:6] == ("--synchronous", "0") and "--timeout" not in _argvs(host)[0]


def test_detached_agent_shell_reports_a_guest_side_timeout() -> None:
    from phoenix_core.testing import Reply

    host = (
        RecordingHost()
        .on(AGENT_EXEC, stdout=_agent_json(pid=5))
        .on(["qm", "guest", "exec-status"], Reply(stdout=_agent_json(exited=1, exitcode=124)))
    )
    result = AgentShell(host, 9000, detached=True, sleep=lambda _: None).run(["x"], timeout=1)
    assert result.timed_out and result.exit_code is None and result.detail == "timed out"
