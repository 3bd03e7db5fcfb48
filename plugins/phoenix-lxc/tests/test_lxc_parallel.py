# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""Parallel runs against the simulator, judged from its journal (start and duration of every
command): clones of one source never overlap, no guest has two mutating commands at once,
LetsGo starts in boot order with the delays, and two phoenix runs on one node never
interleave."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from lxc_support import SEED, Cli, base_ct, cli, write_lxc  # noqa: F401

from pve_sim import journal

pytestmark = pytest.mark.pve_sim(seed=str(SEED))
#: The OS template every container of base_ct is created from, as the seed holds it.
TEMPLATE = "fastData-shared-iso:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"


def _clone(ident: int, source: int, **extra: Any) -> dict[str, Any]:
    config = base_ct(f"c{ident}", f"10.0.5.{ident % 250}/24", f"52:54:00:00:05:{ident % 250:02x}")
    del config["template"]
    return {**config, "clone_from_ctid": source, **extra}


def test_clones_of_one_source_never_overlap_and_a_guest_never_has_two_changes_at_once(
    cli: Cli, tmp_path: Path
) -> None:
    """Also what creating them reads (issue 19): the pools and the template's storage once
    for the run, not per container; the template, missing, downloaded once and seen by the
    other four containers created from it."""
    cli.node.run(["pvesm", "free", TEMPLATE], check=True)
    start = cli.node.mark()
    guests = {
        "930": base_ct("tpl", "10.0.5.30/24", "52:54:00:00:05:30", is_template=True),
        **{str(i): _clone(i, 930) for i in range(931, 935)},
        **{
            str(i): base_ct(f"ct{i}", f"10.0.5.{i - 200}/24", f"52:54:00:00:05:{i - 200:02x}")
            for i in range(240, 244)
        },
    }
    etc = write_lxc(tmp_path / "etc", guests)
    cli.node.set_latency(0.3)
    run = cli.subprocess("--config-dir", str(etc), "converge", "--jobs", "8")
    assert run.returncode == 0, run.stdout + run.stderr
    records = cli.node.journal()
    clones = [r for r in records if r["argv"][:2] == ["pct", "clone"]]
    assert len(clones) == 4
    assert journal.clone_overlaps(records) == []
    assert journal.guest_overlaps(records) == []
    # It did run in parallel: independent creates overlapped.
    creates = [r for r in records if r["argv"][:2] == ["pct", "create"]]
    assert journal.overlapping(creates)
    assert [r["argv"][3] for r in creates] == [TEMPLATE] * 5
    reads = [r["argv"] for r in cli.node.since(start) if r["argv"][0] in ("pvesm", "pveam")]
    assert sorted(reads) == [
        ["pveam", "download", "fastData-shared-iso", TEMPLATE.split("/")[-1]],
        ["pveam", "list", "fastData-shared-iso"],
        ["pvesm", "status"],
    ]
    mark = cli.node.mark()
    again = cli.subprocess("--config-dir", str(etc), "converge", "--jobs", "8")
    assert again.returncode == 0 and not [e for e in cli.node.since(mark) if e["mutating"]]


def test_letsgo_starts_in_boot_order_with_the_delays_also_while_provisioning(
    cli: Cli, tmp_path: Path
) -> None:
    """Features run inside a container, so it is started while it is built: in its turn."""
    feature = {"features": ["demo_feature"]}
    guests = {
        "950": base_ct("late", "10.0.5.50/24", "52:54:00:00:05:50", boot_order=3, **feature),
        "951": base_ct("first", "10.0.5.51/24", "52:54:00:00:05:51", boot_order=1, boot_delay=2),
        "952": base_ct("second", "10.0.5.52/24", "52:54:00:00:05:52", boot_order=2, **feature),
        # 953 is needed by 951 at run time: it boots with 951's group, before it.
        "953": base_ct("db", "10.0.5.53/24", "52:54:00:00:05:53", boot_order=5),
    }
    guests["951"]["dependencies"] = [953]
    etc = write_lxc(tmp_path / "etc", guests)
    (etc / "features" / "lxc").mkdir(parents=True)
    (etc / "features" / "lxc" / "demo_feature.sh").write_text("#!/bin/bash\necho feature\n")
    run = cli.subprocess("--config-dir", str(etc), "LetsGo", "--jobs", "4")
    assert run.returncode == 0, run.stdout + run.stderr
    starts = {
        int(r["argv"][2]): r["ts"] for r in cli.node.journal() if r["argv"][:2] == ["pct", "start"]
    }
    assert sorted(starts, key=starts.__getitem__) == [953, 951, 952, 950]
    # 951's boot_delay of 2 s holds back group 2; 952 was built (and run) meanwhile.
    assert starts[952] - starts[951] >= 2.0
    assert starts[950] >= starts[952]


def test_a_second_run_against_the_node_refuses_or_waits_and_never_interleaves(
    cli: Cli, tmp_path: Path
) -> None:
    guests = {
        str(i): base_ct(f"ct{i}", f"10.0.5.{i - 700}/24", f"52:54:00:00:05:{i - 700:02x}")
        for i in range(760, 763)
    }
    etc = write_lxc(tmp_path / "etc", guests)
    other = write_lxc(
        tmp_path / "other",
        {"770": base_ct("ct770", "10.0.5.70/24", "52:54:00:00:05:70")},
    )
    cli.node.set_latency(0.5)
    first = cli.popen("--config-dir", str(etc), "converge", "--jobs", "1")
    deadline = time.monotonic() + 30
    while not cli.node.journal():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    refused = cli.subprocess("--config-dir", str(other), "converge")
    assert refused.returncode == 2, refused.stderr
    assert f"node {cli.node.host} is busy: phoenix converge (run " in refused.stderr
    assert "wait for it with --wait-lock SECONDS" in refused.stderr
    waited = cli.subprocess("--config-dir", str(other), "converge", "--wait-lock", "120")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert waited.returncode == 0, waited.stdout + waited.stderr
    # The waiting run's changes all came after the first run's last one.
    changes = [r for r in cli.node.journal() if r["mutating"]]
    owners = ["770" in r["argv"] for r in changes]
    assert owners == sorted(owners), [r["argv"][:3] for r in changes]
