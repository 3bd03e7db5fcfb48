"""The shared steps, driven for a VM (qm) to show they are not LXC code in disguise: paths,
commands and typed change data."""

from __future__ import annotations

import json

import pytest

from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import CommandResult
from phoenix_core.testing import RecordingHost
from phoenix_pve import firewall, options, power, snapshots, template
from phoenix_pve.guest import CONTAINER, VIRTUAL_MACHINE
from phoenix_pve.live import Live
from phoenix_pve.model import Firewall, FirewallRule

FW = "/nodes/localhost/qemu/9000/firewall"


def _vm(host: RecordingHost, status: str = "running", config: str = "") -> Live:
    host.on(["qm", "status", "9000"], stdout=f"status: {status}\n")
    host.on(["qm", "config", "9000"], stdout=config)
    return Live(host, VIRTUAL_MACHINE, 9000, "/etc/pve/")


def test_live_paths_and_reads_follow_the_guest_kind() -> None:
    host = RecordingHost()
    live = _vm(host, config="name: web\ntemplate: 1\n")
    assert live.conf_path == "/etc/pve/qemu-server/9000.conf"
    assert live.api_path == "/nodes/localhost/qemu/9000"
    assert live.name == "VM 9000"
    assert live.running and live.is_template and live.config().get("name") == "web"
    assert live.running  # cached: one status read
    assert [c.argv for c in host.journal] == [("qm", "status", "9000"), ("qm", "config", "9000")]
    ct = Live(host, CONTAINER, 101, "/etc/pve")
    assert (ct.conf_path, ct.api_path) == ("/etc/pve/lxc/101.conf", "/nodes/localhost/lxc/101")


def test_a_missing_guest_reads_as_empty() -> None:
    host = RecordingHost().on(
        ["qm", "status"],
        returncode=2,
        stderr="Configuration file 'nodes/pve/qemu-server/9.conf' does not exist",
    )
    live = Live(host, VIRTUAL_MACHINE, 9, "/etc/pve")
    assert not live.exists and live.config().options == {} and live.snapshots() == []
    assert [c.argv for c in host.journal] == [("qm", "status", "9")]


def test_firewall_is_reconciled_on_the_qemu_path() -> None:
    host = RecordingHost()
    live = _vm(host)
    host.on(["pvesh", "get", f"{FW}/options"], stdout=json.dumps({"enable": 1}))
    rules = [
        {"pos": 0, "type": "in", "action": "DROP", "comment": "stray", "enable": 1},
        {"pos": 1, "type": "in", "action": "ACCEPT", "dport": "22", "proto": "tcp", "enable": 1},
    ]
    host.on(["pvesh", "get", f"{FW}/rules"], stdout=json.dumps(rules))
    fw = Firewall(
        enabled=True,
        policy_in="DROP",
        rules=[
            FirewallRule("in", "ACCEPT", proto="tcp", port="22"),
            FirewallRule("out", "ACCEPT", proto="udp", port="53"),
        ],
    )
    step = firewall.step(fw, live)
    changes = step.check()
    assert [c.what for c in changes] == [
        "firewall policy_in",
        "firewall rule @0",
        "firewall rule #1",
    ]
    step.apply(changes)
    assert host.mutations == [
        ("pvesh", "set", f"{FW}/options", "--policy_in", "DROP"),
        ("pvesh", "delete", f"{FW}/rules/0"),
        (
            "pvesh",
            "create",
            f"{FW}/rules",
            "--type",
            "out",
            "--action",
            "ACCEPT",
            "--proto",
            "udp",
            "--dport",
            "53",
            "--enable",
            "1",
        ),
        ("pvesh", "set", f"{FW}/rules/0", "--moveto", "2"),
    ]


RULES = options.Comparison(
    absent={"memory": "512"},
    props=frozenset({"startup"}),
    partial={"net0": options.Partial(("virtio", "bridge"), {"firewall": "0"})},
)


def test_option_drift_sets_only_differing_keys_and_deletes_unwanted_ones() -> None:
    host = RecordingHost()
    live = _vm(
        host,
        config="memory: 2048\nstartup: up=5,order=2\ntags: old\n"
        "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=0\n",
    )
    want = {
        "memory": "2048",
        "startup": "order=2,up=5",
        "tags": "",
        "net0": "bridge=vmbr1",
        "cores": "2",
        "onboot": "",
    }
    step = options.step(live, want, RULES)
    changes = step.check()
    assert [(c.what, c.before, c.after) for c in changes] == [
        ("tags", "old", None),
        (
            "net0",
            "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=0",
            "virtio=BC:24:11:00:00:01,bridge=vmbr1,firewall=0",
        ),
        ("cores", None, "2"),
    ]
    step.apply(changes)
    assert host.mutations == [
        (
            "qm",
            "set",
            "9000",
            "--net0",
            "virtio=BC:24:11:00:00:01,bridge=vmbr1,firewall=0",
            "--cores",
            "2",
            "--delete",
            "tags",
        )
    ]


def test_option_comparison_normalises_and_knows_absent_defaults() -> None:
    assert RULES.same("memory", "512", None)
    assert RULES.same("memory", "1G", "1024M")
    assert not RULES.same("memory", "1024", None)
    assert RULES.same("net0", "bridge=vmbr0,firewall=0", "virtio=X,bridge=vmbr0")
    assert options.Comparison(words=frozenset({"ns"})).same(
        "ns", "1.1.1.1  8.8.8.8", "1.1.1.1 8.8.8.8"
    )


def test_option_guard_runs_only_for_an_existing_guest() -> None:
    def refuse() -> None:
        raise PhoenixError("cannot")

    host = RecordingHost().on(["qm", "status"], returncode=2, stderr="does not exist")
    missing = Live(host, VIRTUAL_MACHINE, 9000, "/etc/pve")
    assert [c.what for c in options.step(missing, {"cores": "2"}, RULES, guard=refuse).check()] == [
        "cores"
    ]
    with pytest.raises(PhoenixError):
        options.step(_vm(RecordingHost()), {}, RULES, guard=refuse).check()


def test_start_waits_for_the_managers_probe() -> None:
    host = RecordingHost()
    live = _vm(host, status="stopped")
    answers = [1, 1, 0]
    probes: list[int] = []

    def probe() -> CommandResult:
        probes.append(1)
        return CommandResult(["qm", "guest", "cmd", "9000", "ping"], answers.pop(0))

    slept: list[float] = []
    power.start(live, probe, 10, sleep=slept.append)
    assert host.mutations == [("qm", "start", "9000")]
    assert len(probes) == 3 and slept == [0.2, 0.4]


def test_a_guest_that_never_answers_is_named_with_the_probe() -> None:
    live = _vm(RecordingHost())

    def probe() -> CommandResult:
        return CommandResult(
            ["qm", "guest", "cmd", "9000", "ping"], 255, "", "QEMU guest agent is not running\n"
        )

    with pytest.raises(PhoenixError) as info:
        power.wait_ready(live, probe, 0, sleep=lambda _: None)
    assert str(info.value) == (
        "VM 9000 started but did not answer `qm guest cmd 9000 ping` within 0 s: "
        "QEMU guest agent is not running"
    )


def test_shutdown_falls_back_to_stop_and_destroy_purges() -> None:
    host = RecordingHost().on(
        ["qm", "shutdown"], returncode=255, stderr="VM quit/powerdown failed - got timeout"
    )
    live = _vm(host)
    step = power.destroyed_step(live, 30)
    assert [str(c) for c in step.check()] == ["virtual machine: exists -> (none)"]
    step.apply(step.check())
    assert host.mutations == [
        ("qm", "shutdown", "9000", "--timeout", "30"),
        ("qm", "stop", "9000"),
        ("qm", "destroy", "9000", "--purge"),
    ]


def test_snapshots_are_taken_once_by_name_and_skipped_when_unsupported() -> None:
    host = RecordingHost()
    live = _vm(host)
    host.on(["qm", "listsnapshot"], stdout="`-> gold   2026-01-01 00:00:00  no-description\n")
    [step] = snapshots.final(
        live,
        template_snapshot_name="gold",
        lifecycle=True,
        is_template=False,
        skip=lambda: False,
        unsupported=lambda: None,
    )
    changes = step.check()
    assert [c.what for c in changes] == ["snapshot final-form"]
    step.apply(changes)
    assert host.mutations == [("qm", "snapshot", "9000", "final-form")]
    [blocked] = snapshots.before_scripts(
        live, lifecycle=True, is_template=False, skip=lambda: False, unsupported=lambda: "no"
    )
    assert blocked.check() == []
    assert (
        snapshots.before_scripts(
            live, lifecycle=True, is_template=True, skip=lambda: False, unsupported=lambda: None
        )
        == []
    )


def test_template_conversion_is_verified_by_reading_the_config_back() -> None:
    host = RecordingHost()
    live = _vm(host, status="stopped", config="name: base\n")
    step = template.step(live)
    with pytest.raises(PhoenixError, match="`qm template 9000` did not convert it"):
        step.apply(step.check())
