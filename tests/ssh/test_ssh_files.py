"""write_file/read_file over SFTP: round trip, mode, atomic replace, errors, sudo path."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from phoenix_core.errors import HostError


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
