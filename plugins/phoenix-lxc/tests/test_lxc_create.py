# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""Issue 9: ``create`` does what the seed says, scripts rerun only for their own content, and
health checks run on the host; against the simulator seeded for the old configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lxc_support import (  # noqa: F401 - fixtures
    SEED,
    Cli,
    base_ct,
    cli,
    mutations,
    original,
    proxmox_tools,
    write_lxc,
)

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

#: Mutating commands of ``create 101`` on an empty node (the chain 900, 103, 101). When a change
#: elsewhere adds or removes one, the first test below says the new count to write here.
CREATE_101_MUTATIONS = 62
#: ``pct status`` calls of that create: a change that says what it leaves the guest as (a
#: create, a start, a config edit ...) is not followed by one (``Live.change``): 17 when only
#: the edits kept the status read before them.
CREATE_101_STATUS_READS = 11
#: The fault points run by default: 900's snapshot final-form (a clone source left unfinished,
#: the old "snapshot 'final-form' does not exist"), 103's clone (a missing dependency), 101's
#: clone (the target) and 101's build mark. PHOENIX_FAULT_SWEEP=1 runs every point (~15 s each).
SAMPLE = {11, 14, 36, 62}
SWEEP = os.environ.get("PHOENIX_FAULT_SWEEP") == "1"


def built(cli: Cli, etc: Path, *ids: str) -> dict[str, bool | None]:
    rows = json.loads(cli("--config-dir", str(etc), "status", *ids, "-o", "json").stdout)["targets"]
    return {str(r["id"]): r["build_complete"] for r in rows}


def test_a_clean_create_of_101_is_built_and_counted(cli: Cli, original: Path) -> None:
    node = cli.node
    assert built(cli, original, "900") == {"900": None}  # missing: nothing to say
    result = cli("--config-dir", str(original), "create", "101")
    assert result.exit_code == 0, result.output
    count = len(mutations(node.journal()))
    assert count == CREATE_101_MUTATIONS, f"set CREATE_101_MUTATIONS = {count}"
    reads = sum(e["argv"][:2] == ["pct", "status"] for e in node.journal())
    assert reads == CREATE_101_STATUS_READS, f"set CREATE_101_STATUS_READS = {reads}"
    assert built(cli, original, "900", "103", "101") == {"900": True, "103": True, "101": True}
    assert "phoenix-built-101" in node.run(["pct", "config", "101"]).stdout
    table = cli("--config-dir", str(original), "status", "101").stdout.splitlines()
    assert table[0].split()[-1] == "BUILT" and table[1].split()[-1] == "yes"


def fault_points() -> list[object]:
    """Every mutation of ``create 101``; those outside the sample are skipped when collected,
    so a skipped point starts no node."""
    skip = pytest.mark.skip(reason="one fault point of the full sweep: set PHOENIX_FAULT_SWEEP=1")
    return [
        pytest.param(nth, marks=() if SWEEP or nth in SAMPLE else skip)
        for nth in range(1, CREATE_101_MUTATIONS + 1)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("nth", fault_points())
def test_create_again_finishes_a_create_that_failed_at_any_mutation(
    nth: int, cli: Cli, original: Path
) -> None:
    node = cli.node
    # Not a lock error: phoenix rightly waits those out, and the fault would not show.
    node.fail_nth_mutation(nth, message="injected fault")
    first = cli("--config-dir", str(original), "create", "101")
    assert first.exit_code == 1, first.output
    assert "injected fault" in first.output
    node.clear_faults()
    again = cli("--config-dir", str(original), "create", "101")
    assert again.exit_code == 0, again.output
    assert built(cli, original, "900", "103", "101") == {"900": True, "103": True, "101": True}
    mark = node.mark()
    converge = cli("--config-dir", str(original), "converge", "101")
    assert converge.exit_code == 0, converge.output
    assert mutations(node.since(mark)) == []


def test_create_of_an_existing_target_repairs_it_and_leaves_built_dependencies_alone(
    cli: Cli, original: Path
) -> None:
    node = cli.node
    assert cli("--config-dir", str(original), "create", "103").exit_code == 0
    node.run(["pct", "set", "900", "--memory", "512"], check=True)
    node.run(["pct", "set", "103", "--cores", "1"], check=True)
    mark = node.mark()
    result = cli.json("--config-dir", str(original), "create", "103")
    assert [(o["id"], o["status"]) for o in result["outcomes"]] == [
        (900, "exists"),
        (103, "changed"),
    ]
    assert mutations(node.since(mark)) == [["pct", "set", "103", "--cores", "2"]]


def test_a_memory_change_reruns_no_script(cli: Cli, original: Path) -> None:
    node = cli.node
    assert cli("--config-dir", str(original), "converge", "102").exit_code == 0
    path = original / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"]["102"]["memory_mb"] = 3072
    path.write_text(json.dumps(data, indent=2))

    plan = cli.json("--config-dir", str(original), "plan", "102")
    assert [c["what"] for o in plan["outcomes"] for c in o["changes"]] == ["memory"]
    asked = cli.json("--config-dir", str(original), "plan", "102", "--rerun-features", "traefik")
    assert [c["what"] for o in asked["outcomes"] for c in o["changes"]] == [
        "memory",
        "feature traefik",
    ]
    mark = node.mark()
    assert cli("--config-dir", str(original), "converge", "102").exit_code == 0
    assert mutations(node.since(mark)) == [["pct", "set", "102", "--memory", "3072"]]

    mark = node.mark()
    result = cli("--config-dir", str(original), "converge", "102", "--rerun-features", "traefik")
    assert result.exit_code == 0, result.output
    pushed = [a[4] for a in mutations(node.since(mark)) if a[1] == "push"]
    assert "/var/lib/phoenix/run/traefik.sh" in pushed
    assert "/var/lib/phoenix/run/base_setup.sh" not in pushed


def test_the_health_check_runs_on_the_host_with_the_guest_id(
    cli: Cli, original: Path, tmp_path: Path
) -> None:
    seen = tmp_path / "check-args"
    (original / "health_checks" / "check_step_ca.sh").write_text(
        f'#!/bin/bash\necho "$@" > {seen}\npct status "$1" | grep -q running\n'
    )
    result = cli("--config-dir", str(original), "converge", "103")
    assert result.exit_code == 0, result.output
    assert seen.read_text() == "103\n"
    inside = [e["argv"] for e in cli.node.journal() if e["argv"][:2] == ["pct", "exec"]]
    assert not any("check_step_ca.sh" in " ".join(argv) for argv in inside)

    (original / "health_checks" / "check_step_ca.sh").unlink()
    plan = cli("--config-dir", str(original), "plan", "103")
    assert plan.exit_code == 1
    assert "health-check script 'check_step_ca.sh' not found" in plan.output


TEMPLATE_FILE = "ubuntu-24.04-standard_24.04-2_amd64.tar.zst"


def templates_read(entries: list[dict[str, object]]) -> list[list[str]]:
    return [argv for argv in proxmox_tools(entries) if argv[0] == "pveam"]


def test_a_template_on_its_storage_is_found_by_its_file_with_no_listing(
    cli: Cli, tmp_path: Path
) -> None:
    """The seeded template is a file of fastData-shared-iso's template/cache: a stat finds it,
    where ``pveam list`` cost a Perl start-up per run and storage."""
    etc = write_lxc(
        tmp_path / "etc", {"245": base_ct("ct245", "10.0.5.45/24", "52:54:00:00:05:45")}
    )
    mark = cli.node.mark()
    plan = cli.json("--config-dir", str(etc), "plan", "245")
    planned = [c["what"] for o in plan["outcomes"] for c in o["changes"]]
    assert "container" in planned and "template" not in planned
    assert templates_read(cli.node.since(mark)) == []  # the dry run states the file too
    result = cli("--config-dir", str(etc), "create", "245")
    assert result.exit_code == 0, result.output
    tools = proxmox_tools(cli.node.since(mark))
    assert templates_read(cli.node.since(mark)) == []
    assert ["pvesm", "status"] in tools and any(argv[:2] == ["pct", "create"] for argv in tools)


def test_a_missing_template_is_not_downloaded_when_download_template_is_false(
    cli: Cli, tmp_path: Path
) -> None:
    """Its file gone, ``pveam list`` (the truth then) says it is missing, and plan names it."""
    volid = f"fastData-shared-iso:vztmpl/{TEMPLATE_FILE}"
    cli.node.run(["pvesm", "free", volid], check=True)
    guest = base_ct("ct246", "10.0.5.46/24", "52:54:00:00:05:46", download_template=False)
    etc = write_lxc(tmp_path / "etc", {"246": guest})
    mark = cli.node.mark()
    plan = cli("--config-dir", str(etc), "plan", "246")
    assert plan.exit_code == 1
    assert f"CT 246: template {volid} is not on storage fastData-shared-iso and " in plan.output
    assert templates_read(cli.node.since(mark)) == [["pveam", "list", "fastData-shared-iso"]]
    assert mutations(cli.node.since(mark)) == []


def test_a_storage_with_content_dirs_is_looked_at_where_it_keeps_templates(
    cli: Cli, tmp_path: Path
) -> None:
    """pve-storage Plugin.pm get_subdir: ``content-dirs vztmpl=ct`` puts templates in
    ``<path>/ct``, not ``<path>/template/cache``; the stat looks there."""
    add = ["pvesm", "add", "dir", "tpl", "--path", "/srv/tpl", "--content", "vztmpl"]
    cli.node.run([*add, "--content-dirs", "vztmpl=ct"], check=True)
    cli.node.run(["pveam", "download", "tpl", TEMPLATE_FILE], check=True)
    guest = base_ct("ct247", "10.0.5.47/24", "52:54:00:00:05:47", template_storage="tpl")
    guest["template"] = TEMPLATE_FILE
    etc = write_lxc(tmp_path / "etc", {"247": guest})
    mark = cli.node.mark()
    result = cli("--config-dir", str(etc), "create", "247")
    assert result.exit_code == 0, result.output
    assert templates_read(cli.node.since(mark)) == []
    created = [
        argv[:4] for argv in mutations(cli.node.since(mark)) if argv[:2] == ["pct", "create"]
    ]
    assert created == [["pct", "create", "247", f"tpl:vztmpl/{TEMPLATE_FILE}"]]
