"""Locks, faults, exec scripting, push/pull and raw lxc.* lines (pve-cli.md §2.1, §2.2, §4)."""

from __future__ import annotations

import subprocess
import time

from pve_sim.fixture import SimNode


def test_clone_holds_disk_lock_on_source(node: SimNode, create_ct) -> None:
    # pve-cli.md §2.2 clone / §4: the source CT carries `lock: disk` for the whole clone and
    # any other operation on it fails at once with `CT is locked (disk)`.
    create_ct(node, 300)
    node.set_latency(1.0)
    try:
        clone = subprocess.Popen(
            ["pct", "clone", "300", "301"],
            env=node.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 5
        while "lock: disk" not in node.run(["pct", "config", "300"]).stdout:
            assert time.monotonic() < deadline, "source never showed lock: disk"
            time.sleep(0.05)
        busy = node.run(["pct", "set", "300", "--memory", "256"])
        assert (busy.returncode, busy.stderr) == (255, "CT is locked (disk)\n")
        second = node.run(["pct", "clone", "300", "302"])
        assert (second.returncode, second.stderr) == (255, "CT is locked (disk)\n")
        out, err = clone.communicate(timeout=10)
        assert clone.returncode == 0, err
        assert "create full clone of mountpoint rootfs (local-lvm:vm-300-disk-0)" in out
    finally:
        node.set_latency(0)
    assert "lock:" not in node.run(["pct", "config", "300"]).stdout
    assert node.run(["pct", "status", "301"]).stdout == "status: stopped\n"


def test_held_lock_and_unlock(node: SimNode, create_ct) -> None:
    create_ct(node, 303)
    node.hold_lock(303, "backup")
    assert "lock: backup" in node.conf(303).read_text()
    start = node.run(["pct", "set", "303", "--cores", "2"])
    assert (start.returncode, start.stderr) == (255, "CT is locked (backup)\n")
    assert node.run(["pct", "unlock", "303"]).returncode == 0
    assert node.run(["pct", "set", "303", "--cores", "2"]).returncode == 0
    node.hold_lock(303, "snapshot")
    node.release_lock(303)
    assert "lock:" not in node.run(["pct", "config", "303"]).stdout


def test_config_flock_timeout(node: SimNode, create_ct) -> None:
    # pve-cli.md §2.1 lock contention text.
    create_ct(node, 304)
    node.hold_flock(304)
    try:
        busy = node.run(["pct", "start", "304"])
        assert busy.returncode == 255
        assert busy.stderr == "can't lock file '/run/lock/lxc/pve-config-304.lock' - got timeout\n"
    finally:
        node.release_flock(304)
    assert node.run(["pct", "start", "304"]).returncode == 0


def test_fail_nth_mutation(node: SimNode, create_ct) -> None:
    create_ct(node, 305)
    node.fail_nth_mutation(2)
    assert node.run(["pct", "set", "305", "--cores", "2"]).returncode == 0
    assert node.run(["pct", "config", "305"]).returncode == 0  # reads are not counted
    failed = node.run(["pct", "set", "305", "--cores", "3"])
    assert failed.returncode == 255
    assert failed.stderr == "can't lock file '/run/lock/lxc/pve-config-305.lock' - got timeout\n"
    assert "cores: 2" in node.run(["pct", "config", "305"]).stdout
    assert node.run(["pct", "set", "305", "--cores", "3"]).returncode == 0
    node.fail_nth_mutation(1, "boom")
    assert node.run(["pct", "start", "305"]).stderr == "boom\n"
    assert node.journal()[-1]["rc"] == 255


def test_tool_cost_charges_proxmox_tools_only(node: SimNode, create_ct) -> None:
    # Every Proxmox tool is a Perl script (faults.PROXMOX_TOOLS cites them): its start-up is
    # paid per invocation; a host tool and a file read under /etc/pve pay nothing.
    create_ct(node, 319)

    def timed(action) -> float:
        began = time.monotonic()
        action()
        return time.monotonic() - began

    node.set_tool_cost(0.5)
    try:
        for argv in (["pct", "config", "319"], ["pvesh", "get", "/version"], ["pveversion"]):
            assert timed(lambda argv=argv: node.run(argv)) >= 0.5, argv
        assert timed(lambda: node.run(["zpool", "list"])) < 0.5
        assert timed(lambda: node.conf(319).read_text()) < 0.5
        assert node.journal()[-1]["argv"] == ["zpool", "list"]
        assert [e["duration"] >= 0.5 for e in node.journal()[-4:]] == [True, True, True, False]
    finally:
        node.clear_faults()
    assert timed(lambda: node.run(["pct", "config", "319"])) < 0.5


def test_exec_default_scripted_and_stopped(node: SimNode, create_ct) -> None:
    create_ct(node, 306)
    stopped = node.run(["pct", "exec", "306", "--", "true"])
    assert (stopped.returncode, stopped.stderr) == (255, "container '306' not running!\n")
    assert node.run(["pct", "start", "306"]).returncode == 0
    plain = node.run(["pct", "exec", "306", "--", "apt-get", "update"])
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "", "")
    node.script_exec(306, r"^systemctl is-active nginx$", rc=3, stdout="inactive\n", stderr="x\n")
    scripted = node.run(["pct", "exec", "306", "--", "systemctl", "is-active", "nginx"])
    assert (scripted.returncode, scripted.stdout, scripted.stderr) == (3, "inactive\n", "x\n")
    node.script_exec(None, "hostname", stdout="any\n", times=1)
    assert node.run(["pct", "exec", "306", "--", "hostname"]).stdout == "any\n"
    assert node.run(["pct", "exec", "306", "--", "hostname"]).stdout == ""
    assert node.journal()[-1]["mutating"] is False


def test_push_and_pull(node: SimNode, tmp_path, create_ct) -> None:
    create_ct(node, 307)
    src = tmp_path / "motd"
    src.write_text("hello\n")
    refused = node.run(["pct", "push", "307", str(src), "/etc/motd"])
    assert (refused.returncode, refused.stderr) == (255, "can only push files to a running CT\n")
    assert node.run(["pct", "start", "307"]).returncode == 0
    pushed = node.run(["pct", "push", "307", "motd", "/etc/motd", "--perms", "0600"], cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    assert node.guest_path(307, "/etc/motd").stat().st_mode & 0o777 == 0o600
    assert node.run(["pct", "exec", "307", "--", "cat", "/etc/motd"]).stdout == "hello\n"
    assert node.run(["pct", "exec", "307", "--", "test", "-f", "/etc/motd"]).returncode == 0
    assert node.run(["pct", "exec", "307", "--", "test", "-f", "/etc/nope"]).returncode == 1
    back = tmp_path / "back"
    assert node.run(["pct", "pull", "307", "/etc/motd", str(back)]).returncode == 0
    assert back.read_text() == "hello\n"
    # An in-task failure of push exits 0 with the message on stderr (pve-cli.md §2.2).
    missing = node.run(["pct", "push", "307", str(tmp_path / "nope"), "/x"])
    assert missing.returncode == 0
    assert missing.stderr.startswith("failed to open ")


def test_raw_lxc_lines_round_trip_through_conf_file(node: SimNode, create_ct) -> None:
    create_ct(node, 308)
    conf = node.conf(308)
    assert conf == node.pve_etc / "lxc" / "308.conf"
    raw = [
        "lxc.cgroup2.devices.allow: c 195:* rwm",
        "lxc.cgroup2.devices.allow: c 509:* rwm",
        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file",
    ]
    conf.write_text(conf.read_text() + "\n".join(raw) + "\n")
    lines = node.run(["pct", "config", "308"]).stdout.splitlines()
    assert lines[-3:] == raw  # raw lines last, in file order, repeatable
    assert node.run(["pct", "set", "308", "--memory", "768"]).returncode == 0
    text = conf.read_text()
    assert "memory: 768" in text
    assert text.splitlines()[-3:] == raw
    assert node.run(["pct", "start", "308"]).returncode == 0
    assert node.run(["pct", "config", "308"]).stdout.splitlines()[-3:] == raw
    assert node.run(["pct", "stop", "308"]).returncode == 0
    # snapshot keeps the lines in its section; rollback restores them.
    assert node.run(["pct", "snapshot", "308", "gpu"]).returncode == 0
    main, _, snapshots = conf.read_text().partition("\n[")
    main = "\n".join(line for line in main.splitlines() if not line.startswith("lxc."))
    conf.write_text(main + "\n\n[" + snapshots)
    assert node.run(["pct", "config", "308"]).stdout.count("lxc.") == 0
    assert node.run(["pct", "config", "308", "--snapshot", "gpu"]).stdout.splitlines()[-3:] == raw
    assert node.run(["pct", "rollback", "308", "gpu"]).returncode == 0
    assert node.run(["pct", "config", "308"]).stdout.splitlines()[-3:] == raw
    # a clone copies them.
    assert node.run(["pct", "clone", "308", "309"]).returncode == 0
    assert node.conf(309).read_text().splitlines()[-3:] == raw
    # the API refuses them, as on a real node.
    refused = node.run(["pct", "set", "308", "--lxc.apparmor.profile", "unconfined"])
    assert refused.returncode == 255
    # pve-common JSONSchema.pm get_options: Getopt::Long refuses an option the schema lacks.
    assert refused.stderr.splitlines()[:2] == [
        "Unknown option: lxc.apparmor.profile",
        "400 unable to parse option",
    ]
