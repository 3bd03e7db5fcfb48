"""phoenix on a machine that is not a Proxmox VE node, and against a node it cannot reach.

Only a node is changed: every verb that would act refuses (exit 2) before its first command or
file write, naming the host and what is missing, with no traceback. An unreachable node ends
the run (exit 1 or 2), never hangs it. Both as an unprivileged user would meet them: the real
CLI in a subprocess, HOME and TMPDIR in temporary directories.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("phoenix_lxc", reason="phoenix-lxc is not installed")
pytest.importorskip("phoenix_hypervisor", reason="phoenix-hypervisor is not installed")

EXAMPLE = Path(__file__).resolve().parents[1] / "contrib" / "examples" / "original-etc"
#: Paths a converge on a workstation used to write before any Proxmox tool failed.
WATCHED = (Path("/etc/apt/sources.list.d"), Path("/run/phoenix"), Path("/etc/pve"))
#: Seconds within which every refusal must come: a hang fails the test instead of the suite.
LIMIT = 120


def unprivileged() -> list[str]:
    """How to run this test's Python as an unprivileged user: as is when not root; as
    ``nobody`` through runuser and the system's Python (root's own may be unreadable to it)
    when root, given the same Python version, so the installed packages load."""
    if os.geteuid() != 0:
        return [sys.executable]
    system = shutil.which("python3", path="/usr/bin:/bin")
    runuser = shutil.which("runuser")
    if system is None or runuser is None:
        pytest.skip("running as root without runuser or a system python3")
    version = subprocess.run(
        [system, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    if version != str(sys.version_info[:2]):
        pytest.skip(f"the system python3 is {version}, the test's {sys.version_info[:2]}")
    return [runuser, "-u", "nobody", "--", system]


@pytest.fixture(scope="module")
def world() -> Iterator[Path]:
    """A directory the unprivileged user can read and write: config, HOME, TMPDIR, logs."""
    top = Path(tempfile.mkdtemp(prefix="phoenix-not-a-node-"))
    shutil.copytree(EXAMPLE, top / "etc")
    for sub in ("home", "tmp", "logs"):
        (top / sub).mkdir()
    for path in [top, *top.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o644)
    yield top
    shutil.rmtree(top, ignore_errors=True)


def phoenix(world: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = sysconfig.get_paths()["purelib"]
    code = (
        f"import site, sys; site.addsitedir({site!r}); "
        "from phoenix_core.cli import main; sys.exit(main())"
    )
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(world / "home"),
        "TMPDIR": str(world / "tmp"),
        "LANG": "C.UTF-8",
    }
    argv = [*unprivileged(), "-c", code, "--log-dir", str(world / "logs")]
    argv += ["--config-dir", str(world / "etc"), *args]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=LIMIT, cwd=world, check=False
    )


def snapshot() -> dict[Path, list[str] | None]:
    return {p: sorted(os.listdir(p)) if p.is_dir() else None for p in WATCHED}


@pytest.mark.parametrize(
    "verb",
    [
        ["converge"],
        ["plan"],
        ["converge", "--dry-run"],
        ["create", "101"],
        ["setup"],
        ["status"],
        ["import", "870", "--write"],
    ],
)
def test_a_machine_without_proxmox_is_refused_before_anything_runs(
    world: Path, verb: list[str]
) -> None:
    if Path("/etc/pve").is_dir() and shutil.which("pveversion"):
        pytest.skip("this machine is a Proxmox VE node")
    before = snapshot()
    result = phoenix(world, *verb)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "local is not a Proxmox VE node: pmxcfs" in result.stderr
    assert "mounted at /etc/pve" in result.stderr and "Nothing was run" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot() == before


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "verb",
    [
        ["plan"],
        ["converge", "--dry-run"],
        ["converge"],
        ["create", "101"],
        ["start", "101"],
        ["stop", "101"],
        ["restart", "101"],
        ["delete", "101", "--yes"],
        ["LetsGo"],
        ["setup"],
        ["status"],
        ["health-check", "101"],
        ["test", "101"],
    ],
)
def test_every_verb_ends_against_an_unreachable_node(world: Path, verb: list[str]) -> None:
    pytest.importorskip("paramiko", reason="the ssh extra is not installed")
    result = phoenix(world, "--host", f"root@127.0.0.1:{closed_port()}", *verb)
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "connection refused" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
