"""The read-only host tools `phoenix health-check host` runs, and the commands tests use to
break a node: systemctl is-active/stop, zpool status/offline/online, exportfs -v,
pve-firewall status and testparm -s. Each test cites the source whose output it follows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pve_sim.fixture import SimNode

A, B, C = "/dev/disk/by-id/nvme-A", "/dev/disk/by-id/nvme-B", "/dev/disk/by-id/nvme-C"
SERVICES = ["pve-cluster", "pvedaemon", "pveproxy", "pvestatd"]


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    seed = tmp_path_factory.mktemp("seed") / "seed.json"
    seed.write_text(json.dumps({"host": {"disks": {A: None, B: None, C: None}}}))
    sim = SimNode.start(tmp_path_factory.mktemp("host"), seed=seed)
    yield sim
    sim.stop()


def test_proxmox_services_and_systemctl_stop(host: SimNode) -> None:
    """pve-manager and pve-cluster enable pvedaemon, pveproxy, pvestatd and pve-cluster on a
    fresh node; systemd src/systemctl/systemctl-is-active.c prints one state per unit and
    exits 0 when at least one is active, else 3 (EXIT_PROGRAM_NOT_RUNNING), so a checker
    reads the states; `stop` deactivates."""
    active = host.run(["systemctl", "is-active", *SERVICES])
    assert (active.returncode, active.stdout) == (0, "active\n" * 4)
    assert host.run(["systemctl", "stop", "pveproxy"]).returncode == 0
    stopped = host.run(["systemctl", "is-active", *SERVICES])
    assert (stopped.returncode, stopped.stdout) == (0, "active\nactive\ninactive\nactive\n")
    assert host.run(["systemctl", "is-active", "pveproxy"]).returncode == 3
    assert [e["mutating"] for e in host.journal() if e["argv"][:2] == ["systemctl", "stop"]] == [
        True
    ]
    host.run(["systemctl", "start", "pveproxy"], check=True)
    assert host.run(["systemctl", "is-active", "pveproxy"]).stdout == "active\n"


def test_zpool_status_offline_online(host: SimNode) -> None:
    """OpenZFS cmd/zpool/zpool_main.c zpool_do_status: `-x` prints "all pools are healthy"
    (or "pool 'x' is healthy" for one pool named) when nothing is wrong, else each unhealthy
    pool's block: `  pool:`, ` state:`, `status:`, `action:`, `config:` with the NAME STATE
    READ WRITE CKSUM table, `errors: No known data errors`; "no pools available" on stderr
    without pools. libzfs_pool.c zpool_vdev_offline: a member of a mirror goes OFFLINE and the
    pool DEGRADED; the last replica cannot ("cannot offline X: no valid replicas")."""
    empty = host.run(["zpool", "status", "-x"])
    assert (empty.returncode, empty.stderr) == (0, "no pools available\n")
    host.run(["zpool", "create", "tank", "mirror", A, B], check=True)
    host.run(["zpool", "create", "solo", C], check=True)
    assert host.run(["zpool", "status", "-x"]).stdout == "all pools are healthy\n"
    assert host.run(["zpool", "status", "-x", "tank"]).stdout == "pool 'tank' is healthy\n"
    assert "no valid replicas" in host.run(["zpool", "offline", "solo", C]).stderr
    host.run(["zpool", "offline", "tank", "nvme-A"], check=True)
    assert "no valid replicas" in host.run(["zpool", "offline", "tank", B]).stderr
    listed = host.run(["zpool", "list", "-H", "-o", "name,health"]).stdout
    assert listed == "solo\tONLINE\ntank\tDEGRADED\n"
    status = host.run(["zpool", "status", "-x"]).stdout.splitlines()
    assert status[:3] == [
        "  pool: tank",
        " state: DEGRADED",
        "status: One or more devices has been taken offline by the administrator.",
    ]
    assert "config:" in status and status[-1] == "errors: No known data errors"
    table = [line.split() for line in status[status.index("config:") + 2 :] if line.strip()]
    assert table[:5] == [
        ["NAME", "STATE", "READ", "WRITE", "CKSUM"],
        ["tank", "DEGRADED", "0", "0", "0"],
        ["mirror-0", "DEGRADED", "0", "0", "0"],
        ["nvme-A", "OFFLINE", "0", "0", "0"],
        ["nvme-B", "ONLINE", "0", "0", "0"],
    ]
    host.run(["zpool", "online", "tank", A], check=True)
    assert host.run(["zpool", "status", "-x"]).stdout == "all pools are healthy\n"
    flags = {e["argv"][1]: e["mutating"] for e in host.journal() if e["argv"][0] == "zpool"}
    assert (flags["status"], flags["offline"], flags["online"]) == (False, True, True)


def test_exportfs_verbose(host: SimNode) -> None:
    """nfs-utils utils/exportfs/exportfs.c dump(): the path padded to 14 (a longer path alone
    on its line, the client on the next after two tabs), then the client and every option,
    defaults included, in dump()'s order; listing changes nothing."""
    directory = host.dir / "etc" / "exports.d"
    directory.mkdir(parents=True, exist_ok=True)
    for path in ("srv", "tank/long-dataset-name"):
        (host.dir / path).mkdir(parents=True, exist_ok=True)
    (directory / "t.exports").write_text(
        "/srv 10.0.0.2(rw,sync,no_subtree_check,no_root_squash)\n"
        "/tank/long-dataset-name 10.0.0.3(ro)\n"
    )
    host.run(["exportfs", "-ra"], check=True)
    mark = host.mark()
    assert host.run(["exportfs", "-v"]).stdout == (
        "/srv          \t10.0.0.2(sync,wdelay,hide,no_subtree_check,sec=sys,rw,secure,"
        "no_root_squash,no_all_squash)\n"
        "/tank/long-dataset-name\n\t\t10.0.0.3(sync,wdelay,hide,no_subtree_check,sec=sys,ro,"
        "secure,root_squash,no_all_squash)\n"
    )
    assert [e["mutating"] for e in host.since(mark)] == [False]
    (directory / "t.exports").unlink()
    host.run(["exportfs", "-ra"], check=True)


def test_exportfs_verbose_prints_world_and_canonical_names(host: SimNode) -> None:
    """dump(): the anonymous client `*` is `<world>`, a host name its canonical name
    (client_lookup's ai_canonname: the first name of its /etc/hosts line), and exports come
    grouped by client type (names and addresses, subnets, then the world); options dump()
    knows are shown (`fsid=`, `anonuid=`, secinfo_show's `sec=`)."""
    directory = host.dir / "etc" / "exports.d"
    (host.dir / "srv").mkdir(exist_ok=True)
    (directory / "t.exports").write_text(
        "/srv *(ro,fsid=0,anonuid=1000,sec=krb5) 10.0.0.0/24(rw) pve1(rw)\n"
    )
    host.run(["exportfs", "-ra"], check=True)
    assert host.run(["exportfs", "-v"]).stdout == (
        "/srv          \tpve1.example.invalid(sync,wdelay,hide,no_subtree_check,sec=sys,rw,"
        "secure,root_squash,no_all_squash)\n"
        "/srv          \t10.0.0.0/24(sync,wdelay,hide,no_subtree_check,sec=sys,rw,secure,"
        "root_squash,no_all_squash)\n"
        "/srv          \t<world>(sync,wdelay,hide,no_subtree_check,fsid=0,anonuid=1000,"
        "sec=krb5,ro,secure,root_squash,no_all_squash)\n"
    )
    assert host.run(["getent", "hosts", "pve1"]).stdout == (
        "192.168.100.2   pve1.example.invalid pve1\n"
    )
    (directory / "t.exports").unlink()
    host.run(["exportfs", "-ra"], check=True)


def test_pve_firewall_status(host: SimNode) -> None:
    """pve-firewall src/PVE/Service/pve_firewall.pm, the status command's printer:
    "Status: <enabled|disabled>/<running|stopped>" from the datacenter options' `enable` and
    whether the pve-firewall daemon runs."""
    assert host.run(["pve-firewall", "status"]).stdout == "Status: disabled/running\n"
    host.run(["pvesh", "set", "/cluster/firewall/options", "--enable", "1"], check=True)
    assert host.run(["pve-firewall", "status"]).stdout == "Status: enabled/running\n"
    host.run(["systemctl", "stop", "pve-firewall"], check=True)
    assert host.run(["pve-firewall", "status"]).stdout == "Status: enabled/stopped\n"
    host.run(["systemctl", "start", "pve-firewall"], check=True)
    host.run(["pvesh", "set", "/cluster/firewall/options", "--enable", "0"], check=True)


def test_testparm_reads_smb_conf_and_includes(host: SimNode, tmp_path: Path) -> None:
    """samba source3/utils/testparm.c: "Load smb config files from /etc/samba/smb.conf",
    "Loaded services file OK." and the server role on stderr; with -s the configuration as
    loaded (includes read in place, loadparm.c handle_include) on stdout, "# Global
    parameters" first and each parameter tab-indented; no smb.conf is "Error loading
    services." with exit 1."""
    missing = host.run(["testparm", "-s"])
    assert missing.returncode == 1 and "Error loading services." in missing.stderr
    host.run(["apt-get", "install", "-y", "samba"], check=True)
    shares = host.dir / "etc" / "samba" / "extra.conf"
    shares.write_text("[data]\n   path = /tank/data\n   Valid  Users = heads\n")
    conf = host.dir / "etc" / "samba" / "smb.conf"
    conf.write_text(conf.read_text() + "   include = /etc/samba/extra.conf\n")
    result = host.run(["testparm", "-s"])
    assert result.returncode == 0
    assert result.stderr.startswith(
        "Load smb config files from /etc/samba/smb.conf\nLoaded services file OK.\n"
    )
    assert result.stdout == (
        "# Global parameters\n[global]\n\tworkgroup = WORKGROUP\n\tsecurity = user\n\n"
        "[data]\n\tpath = /tank/data\n\tvalid users = heads\n"
    )


def test_pvesh_joins_a_repeated_list_option(host: SimNode) -> None:
    """pve-common JSONSchema.pm get_options joins a `-list` option given several times
    ("allow --vmid 100 --vmid 101"); the firewall options' `delete` is a pve-configid-list
    (pve-firewall API2/Firewall/Cluster.pm set_options)."""
    options = "/cluster/firewall/options"
    host.run(["pvesh", "set", options, "--policy_in", "DROP", "--policy_out", "ACCEPT"], check=True)
    deleted = host.run(["pvesh", "set", options, "--delete", "policy_in", "--delete", "policy_out"])
    assert deleted.returncode == 0, deleted.stderr
    now = json.loads(host.run(["pvesh", "get", options, "--output-format", "json"]).stdout)
    assert "policy_in" not in now and "policy_out" not in now
