"""phoenix_pve.confedit against the strict simulator: conf files under /etc/pve are edited as
Proxmox's tools do (config lock, no chmod, temp file + rename), and the old way fails there."""

from __future__ import annotations

import fcntl
import stat

import pytest

from phoenix_core.hosts.local import LocalHost
from phoenix_pve import confedit
from phoenix_pve.errors import ErrorKind, ProxmoxError
from phoenix_pve.guest import CONTAINER

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


@pytest.fixture
def ct(pve_node):
    pve_node.run(["pct", "create", "120", TEMPLATE, "--rootfs", "local-lvm:4"], check=True)
    return pve_node


def test_edit_is_atomic_0640_and_seen_by_pct(ct) -> None:
    conf = ct.conf(120)
    old = conf.read_text()
    host = LocalHost(env=ct.env)
    confedit.replace(host, CONTAINER, 120, str(conf), old, old + "lxc.mount.auto: sys:rw\n")
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert [p.name for p in conf.parent.iterdir()] == ["120.conf"]  # no temp file left
    shown = ct.run(["pct", "config", "120"])
    assert (shown.returncode, shown.stdout.splitlines()[-1]) == (0, "lxc.mount.auto: sys:rw")


def test_the_old_way_fails_on_pmxcfs(ct) -> None:
    """A generic upload's chmod (Host.write_file's temp file, 0600 over SSH) is refused by
    pmxcfs; the strict simulator reports it to the writer's next command."""
    conf = ct.conf(120)
    LocalHost(env=ct.env).write_file(str(conf), conf.read_bytes(), mode=0o600)
    refused = ct.run(["pct", "config", "120"])
    assert refused.returncode == 255
    assert "Operation not permitted" in refused.stderr


def test_edit_waits_for_the_config_lock_and_refuses_a_changed_file(ct, monkeypatch) -> None:
    conf = ct.conf(120)
    host = LocalHost(env=ct.env)
    monkeypatch.setattr(confedit, "LOCK_WAIT", 0)
    with open(CONTAINER.lock_path(120), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(ProxmoxError) as held:
            confedit.replace(
                host, CONTAINER, 120, str(conf), conf.read_text(), "x\n", lock_timeout=0
            )
    assert held.value.kind is ErrorKind.LOCKED
    with pytest.raises(ProxmoxError, match="changed while it was being edited"):
        confedit.replace(host, CONTAINER, 120, str(conf), "stale\n", "x\n")
    assert "hostname:" in conf.read_text()
