"""phoenix_pve.confedit against the strict simulator: conf files under /etc/pve are edited as
Proxmox's tools do (config lock, no chmod, temp file + rename), and the old way fails there."""

from __future__ import annotations

import fcntl
import os
import stat

import pytest

from phoenix_core.hosts.base import node_path
from phoenix_core.hosts.nodedir import NodeDirHost
from phoenix_pve import confedit
from phoenix_pve.errors import ErrorKind, ProxmoxError
from phoenix_pve.guest import CONTAINER

#: The conf file's path on the node (the simulated node maps it into its directory).
CONF = "/etc/pve/lxc/120.conf"
TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


@pytest.fixture
def ct(pve_node):
    pve_node.run(["pct", "create", "120", TEMPLATE, "--rootfs", "local-lvm:4"], check=True)
    return pve_node


def test_edit_is_atomic_0640_and_seen_by_pct(ct) -> None:
    conf = ct.conf(120)
    old = conf.read_text()
    host = NodeDirHost(str(ct.dir))
    confedit.replace(host, CONTAINER, 120, CONF, old, old + "lxc.mount.auto: sys:rw\n")
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert [p.name for p in conf.parent.iterdir()] == ["120.conf"]  # no temp file left
    shown = ct.run(["pct", "config", "120"])
    assert (shown.returncode, shown.stdout.splitlines()[-1]) == (0, "lxc.mount.auto: sys:rw")


def test_the_old_way_fails_on_pmxcfs(ct) -> None:
    """A generic upload's chmod (Host.write_file's temp file, 0600 over SSH) is refused by
    pmxcfs; the strict simulator reports it to the writer's next command."""
    conf = ct.conf(120)
    NodeDirHost(str(ct.dir)).write_file(CONF, conf.read_bytes(), mode=0o600)
    refused = ct.run(["pct", "config", "120"])
    assert refused.returncode == 255
    assert "Operation not permitted" in refused.stderr


def test_edit_waits_for_the_config_lock_and_refuses_a_changed_file(ct, monkeypatch) -> None:
    conf = ct.conf(120)
    host = NodeDirHost(str(ct.dir))
    monkeypatch.setattr(confedit, "LOCK_WAIT", 0)
    lock_path = node_path(host, CONTAINER.lock_path(120))
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(ProxmoxError) as held:
            confedit.replace(host, CONTAINER, 120, CONF, conf.read_text(), "x\n", lock_timeout=0)
    assert held.value.kind is ErrorKind.LOCKED
    with pytest.raises(ProxmoxError, match="changed while it was being edited"):
        confedit.replace(host, CONTAINER, 120, CONF, "stale\n", "x\n")
    assert "hostname:" in conf.read_text()
