"""write_file/read_file over SFTP: round trip, mode, atomic replace, errors, sudo path; read_files,
many files in one command."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from phoenix_core.errors import HostError
from phoenix_core.hosts.base import ReadingMany, Statting
from phoenix_core.hosts.dryrun import DryRunHost
from phoenix_core.hosts.local import LocalHost


def leftovers(directory) -> list[str]:
    return [name for name in os.listdir(directory) if name.startswith(".phoenix-")]


def test_round_trip_with_mode(sshd, connect, tmp_path):
    host = connect(sshd)
    path = tmp_path / "script.sh"
    data = bytes(range(256)) * 4096  # 1 MiB of every byte value
    host.write_file(str(path), data, mode=0o750)
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert host.read_file(str(path)) == data
    assert host.changes == 1
    assert leftovers(tmp_path) == []


def test_replace_is_a_rename_so_readers_see_old_or_new(sshd, connect, tmp_path):
    host = connect(sshd)
    path = tmp_path / "app.conf"
    path.write_bytes(b"old content that is longer than the new one\n")
    before = path.stat().st_ino
    with open(path, "rb") as reader:  # a reader that opened the file before the write
        host.write_file(str(path), b"new\n", mode=0o600)
        assert reader.read() == b"old content that is longer than the new one\n"
    assert path.read_bytes() == b"new\n"
    assert path.stat().st_ino != before  # a new file was renamed over: never truncated in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_missing_file_raises_file_not_found(sshd, connect, tmp_path):
    with pytest.raises(FileNotFoundError):
        connect(sshd).read_file(str(tmp_path / "absent"))


def test_read_files_reads_many_files_in_one_command_as_read_file_reads_each(
    sshd, connect, tmp_path
):
    deep = tmp_path / ("d" * 120) / ("f" * 150)  # past tar's 100-byte name field
    deep.parent.mkdir()
    deep.write_bytes(b"long name\n")
    binary = tmp_path / "binary"
    binary.write_bytes(bytes(range(256)) * 300)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "101.conf").write_text("memory: 512\n")
    (tmp_path / "lxc").symlink_to(tmp_path / "real")  # as /etc/pve/lxc links to nodes/NODE/lxc
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    paths = [str(p) for p in (deep, binary, tmp_path / "lxc" / "101.conf", empty)]
    absent = str(tmp_path / "absent.fw")
    host = connect(sshd)
    read = host.read_files([*paths, absent, paths[0]])
    assert read == {**{path: host.read_file(path) for path in paths}, absent: None}
    assert read[paths[2]] == b"memory: 512\n"
    assert host.queries == 1


def test_read_files_of_absent_files_only_is_one_command_and_nothing_found(sshd, connect, tmp_path):
    host = connect(sshd)
    assert host.read_files([str(tmp_path / "a"), str(tmp_path / "b")]) == {
        str(tmp_path / "a"): None,
        str(tmp_path / "b"): None,
    }
    assert (host.queries, host._sftp) == (1, None)


def test_read_files_falls_back_to_one_read_each_when_the_archive_cannot_speak(
    sshd, connect, tmp_path
):
    """A directory is archived as one, not as a file: each path is read on its own, and the
    directory fails as read_file fails."""
    (tmp_path / "plain").write_text("x\n")
    (tmp_path / "adir").mkdir()
    host = connect(sshd)
    with pytest.raises(HostError, match=r"cannot read .*/adir on 127\.0\.0\.1"):
        host.read_files([str(tmp_path / "plain"), str(tmp_path / "adir")])


def test_a_dry_run_reads_many_files_at_once_only_where_its_host_does(sshd, connect, tmp_path):
    (tmp_path / "a").write_text("a\n")
    over_ssh = DryRunHost(connect(sshd))
    assert isinstance(over_ssh, ReadingMany)
    assert over_ssh.read_files([str(tmp_path / "a")]) == {str(tmp_path / "a"): b"a\n"}
    assert not isinstance(DryRunHost(LocalHost()), ReadingMany)


def test_is_file_is_an_sftp_stat_that_follows_links_and_runs_no_command(sshd, connect, tmp_path):
    (tmp_path / "debian.tar.zst").write_bytes(b"")
    (tmp_path / "linked.tar.zst").symlink_to(tmp_path / "debian.tar.zst")
    (tmp_path / "adir").mkdir()
    host = connect(sshd)
    assert isinstance(host, Statting) and isinstance(DryRunHost(host), Statting)
    assert host.is_file(str(tmp_path / "debian.tar.zst"))
    assert DryRunHost(host).is_file(str(tmp_path / "linked.tar.zst"))
    assert not host.is_file(str(tmp_path / "adir"))
    assert not host.is_file(str(tmp_path / "absent.tar.zst"))
    assert (host.queries, host.changes) == (0, 0)


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed")
def test_is_file_with_sudo_is_test_f_with_a_fixed_argv(sshd, connect, tmp_path):
    """As root sudo is skipped, so force it on to run the non-root code path for real."""
    (tmp_path / "debian.tar.zst").write_bytes(b"")
    (tmp_path / "adir").mkdir()
    host = connect(sshd)
    host.sudo = True
    assert host.is_file(str(tmp_path / "debian.tar.zst"))
    assert not host.is_file(str(tmp_path / "adir"))
    assert not host.is_file(str(tmp_path / "absent.tar.zst"))
    assert host._sftp is None


def test_write_into_missing_directory_is_a_one_line_host_error(sshd, connect, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "f"
    with pytest.raises(HostError, match=r"cannot write .*/f on 127.0.0.1: ") as info:
        connect(sshd).write_file(str(target), b"x")
    assert "\n" not in str(info.value)


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed")
def test_sudo_path_installs_and_renames(sshd, connect, tmp_path):
    """As root sudo is skipped, so force it on to run the non-root code path for real."""
    host = connect(sshd)
    host.sudo = True
    assert host.query(["id", "-u"]).stdout == "0\n"
    path = tmp_path / "via-sudo.conf"
    path.write_bytes(b"old\n")
    host.write_file(str(path), b"new via sudo\n", mode=0o640)
    assert path.read_bytes() == b"new via sudo\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert host.read_file(str(path)) == b"new via sudo\n"
    with pytest.raises(FileNotFoundError):
        host.read_file(str(tmp_path / "absent"))
    assert leftovers(tmp_path) == []
    assert not [n for n in os.listdir("/tmp") if n.startswith(".phoenix-upload-")]


def test_file_operations_after_the_node_died_are_host_errors(private_sshd, connect, tmp_path):
    host = connect(private_sshd)
    host.write_file(str(tmp_path / "a"), b"a")
    private_sshd.kill()
    with pytest.raises(HostError, match="lost"):
        host.write_file(str(tmp_path / "b"), b"b")
    with pytest.raises(HostError, match="lost"):
        host.read_file(str(tmp_path / "a"))
