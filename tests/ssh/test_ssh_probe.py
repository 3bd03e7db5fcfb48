"""The node probe over SSH: the mount table and ``pveversion`` (here a stand-in) in one
command, the same verdicts as on this machine (tests/test_hosts.py), and nothing but ``cat``
run on a machine without the mounts.

sshd runs in a mount namespace of its own whose /proc is a directory of the test's, so each
case writes the node's mount table there; that needs root (else skipped).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoenix_core.hosts.probe import Mount, NodeProbe, NotANode, confirm
from tests.ssh.sshd_server import SSHServer
from tests.test_hosts import FUSE, PROBE, PROBE_CASES


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SSHServer, Path]]:
    """An sshd whose sessions see ``DIR/proc`` as /proc and ``DIR/bin`` on their PATH."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a node's /proc for sshd needs root and unshare(1)")
    top = tmp_path_factory.mktemp("probe")
    (top / "proc").mkdir()
    (top / "bin").mkdir()
    server = SSHServer(top / "sshd", path_dirs=(str(top / "bin"),), proc=top / "proc").start()
    yield server, top
    server.stop()


def _tool(top: Path, installed: bool) -> Path:
    """``pvetool``, which leaves a mark when it runs, installed or not; the mark's path."""
    tool, ran = top / "bin" / "pvetool", top / "pvetool-ran"
    ran.unlink(missing_ok=True)
    tool.unlink(missing_ok=True)
    if installed:
        tool.write_text(f"#!/bin/sh\ntouch {ran}\necho pve-manager/8.4.1\n")
        tool.chmod(0o755)
    return ran


@pytest.mark.parametrize(("mounts", "tool", "problem"), PROBE_CASES)
def test_the_probe_is_one_command_with_the_verdicts_of_a_local_one(
    node: tuple[SSHServer, Path], connect, mounts: str | None, tool: bool, problem: str | None
) -> None:
    server, top = node
    table = top / "proc" / "mounts"
    table.unlink(missing_ok=True)
    if mounts is not None:
        table.write_text(mounts)
    ran = _tool(top, tool)
    host = connect(server)
    if problem is None:
        confirm(host, PROBE)
    else:
        with pytest.raises(NotANode, match=re.escape(problem)) as caught:
            confirm(host, PROBE)
        assert caught.value.exit_code == 2
    # One round trip: one command, no SFTP session.
    assert (host.queries, host.changes, host._sftp) == (1, 0, None)
    # The tool ran only where the mounts were there.
    assert ran.exists() == (tool and "mount" not in (problem or ""))


def test_a_mount_point_with_a_space_is_matched_as_the_kernel_spells_it(
    node: tuple[SSHServer, Path], connect
) -> None:
    server, top = node
    (top / "proc" / "mounts").write_text(FUSE + "/dev/fuse /mnt/my\\040pve fuse rw 0 0\n")
    ran = _tool(top, True)
    probe = NodeProbe("a test node", (Mount("/mnt/my pve", "fuse", "pmxcfs"),), ("pvetool",))
    confirm(connect(server), probe)
    assert ran.exists()
