"""The node snapshot: what a run reads from /etc/pve and the node lists equals what the guest's
own commands print, costs one Proxmox tool call per guest kind, and a change re-reads only
the changed guest. The node's storages: each answer read once, however many threads ask, and
read again after what changes it."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from phoenix_core.hosts.base import node_path
from phoenix_core.hosts.nodedir import NodeDirHost
from phoenix_pve import applied, etcpve
from phoenix_pve import node as node_facts
from phoenix_pve.guest import CONTAINER, VIRTUAL_MACHINE
from phoenix_pve.live import Live
from phoenix_pve.snapshot import NodeSnapshot
from phoenix_pve.storages import NodeStorages
from pve_sim import fwfile
from pve_sim.faults import PROXMOX_TOOLS
from pve_sim.fixture import SimNode

TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
RULES = [
    {"type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22", "enable": 1},
    {"type": "in", "action": "ACCEPT", "macro": "HTTPS", "source": "10.0.0.0/8", "enable": 0},
    {
        "type": "out",
        "action": "DROP",
        "dest": "1.2.3.4",
        "log": "info",
        "comment": "no # way",
        "enable": 1,
    },
]


def test_the_conf_file_reads_as_config_prints_it_pending_applied() -> None:
    text = (
        "#web%3A front\n"
        "cores: 2\nmemory: 512\nswap: 0\nlxc.idmap: u 0 100000 65536\n\n"
        "[pve:pending]\nmemory: 1024\ndelete: swap,!cores\n\n"
        "[pre-configured]\nparent: base\nsnaptime: 2\n\n[base]\nsnaptime: 1\n"
    )
    conf = etcpve.parse_conf(text, container=True)
    assert conf.current.options == {"memory": "1024", "description": "web%3A front%0A"}
    assert conf.current.raw == (("lxc.idmap", "u 0 100000 65536"),)
    assert [(s.name, s.depth) for s in conf.snapshots] == [("base", 0), ("pre-configured", 1)]
    vm = etcpve.parse_conf(
        "cipassword: x\n[PENDING]\nname: b\n[special:cloudinit]\nname: c\n", container=False
    )
    assert vm.current.options == {"cipassword": "**********", "name": "b"}
    assert (conf.pending, vm.pending) == (("cores", "memory", "swap"), ("name",))


def test_the_firewall_file_reads_as_the_api_answers() -> None:
    text = fwfile.text({"options": {"enable": 1, "policy_in": "DROP"}, "rules": RULES})
    parsed = etcpve.parse_firewall(text)
    assert parsed.options == {"enable": "1", "policy_in": "DROP"}
    assert parsed.rules == [{**r, "pos": i} for i, r in enumerate(RULES)]
    with pytest.raises(etcpve.FileFormatError):
        etcpve.parse_firewall("[RULES]\nIN ACCEPT -bogus 1\n")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNode]:
    sim = SimNode.start(tmp_path_factory.mktemp("snapshot"))
    for argv in (
        ["pct", "create", "120", TEMPLATE, "--rootfs", "local-lvm:4", "--hostname", "a"],
        ["pct", "snapshot", "120", "base"],
        ["pct", "snapshot", "120", "later"],
        ["pct", "start", "120"],
        ["pct", "create", "121", TEMPLATE, "--rootfs", "local-lvm:4", "--hostname", "b"],
        ["pvesh", "set", "/nodes/localhost/lxc/120/firewall/options", "--enable", "1"],
        ["qm", "create", "130", "--name", "vm", "--memory", "512"],
        ["qm", "start", "130"],
        ["qm", "set", "130", "--memory", "1024", "--delete", "name"],
    ):
        assert sim.run(argv).returncode == 0, argv
    for rule in reversed(RULES):
        argv = ["pvesh", "create", "/nodes/localhost/lxc/120/firewall/rules"]
        argv += [f"--{k}={v}" for k, v in rule.items()]
        assert sim.run(argv).returncode == 0, argv
    yield sim
    sim.stop()


def _host(sim: SimNode) -> NodeDirHost:
    return NodeDirHost(str(sim.dir))


def _tools(sim: SimNode, mark: int) -> list[list[str]]:
    return [e["argv"] for e in sim.since(mark) if e["argv"][0] in PROXMOX_TOOLS]


@pytest.mark.parametrize(
    ("kind", "vmid"), [(CONTAINER, 120), (CONTAINER, 121), (VIRTUAL_MACHINE, 130)]
)
def test_the_snapshot_reads_what_the_guests_commands_print(sim_reads, kind, vmid) -> None:
    direct, snap = sim_reads(kind, vmid)
    assert snap.status() == direct.status()
    assert snap.config() == direct.config()
    if kind is VIRTUAL_MACHINE:
        assert snap.pending_keys() == ["memory", "name"]
    assert [(s.name, s.depth) for s in snap.snapshots()] == [
        (s.name, s.depth) for s in direct.snapshots()
    ]
    for part in ("options", "rules"):
        path = f"{direct.api_path}/firewall/{part}"
        want = direct.pvesh_json(path)
        if part == "rules":
            # pve-firewall verify_rule adds `ipversion`, which phoenix does not read.
            want = [{k: v for k, v in r.items() if k not in ("digest", "ipversion")} for r in want]
        else:
            want = {k: str(v) for k, v in want.items() if k != "digest"}
        assert snap.pvesh_json(path) == want


@pytest.fixture
def sim_reads(node: SimNode):
    def reads(kind, vmid) -> tuple[Live, Live]:
        host = _host(node)
        snap = Live(host, kind, vmid, str(node.pve_etc), node=NodeSnapshot(host, str(node.pve_etc)))
        return Live(host, kind, vmid, str(node.pve_etc)), snap

    return reads


def test_one_list_call_per_kind_for_all_guests_and_a_change_rereads_only_its_guest(
    node: SimNode,
) -> None:
    host = _host(node)
    snap = NodeSnapshot(host, str(node.pve_etc))
    mark = node.mark()
    guests = [Live(host, CONTAINER, i, str(node.pve_etc), node=snap) for i in (120, 121, 122)]
    for live in guests:
        live.config(), live.snapshots(), live.pvesh_json(f"{live.api_path}/firewall/rules")
    assert [g.exists for g in guests] == [True, True, False]
    assert sorted(_tools(node, mark)) == [
        ["pvesh", "get", f"/nodes/localhost/{kind}", "--output-format", "json"]
        for kind in ("lxc", "qemu")
    ]
    mark = node.mark()
    guests[1].change(["pct", "set", "121", "--memory", "640"])
    again = Live(host, CONTAINER, 121, str(node.pve_etc), node=snap)
    assert again.config().get("memory") == "640" and again.status() == "stopped"
    assert Live(host, CONTAINER, 120, str(node.pve_etc), node=snap).running
    assert _tools(node, mark) == [
        ["pct", "set", "121", "--memory", "640"],
        ["pct", "status", "121"],
    ]


def test_the_conf_file_says_when_cloud_init_changes_wait_for_the_drive(node: SimNode) -> None:
    # qemu-server keeps changed cloud-init keys in [special:cloudinit] until the drive is
    # generated again: no section, nothing for `qm cloudinit pending` to show.
    create = ["qm", "create", "131", "--ide2", "local-lvm:cloudinit", "--ciuser", "a"]
    assert node.run(create).returncode == 0
    host = _host(node)

    def both() -> tuple[list[str] | None, list[str]]:
        live = Live(
            host,
            VIRTUAL_MACHINE,
            131,
            str(node.pve_etc),
            node=NodeSnapshot(host, str(node.pve_etc)),
        )
        shown = node.run(["qm", "cloudinit", "pending", "131"]).stdout
        return live.cloudinit_stale(), [
            line.split(":", 1)[0].split(" ", 1)[1]
            for line in shown.splitlines()
            if line.startswith(("new ", "del "))
        ]

    assert both() == (["ciuser"], ["ciuser"])  # never generated: every key is new
    assert node.run(["qm", "cloudinit", "update", "131"]).returncode == 0
    assert both() == ([], [])
    assert (
        node.run(["qm", "set", "131", "--ciuser", "b", "--nameserver", "1.1.1.1"]).returncode == 0
    )
    assert both() == (["ciuser", "nameserver"], ["ciuser", "nameserver"])
    parsed = etcpve.parse_conf(
        "ciuser: b\n[special:cloudinit]\nadded: nameserver;sshkeys\nciuser: a\n",
        container=False,
    )
    assert parsed.cloudinit_stale == ("ciuser", "nameserver", "sshkeys")


def test_the_applied_record_is_kept_root_only_and_trusted_until_a_restart(
    node: SimNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = _host(node)
    etc = str(node.pve_etc)
    live = Live(host, CONTAINER, 120, etc, node=NodeSnapshot(host, etc))
    assert applied.trusted(live) is None
    applied.remember(live, {"features": {"a": "1"}})
    record = Path(node_path(host, applied.RECORD))
    assert (record.stat().st_mode & 0o777, record.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    assert str(record).startswith(str(node.dir))
    fresh = Live(host, CONTAINER, 120, etc, node=NodeSnapshot(host, etc))
    assert applied.trusted(fresh) == {"features": {"a": "1"}}
    # A restart (as a restored backup needs) makes the guest's own record the truth again.
    monkeypatch.setattr(applied, "START_SLACK", 0.5)
    time.sleep(1.5)
    assert node.run(["pct", "reboot", "120"]).returncode == 0
    assert applied.trusted(Live(host, CONTAINER, 120, etc, node=NodeSnapshot(host, etc))) is None


def test_a_node_copy_that_cannot_be_written_is_only_a_warning(node: SimNode) -> None:
    # A node where phoenix may not write /var/lib/phoenix: the run goes on, reading the
    # guests' own records next time.
    kept = node.dir / "var" / "lib" / "phoenix"
    shutil.rmtree(kept, ignore_errors=True)
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text("not a directory")
    host = _host(node)
    etc = str(node.pve_etc)
    live = Live(host, CONTAINER, 120, etc, node=NodeSnapshot(host, etc))
    applied.remember(live, {"features": {}})
    assert applied.trusted(live) is None


def test_pmxcfs_files_list_what_the_api_lists(node: SimNode) -> None:
    """.vmlist/.members and storage.cfg, read as files, say what pvesh answers."""
    resources = json.loads(
        node.run(
            ["pvesh", "get", "/cluster/resources", "--type", "vm", "--output-format", "json"]
        ).stdout
    )
    vmlist = etcpve.parse_vmlist((node.pve_etc / ".vmlist").read_text())
    assert vmlist == {int(r["vmid"]): etcpve.ListedGuest(r["node"], r["type"]) for r in resources}
    assert etcpve.parse_members((node.pve_etc / ".members").read_text()) == node.node
    listed = json.loads(node.run(["pvesh", "get", "/storage", "--output-format", "json"]).stdout)
    parsed = etcpve.parse_storage_cfg((node.pve_etc / "storage.cfg").read_text())
    assert parsed is not None

    def comparable(storages: list[dict]) -> dict[str, dict]:
        return {
            s["storage"]: {
                **{k: str(v) for k, v in s.items() if k not in ("digest", "content")},
                "content": set(str(s["content"]).split(",")),
            }
            for s in storages
        }

    assert comparable(parsed) == comparable(listed)


def test_storage_cfg_reads_as_section_config_parses_it() -> None:
    text = (
        "# a comment\n"
        "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl\n\n"
        "nfs: share\n\texport /srv\n\tpath /mnt/pve/share\n\tserver 10.0.0.2\n"
        "\tcontent images\n\tdisable\nnot an option line\n\n"
    )
    parsed = {s["storage"]: s for s in etcpve.parse_storage_cfg(text) or []}
    assert parsed["share"] == {
        "storage": "share",
        "type": "nfs",
        "export": "/srv",
        "path": "/mnt/pve/share",
        "server": "10.0.0.2",
        "content": "images",
        "disable": 1,
        "shared": 1,
    }
    # Plugin.pm parse_config: a node always has its `local` dir storage.
    assert etcpve.parse_storage_cfg("zfspool: z\n\tpool rpool\n\tcontent images\n") == [
        {"storage": "z", "type": "zfspool", "pool": "rpool", "content": "images"},
        {
            "storage": "local",
            "type": "dir",
            "path": "/var/lib/vz",
            "prune-backups": "keep-all=1",
            "content": "backup,images,iso,rootdir,snippets,vztmpl",
        },
    ]
    # Without a content line the plugin's default applies, which only the API knows.
    assert etcpve.parse_storage_cfg("zfspool: z\n\tpool rpool\n") is None


def test_a_guest_vmlist_does_not_place_on_the_node_costs_no_tool(node: SimNode) -> None:
    host = _host(node)
    snap = NodeSnapshot(host, str(node.pve_etc))
    mark = node.mark()
    assert not Live(host, CONTAINER, 199, str(node.pve_etc), node=snap).exists
    # 130 is a VM: as a container it does not exist, and nothing was asked.
    assert not Live(host, CONTAINER, 130, str(node.pve_etc), node=snap).exists
    assert _tools(node, mark) == []
    assert Live(host, VIRTUAL_MACHINE, 130, str(node.pve_etc), node=snap).exists
    assert len(_tools(node, mark)) == 2  # the node lists, for the status of a listed guest


def test_the_node_name_and_memory_read_as_files_match_the_api(node: SimNode) -> None:
    host = _host(node)
    mark = node.mark()
    from_files = node_facts.facts(host, None, str(node.pve_etc))
    assert _tools(node, mark) == []  # .members and /proc/meminfo: no tool
    assert from_files == node_facts.facts(host, None, str(node.dir / "no-pmxcfs"))  # pvesh
    assert from_files is not None and from_files.name == node.node and from_files.memory > 0
    assert node_facts.facts(host, "elsewhere", str(node.pve_etc)) is None


def test_the_storages_are_read_once_and_again_after_what_changes_them(node: SimNode) -> None:
    host = _host(node)
    node.run(["pvesm", "free", TEMPLATE], check=True)
    storages = NodeStorages(host)
    mark = node.mark()
    with ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(lambda _: storages.status(), range(8)))
        listed = list(pool.map(lambda _: storages.templates("local"), range(8)))
    assert all(r == rows[0] for r in rows) and rows[0]["local-lvm"].active
    assert all(t == listed[0] for t in listed) and TEMPLATE not in listed[0]
    assert sorted(_tools(node, mark)) == [["pveam", "list", "local"], ["pvesm", "status"]]
    # A download that succeeded is recorded: the next guest sees it without asking.
    mark = node.mark()
    name = TEMPLATE.split("/")[-1]
    storages.download("local", TEMPLATE, lambda: host.change(["pveam", "download", "local", name]))
    assert storages.templates("local") == listed[0] | {TEMPLATE}
    assert _tools(node, mark) == [["pveam", "download", "local", name]]
    # One that failed leaves the storage to be read again; host setup, everything.
    storages.download(
        "local",
        "local:vztmpl/x.tar.zst",
        lambda: host.change(["pveam", "download", "local", "x.tar.zst"]),
    )
    assert storages.templates("local") == listed[0] | {TEMPLATE}
    storages.forget_all()
    storages.status()
    assert _tools(node, mark)[1:] == [
        ["pveam", "download", "local", "x.tar.zst"],
        ["pveam", "list", "local"],
        ["pvesm", "status"],
    ]


def test_a_template_is_found_by_its_file_and_only_a_missing_one_is_listed(node: SimNode) -> None:
    """``local`` keeps templates in /var/lib/vz/template/cache: a stat answers for one that is
    there, however many threads ask; ``pveam list`` only for one that is not."""
    storages = NodeStorages(_host(node))
    present = "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
    mark = node.mark()
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: storages.has_template("local", present), range(8)))
    assert all(found)
    assert _tools(node, mark) == [["pvesm", "status"]]
    assert not storages.has_template("local", "local:vztmpl/absent.tar.zst")
    assert _tools(node, mark)[1:] == [["pveam", "list", "local"]]
    # Listed once, the listing answers from then on.
    assert storages.has_template("local", present) and len(_tools(node, mark)) == 2


def test_a_host_that_cannot_stat_asks_pveam_list() -> None:
    """The testing kit's RecordingHost reads files but states none: ``pveam list`` answers."""
    from phoenix_core.testing.host import RecordingHost

    present = "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
    host = RecordingHost(files={"/etc/pve/storage.cfg": "dir: local\n\tpath /var/lib/vz\n"})
    host.on(["pvesm", "status"], stdout="Name Type Status Total Used Available %\n")
    host.on(["pveam", "list"], stdout=f"NAME SIZE\n{present} 130.00MB\n")
    assert NodeStorages(host).has_template("local", present)
    assert host.queries == [("pveam", "list", "local")]
