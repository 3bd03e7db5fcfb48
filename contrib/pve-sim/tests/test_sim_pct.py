"""pct conformance: formats, exit codes and messages from pve-cli.md §2.1/§2.2."""

from __future__ import annotations

import re

from pve_sim.fixture import SimNode


def test_status_of_missing_ct(node: SimNode) -> None:
    # pve-cli.md §2.2 status: stderr text, exit 255, stdout empty.
    proc = node.run(["pct", "status", "999"])
    assert proc.returncode == 255
    assert proc.stdout == ""
    assert proc.stderr == "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n"


def test_create_with_invalid_options(node: SimNode, template) -> None:
    # pve-cli.md §2.1: `400 Parameter verification failed.` plus `key: reason` lines plus usage.
    proc = node.run(
        ["pct", "create", "300", template, "--memory", "lots", "--net0", "name=eth0,bogus=1"]
    )
    assert proc.returncode == 255
    assert proc.stderr.splitlines() == [
        "400 Parameter verification failed.",
        "memory: type check ('integer') failed - got 'lots'",
        "net0: invalid format - invalid key in comma-separated list property: bogus",
        "pct create <vmid> <ostemplate> [OPTIONS]",
    ]
    assert node.run(["pct", "status", "300"]).returncode == 255


def test_round_trip_create_set_start_snapshot_destroy(node: SimNode, template) -> None:
    mark = node.mark()
    proc = node.run(
        [
            "pct",
            "create",
            "201",
            template,
            "--hostname",
            "web",
            "--memory",
            "1024",
            "--rootfs",
            "local-lvm:8",
            "--net0",
            "name=eth0,bridge=vmbr0,ip=dhcp",
            "--unprivileged",
            "1",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        "extracting archive '/var/lib/vz/template/cache/debian-12-standard_12.7-1_amd64.tar.zst'\n"
    )
    assert node.run(["pct", "status", "201"]).stdout == "status: stopped\n"

    proc = node.run(["pct", "set", "201", "--cores", "2", "--delete", "swap"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    config = node.run(["pct", "config", "201"]).stdout
    assert "cores: 2\n" in config
    assert "swap:" not in config

    assert node.run(["pct", "start", "201"]).returncode == 0
    assert node.run(["pct", "status", "201"]).stdout == "status: running\n"
    again = node.run(["pct", "start", "201"])
    assert (again.returncode, again.stderr) == (255, "CT 201 already running\n")

    proc = node.run(["pct", "snapshot", "201", "before-upgrade", "--description", "first\nmore"])
    assert proc.returncode == 0, proc.stderr
    tree = node.run(["pct", "listsnapshot", "201"]).stdout.splitlines()
    # pve-cli.md §2.2 listsnapshot: root prefix `->, name padded to 30 - len(prefix), time
    # padded to 23, first line of the description; `current` last with "You are here!".
    assert re.fullmatch(r"`-> before-upgrade {14}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {5}first", tree[0])
    assert tree[1] == f" `-> {'current':<26} {'':<23} You are here!"

    running = node.run(["pct", "destroy", "201"])
    assert running.returncode == 255
    assert running.stderr == "unable to destroy CT 201 - container is running\n"
    assert node.run(["pct", "stop", "201"]).returncode == 0
    assert node.run(["pct", "destroy", "201", "--purge"]).stdout == (
        "purging CT 201 from related configurations..\n"
    )
    assert node.run(["pct", "status", "201"]).returncode == 255
    assert not node.conf(201).exists()

    entries = node.since(mark)
    verbs = [e["argv"][1] for e in entries]
    assert verbs == [
        "create",
        "status",
        "set",
        "config",
        "start",
        "status",
        "start",
        "snapshot",
        "listsnapshot",
        "destroy",
        "stop",
        "destroy",
        "status",
    ]
    assert [e["rc"] for e in entries][-4:] == [255, 0, 0, 255]
    assert all(e["argv"][0] == "pct" and isinstance(e["ts"], float) for e in entries)


def test_journal_mutating_flags(node: SimNode, create_ct) -> None:
    create_ct(node, 202)
    mark = node.mark()
    for argv in (
        ["pct", "status", "202"],
        ["pct", "config", "202"],
        ["pct", "list"],
        ["pct", "listsnapshot", "202"],
        ["pvesm", "status"],
        ["pvesh", "get", "/nodes/localhost/lxc", "--output-format", "json"],
        ["pct", "set", "202", "--memory", "256"],
        ["pvesh", "set", "/nodes/pve1/lxc/202/config", "--cores", "1"],
    ):
        assert node.run(argv).returncode == 0
    flags = [(e["argv"][1], e["mutating"]) for e in node.since(mark)]
    assert flags == [
        ("status", False),
        ("config", False),
        ("list", False),
        ("listsnapshot", False),
        ("status", False),
        ("get", False),
        ("set", True),
        ("set", True),
    ]


def test_list_format_and_empty_list(pve_node: SimNode, create_ct) -> None:
    # pve-cli.md §2.2 list: nothing at all when there are no CTs.
    empty = pve_node.run(["pct", "list"])
    assert (empty.returncode, empty.stdout) == (0, "")
    create_ct(pve_node, 110)
    create_ct(pve_node, 105)
    pve_node.hold_lock(110, "backup")
    lines = pve_node.run(["pct", "list"]).stdout.splitlines()
    assert lines == [
        f"{'VMID':<10} {'Status':<10} {'Lock':<12} {'Name':<20}",
        f"{'105':<10} {'stopped':<10} {'':<12} {'ct105':<20}",
        f"{'110':<10} {'stopped':<10} {'backup':<12} {'ct110':<20}",
    ]


def test_config_sorted_without_digest_and_escaped_description(node: SimNode, create_ct) -> None:
    create_ct(node, 203, "--description", "web: 100%")
    lines = node.run(["pct", "config", "203"]).stdout.splitlines()
    keys = [line.split(":", 1)[0] for line in lines]
    assert keys == sorted(keys)
    assert "digest" not in keys
    assert "description: web%3A 100%25" in lines


def test_boolean_spellings_and_single_dash_options(node: SimNode, create_ct) -> None:
    create_ct(node, 204, "-onboot", "yes", "--protection", "OFF")
    assert "onboot: 1" in node.run(["pct", "config", "204"]).stdout
    assert node.run(["pct", "set", "204", "-onboot", "false"]).returncode == 0
    assert "onboot: 0" in node.run(["pct", "config", "204"]).stdout
    assert node.run(["pct", "set", "204", "--onboot=on"]).returncode == 0
    assert "onboot: 1" in node.run(["pct", "config", "204"]).stdout


def test_pending_on_running_ct(node: SimNode, create_ct) -> None:
    create_ct(node, 205)
    assert node.run(["pct", "start", "205"]).returncode == 0
    assert node.run(["pct", "set", "205", "--ostype", "ubuntu"]).returncode == 0
    pending = node.run(["pct", "pending", "205"]).stdout.splitlines()
    assert "cur ostype: debian" in pending
    assert "new ostype: ubuntu" in pending
    assert "ostype: ubuntu" in node.run(["pct", "config", "205"]).stdout.splitlines()
    assert "ostype: debian" in node.run(["pct", "config", "205", "--current"]).stdout.splitlines()


def test_missing_arguments_and_unknown_command(node: SimNode) -> None:
    proc = node.run(["pct", "status"])
    assert proc.returncode == 255
    assert proc.stderr.startswith("400 not enough arguments\n")
    proc = node.run(["pct", "frobnicate", "100"])
    assert proc.returncode == 255
    assert proc.stderr.startswith("unknown command 'pct frobnicate'")


def test_snapshot_errors(node: SimNode, create_ct) -> None:
    create_ct(node, 206)
    assert node.run(["pct", "snapshot", "206", "s1"]).returncode == 0
    dup = node.run(["pct", "snapshot", "206", "s1"])
    assert (dup.returncode, dup.stderr) == (255, "snapshot name 's1' already used\n")
    missing = node.run(["pct", "delsnapshot", "206", "nope"])
    assert (missing.returncode, missing.stderr) == (255, "snapshot 'nope' does not exist\n")
    assert node.run(["pct", "rollback", "206", "s1"]).returncode == 0
    assert node.run(["pct", "delsnapshot", "206", "s1"]).returncode == 0


def test_template_and_linked_clone(node: SimNode, create_ct) -> None:
    create_ct(node, 207)
    assert node.run(["pct", "template", "207"]).returncode == 0
    assert "template: 1" in node.run(["pct", "config", "207"]).stdout
    again = node.run(["pct", "template", "207"])
    assert again.stderr == "you can't convert a template to a template\n"
    start = node.run(["pct", "start", "207"])
    assert (start.returncode, start.stderr) == (255, "you can't start a CT if it's a template\n")
    clone = node.run(["pct", "clone", "207", "208", "--hostname", "copy"])
    assert clone.returncode == 0, clone.stderr
    assert clone.stdout.startswith("create linked clone of mount point rootfs (local-lvm:base-207")
    assert "hostname: copy" in node.run(["pct", "config", "208"]).stdout
