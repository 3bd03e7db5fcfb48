"""LocalHost runs real processes; DryRunHost executes reads and records writes."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.errors import CommandFailed, HostError
from phoenix_core.hosts import DryRunHost, LocalHost
from phoenix_core.hosts.base import Statting, node_path
from phoenix_core.hosts.nodedir import NodeDirHost
from phoenix_core.hosts.pool import HostPool, NodeAddress, parse_address
from phoenix_core.hosts.probe import Mount, NodeProbe, NotANode, confirm

PY = sys.executable


def test_argv_reaches_the_process_unchanged_without_a_shell() -> None:
    tricky = ["$(touch /tmp/x)", "a;b", "'q'", "spaced arg", "*", "ünï"]
    result = LocalHost().query(
        [PY, "-c", "import sys, json; print(json.dumps(sys.argv[1:]))", *tricky]
    )
    assert result.ok
    assert result.stdout.strip() == __import__("json").dumps(tricky)


def test_locale_is_c_and_output_and_exit_code_are_kept() -> None:
    code = (
        "import os, sys; print(os.environ['LC_ALL']); print('oops', file=sys.stderr); sys.exit(3)"
    )
    result = LocalHost().query([PY, "-c", code])
    assert (result.returncode, result.stdout, result.stderr) == (3, "C\n", "oops\n")
    with pytest.raises(CommandFailed, match=r"exited 3: oops"):
        result.check()


def test_a_missing_tool_and_a_timeout_are_host_errors() -> None:
    with pytest.raises(HostError, match="pct-does-not-exist: command not found on local"):
        LocalHost().query(["pct-does-not-exist", "status", "100"])
    with pytest.raises(HostError, match=r"timed out after 0\.2 s"):
        LocalHost().query([PY, "-c", "import time; time.sleep(5)"], timeout=0.2)


def test_commands_are_counted_by_kind() -> None:
    host = LocalHost()
    host.query(["true"])
    host.change(["true"])
    host.change(["true"])
    assert (host.queries, host.changes) == (1, 2)


def test_write_file_replaces_atomically_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "101.conf"
    target.write_text("old")
    LocalHost().write_file(str(target), b"new\n", mode=0o640)
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["101.conf"]
    with pytest.raises(HostError, match="cannot write"):
        LocalHost().write_file(str(tmp_path / "missing" / "x"), b"")


def test_dry_run_executes_queries_and_records_changes(tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    host = DryRunHost(LocalHost())
    assert host.query([PY, "-c", "print('read')"]).stdout == "read\n"
    result = host.change(["touch", str(marker)])
    host.write_file(str(tmp_path / "conf"), b"x")
    assert result.ok and not marker.exists() and not (tmp_path / "conf").exists()
    assert [p.argv for p in host.planned] == [
        ("touch", str(marker)),
        ("write", str(tmp_path / "conf")),
    ]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("pve1", NodeAddress("pve1")),
        ("root@pve1", NodeAddress("pve1", "root")),
        ("admin@10.0.0.13:2222", NodeAddress("10.0.0.13", "admin", 2222)),
        ("[::1]:22", NodeAddress("::1", None, 22)),
    ],
)
def test_host_addresses_parse(text: str, address: NodeAddress) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["", "a b", "u@h:0", "u@h:70000", "@h"])
def test_bad_host_addresses_are_usage_errors(text: str) -> None:
    from phoenix_core.errors import UsageError

    with pytest.raises(UsageError, match="--host"):
        parse_address(text)


def test_pool_gives_local_by_default_and_one_host_per_node() -> None:
    pool = HostPool()
    first = pool.for_node(None)
    assert isinstance(first, LocalHost) and pool.for_node(None) is first
    assert pool.address_for("pve2") == NodeAddress("pve2")
    pool.nodes["pve2"] = NodeAddress("10.0.0.14", "root")
    assert pool.address_for("pve2") == NodeAddress("10.0.0.14", "root")


def test_guests_reach_their_node_from_the_nodes_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from phoenix_core import logs
    from phoenix_core.app import App
    from phoenix_core.plugins import Plugins
    from tests.conftest import write_guests
    from tests.support.fakenode import FakeNode, FakePlugin

    directory = write_guests(
        tmp_path / "etc", {"101": {"name": "here"}, "102": {"name": "there", "node": "pve2"}}
    )
    hypervisor = directory / "phoenix_hypervisor_config.json"
    data = json.loads(hypervisor.read_text())
    data["nodes"] = {"pve2": {"address": "10.0.0.14", "user": "admin", "port": 2222, "sudo": True}}
    hypervisor.write_text(json.dumps(data))
    reached: list[NodeAddress] = []

    def connect(self: HostPool, address: NodeAddress) -> FakeNode:
        reached.append(address)
        return FakeNode()

    monkeypatch.setattr(HostPool, "_connect", connect)
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "fake")

    log_dir = tmp_path / "logs"
    try:
        app = App(plugins=plugins, config_dir=str(directory), host="root@pve1", log_dir=log_dir)
        app.engine().run("converge", ["101", "102"])
        assert reached == [
            NodeAddress("pve1", "root"),
            NodeAddress("10.0.0.14", "admin", 2222, True),
        ]
        reached.clear()
        app = App(plugins=plugins, config_dir=str(directory), host="pve2", log_dir=log_dir)
        app.engine().run("converge", ["101"])
    finally:
        logs.setup()  # the runs' log files are this test's only
    assert reached == [
        NodeAddress("10.0.0.14", "admin", 2222, True)
    ]  # --host names a configured node


def node_dir(tmp_path: Path) -> Path:
    """A node directory as ``pve-sim up`` leaves one: its own tools in bin/."""
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "pvetool"
    tool.write_text(f"#!{PY}\nimport sys\nprint('node', *sys.argv[1:])\n")
    tool.chmod(0o755)
    return tmp_path


def test_a_node_directory_runs_its_own_tools_and_keeps_files_inside(tmp_path: Path) -> None:
    root = node_dir(tmp_path)
    host = HostPool(parse_address(f"sim:{root}")).for_node(None)
    assert isinstance(host, NodeDirHost) and host.name == f"sim:{root}"
    assert host.query(["pvetool", "--", "x"]).stdout == "node -- x\n"
    (root / "etc").mkdir()
    host.write_file("/etc/hostname", b"pve1\n", mode=0o600)
    assert (root / "etc" / "hostname").read_bytes() == b"pve1\n"
    assert host.read_file("/etc/hostname") == b"pve1\n"
    # A path a manager already mapped (node_path, or an old pve_etc) is not mapped twice.
    assert host.read_file(node_path(host, "/etc/hostname")) == b"pve1\n"
    assert node_path(host, "/etc/pve") == f"{root}/etc/pve"
    assert node_path(DryRunHost(host), "/etc/pve") == f"{root}/etc/pve"
    assert node_path(LocalHost(), "/etc/pve") == "/etc/pve"
    # Only the node's tools, file utilities and a shell: nothing else of this machine runs,
    # not even from a script.
    host.change(["mkdir", "-p", node_path(host, "/srv/a")]).check()
    assert (root / "srv" / "a").is_dir()
    for program in ("apt-get", "systemctl", PY, "/usr/sbin/apt-get", "/etc/pve"):
        with pytest.raises(HostError, match="command not found on sim:"):
            host.query([program, "--version"])
    script = host.query(["/bin/sh", "-c", "pvetool a; apt-get update"])
    assert script.stdout == "node a\n" and script.returncode == 127


def test_hosts_stat_a_file_by_its_node_path_without_running_anything(tmp_path: Path) -> None:
    root = node_dir(tmp_path)
    cache = root / "var/lib/vz/template/cache"
    cache.mkdir(parents=True)
    (cache / "debian.tar.zst").write_bytes(b"")
    (cache / "linked.tar.zst").symlink_to(cache / "debian.tar.zst")
    (cache / "dangling.tar.zst").symlink_to(cache / "gone")
    host = NodeDirHost(str(root))
    assert isinstance(host, Statting) and isinstance(DryRunHost(host), Statting)
    for where in (host, DryRunHost(host)):
        assert where.is_file("/var/lib/vz/template/cache/debian.tar.zst")
        assert where.is_file("/var/lib/vz/template/cache/linked.tar.zst")
        assert not where.is_file("/var/lib/vz/template/cache/dangling.tar.zst")
        assert not where.is_file("/var/lib/vz/template/cache")  # a directory
        assert not where.is_file("/var/lib/vz/template/cache/absent.tar.zst")
    assert LocalHost().is_file(str(cache / "debian.tar.zst"))
    assert (host.queries, host.changes) == (0, 0)


def test_a_missing_node_directory_is_a_usage_error(tmp_path: Path) -> None:
    from phoenix_core.errors import UsageError

    with pytest.raises(UsageError, match="no simulated node there"):
        HostPool(parse_address(f"sim:{tmp_path}/none")).for_node(None)
    with pytest.raises(UsageError, match="directory is missing"):
        parse_address("sim:")


PROBE = NodeProbe("a test node", (Mount("/etc/pve", "fuse", "pmxcfs"),), ("pvetool",))
FUSE = "/dev/fuse /etc/pve fuse rw,nosuid,nodev 0 0\n"
#: (mount table or None for none, whether the tool is installed, the problem named or None):
#: the node probe's cases, on this machine's hosts and over SSH (tests/ssh/test_ssh_probe.py).
PROBE_CASES = [
    (None, True, "pmxcfs is not mounted at /etc/pve"),
    ("tmpfs /etc/pve tmpfs rw 0 0\n", True, "/etc/pve is a tmpfs mount, not pmxcfs"),
    (FUSE + "tmpfs /etc/pve tmpfs rw 0 0\n", True, "/etc/pve is a tmpfs mount, not pmxcfs"),
    (FUSE, False, "`pvetool` is not installed"),
    (FUSE, True, None),
    ("/dev/fuse /etc/pve fuse.pmxcfs rw 0 0\n", True, None),
]


@pytest.mark.parametrize(("mounts", "tool", "problem"), PROBE_CASES)
def test_the_node_probe_names_what_is_missing(
    tmp_path: Path, mounts: str | None, tool: bool, problem: str | None
) -> None:
    root = node_dir(tmp_path)
    if not tool:
        (root / "bin" / "pvetool").unlink()
    if mounts is not None:
        (root / "proc").mkdir()
        (root / "proc" / "mounts").write_text(mounts)
    host = NodeDirHost(str(root))
    if problem is None:
        confirm(host, PROBE)
        return
    with pytest.raises(NotANode, match=re.escape(problem)) as caught:
        confirm(host, PROBE)
    assert caught.value.exit_code == 2 and f"sim:{root} is not a test node" in str(caught.value)
    if mounts is None:
        assert host.queries == 0  # refused before any command ran


def test_the_pool_probes_each_host_once(tmp_path: Path) -> None:
    root = node_dir(tmp_path)
    (root / "proc").mkdir()
    (root / "proc" / "mounts").write_text(FUSE)
    pool = HostPool(parse_address(f"sim:{root}"))
    host = pool.for_node(None)
    for _ in range(3):
        pool.confirm(host, PROBE)
    assert host.queries == 1


def test_uploads_get_their_mode_at_open_and_are_never_chmodded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pmxcfs refuses chmod, and a secret must not be readable between a create and a chmod."""

    def refused(*_args: object, **_kwargs: object) -> None:
        raise PermissionError("chmod after the open")

    monkeypatch.setattr("os.chmod", refused)
    monkeypatch.setattr("os.fchmod", refused)
    secret = tmp_path / "secret"
    LocalHost().write_file(str(secret), b"s3cret\n", mode=0o600)
    assert (secret.read_bytes(), secret.stat().st_mode & 0o777) == (b"s3cret\n", 0o600)


def run_locked(host: NodeDirHost) -> None:
    from phoenix_core import runlock

    with runlock.holding([host], verb="converge", run_id="t1", wait=0):
        pass


@pytest.fixture
def lock_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> NodeDirHost:
    monkeypatch.setenv("PHOENIX_LOCK_DIR", "/run/phoenix")
    return NodeDirHost(str(node_dir(tmp_path)))


def test_the_run_lock_directory_is_created_private(lock_node: NodeDirHost) -> None:
    run_locked(lock_node)
    directory = Path(lock_node.root, "run", "phoenix")
    assert directory.stat().st_mode & 0o777 == 0o700
    assert (directory / "phoenix-run.owner").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("prepare", "problem"),
    [
        (lambda d: (d.mkdir(parents=True), d.chmod(0o777)), "its mode 0777 lets others write"),
        (lambda d: (d.mkdir(parents=True), d.chmod(0o720)), "its mode 0720 lets others write"),
        (
            lambda d: (d.parent.mkdir(parents=True), d.symlink_to("/tmp")),
            "it is a symbolic link, not a directory",
        ),
    ],
    ids=["world-writable", "group-writable", "symlink"],
)
def test_an_unsafe_run_lock_directory_is_refused(
    lock_node: NodeDirHost, prepare: Any, problem: str
) -> None:
    from phoenix_core.runlock import UnsafeLockDir

    prepare(Path(lock_node.root, "run", "phoenix"))
    with pytest.raises(UnsafeLockDir, match=problem) as refused:
        run_locked(lock_node)
    assert refused.value.exit_code == 2 and "/run/phoenix" in str(refused.value)


def test_a_run_lock_directory_another_user_made_is_refused(lock_node: NodeDirHost) -> None:
    from phoenix_core.runlock import UnsafeLockDir

    if os.geteuid() != 0:
        pytest.skip("making a directory owned by another user needs root")
    directory = Path(lock_node.root, "run", "phoenix")
    directory.mkdir(parents=True, mode=0o700)
    os.chown(directory, 65534, 65534)
    with pytest.raises(UnsafeLockDir, match="owned by uid 65534, not by uid 0"):
        run_locked(lock_node)
