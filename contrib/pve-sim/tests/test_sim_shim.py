"""The executables in DIR/bin (bash scripts, :mod:`pve_sim.shim`): a command line reaches the
node exactly as given, the answer comes back byte for byte on the right stream with its exit
status, stdin is read only by the tools that read it, and a stopped node is exit 255."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pve_sim.fixture import SimNode

#: Words a shell would split, expand or take as a format: each must arrive as one argument.
AWKWARD = ["a b", "", "%s %d %%", '"quoted" \\ back', "line\nbreak", "é ü ✓", "*", "$HOME", "-x"]


def test_each_argument_arrives_as_given(node: SimNode) -> None:
    mark = node.mark()
    node.run(["pct", "set", "990", "--description", *AWKWARD])
    assert node.since(mark)[0]["argv"] == ["pct", "set", "990", "--description", *AWKWARD]


def test_stdout_stderr_and_the_exit_status_come_back_apart(node: SimNode, template: str) -> None:
    created = node.run(["pct", "create", "991", template, "--rootfs", "local-lvm:4"])
    assert created.returncode == 0, created.stderr
    listed = node.run(["pct", "list"])
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.splitlines()[0].split() == ["VMID", "Status", "Lock", "Name"]
    missing = node.run(["pct", "status", "999"])
    assert missing.stdout == ""
    assert missing.stderr == "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n"
    assert missing.returncode == 255


def test_only_tools_that_read_stdin_wait_for_it(node: SimNode, tmp_path: Path) -> None:
    # An inherited pipe nobody closes: a tool that read it would hang until the timeout.
    with subprocess.Popen(["sleep", "30"], stdout=subprocess.PIPE) as never_closed:
        status = node.run(["pveversion"], stdin=never_closed.stdout, timeout=10)
        never_closed.kill()
    assert status.returncode == 0 and status.stdout.startswith("pve-manager/")
    data = "first\n\nlast % line\n\n"
    # An absolute path is the node's: it lands in the node's directory, not on this machine
    # (a path under the test's own directory, so that a regression writes nowhere else).
    target = tmp_path / "written"
    (node.dir / str(tmp_path).lstrip("/")).mkdir(parents=True)
    written = node.run(["tee", str(target)], input=data)
    assert (written.returncode, written.stdout) == (0, data)
    assert (node.dir / str(target).lstrip("/")).read_text() == data
    assert not target.exists()


def test_a_stopped_node_is_exit_255_with_the_reason(tmp_path: Path) -> None:
    # A directory name a shell or printf would read as code is only ever data to the shims.
    sim = SimNode.start(tmp_path / "node 100% 'quoted' $(false)")
    assert sim.run(["pveversion"]).returncode == 0
    sim.stop()
    result = sim.run(["pct", "list"])
    assert result.returncode == 255
    assert result.stderr.startswith(f"pve-sim: simulated node in {sim.dir} is not running")


@pytest.mark.parametrize(
    "password", [["--password"], ["--password", "--hostname", "pw"], ["--password="]]
)
def test_a_password_option_without_a_value_reads_it_from_stdin(
    node: SimNode, template: str, password: list[str]
) -> None:
    vmid = str(993 + len(password[0]) + len(password))
    argv = ["pct", "create", vmid, template, "--rootfs", "local-lvm:4", *password]
    created = node.run(argv, input="pw-secret-1\npw-secret-1\n", timeout=10)
    assert created.returncode == 0, created.stderr
    assert node.run(["pct", "destroy", vmid]).returncode == 0
