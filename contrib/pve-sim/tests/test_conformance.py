"""The conformance table of docs/pve-sim.md: well formed, every row citing what was read, and
the shapes computed from journal lines the way the table lists them.

Whether the commands phoenix sends are all listed is checked on journals the suite already
makes (phoenix-hypervisor `test_hv_acceptance.py` for `phoenix setup`, phoenix-vm
`test_vm_acceptance.py` for all 15 guests) and by `make demo`, so no demo runs here.
"""

from __future__ import annotations

import re

from pve_sim import conformance

TABLE = conformance.documented()
#: A row cites `owner/repository` and a backticked file, or says it rests on a field report.
CITATION = re.compile(r"^([\w.-]+/[\w.-]+ .*`[^`]+`|initramfs-tools `[^`]+`|field: .+)")


def entry(*argv: str, verb: str = "") -> dict[str, object]:
    return {"argv": list(argv), "verb": verb}


def test_every_row_cites_a_source() -> None:
    assert len(TABLE) > 80
    uncited = [key for key, row in TABLE.items() if not CITATION.match(row.source)]
    assert uncited == []


def test_proxmox_rows_name_the_cmddef_or_the_api_method() -> None:
    for (tool, _), row in TABLE.items():
        if tool in ("pct", "qm", "pvesm", "pveum", "pveam", "pvesh"):
            assert row.source.startswith("proxmox/"), row


def test_shape_folds_numbered_options_and_ignores_the_guest_command() -> None:
    shape = conformance.shape(
        entry("pct", "exec", "101", "--", "ip", "-o", "-4", "addr", verb="exec")
    )
    assert shape == conformance.Shape("pct", "exec", frozenset())
    shape = conformance.shape(entry("pct", "set", "101", "--mp0", "/a,mp=/b", verb="set"))
    assert shape.options == {"--mpN"}
    shape = conformance.shape(
        entry("qm", "guest", "exec", "9", "--timeout", "30", verb="guest exec")
    )
    assert (shape.command, shape.options) == ("guest exec", {"--timeout"})


def test_pvesh_paths_are_api_templates() -> None:
    shape = conformance.shape(
        entry(
            "pvesh", "set", "/nodes/localhost/lxc/101/firewall/rules/0", "--moveto", "2", verb="set"
        )
    )
    assert shape.command == "set /nodes/{node}/lxc/{vmid}/firewall/rules/{pos}"
    assert ("pvesh", shape.command) in TABLE


def test_host_tools_take_their_subcommand() -> None:
    assert conformance.shape(entry("zfs", "get", "-H", "-p", "-o", "name", "x")).command == "get"
    assert conformance.shape(entry("getent", "passwd", "heads")).command == "passwd"
    runfile = conformance.shape(entry("NVIDIA-Linux-x86_64-1.2.3.run", "--silent"))
    assert runfile.tool == "NVIDIA-Linux-x86_64-<version>.run"


def test_an_unlisted_option_or_command_names_what_to_add() -> None:
    entries = [
        entry("qm", "start", "9", "--timeout", "60", verb="start"),
        entry("sudo", "-n", "true"),
        entry("pct", "status", "101", verb="status"),
    ]
    assert conformance.unlisted(entries, TABLE) == [
        "docs/pve-sim.md conformance table: add `--timeout` to the options of the row "
        "| `qm` | `start` |",
        "docs/pve-sim.md conformance table: add the row | `sudo` | `` | `-n` | <repository "
        "`file` function, as read> |",
    ]
