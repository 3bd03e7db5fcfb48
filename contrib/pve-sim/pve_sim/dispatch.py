"""Run one simulated command line: pick the tool and verb, apply faults, journal the outcome."""

from __future__ import annotations

import asyncio
import logging
import re
import time

from . import (
    clusterfiles,
    cmddef,
    conffile,
    fwfile,
    getopts,
    journal,
    pmxcfs,
    storagefiles,
    tool_host,
    tool_misc,
    tool_pct,
    tool_pvesh,
    tool_pvesm,
    tool_pveum,
    tool_qm,
    tool_runfile,
    tool_zfs,
)
from .argv import Args, UsageError, parse
from .common import Verb
from .node import Node
from .result import CliError, Result

log = logging.getLogger("pve_sim")

TOOLS: dict[str, dict[str, Verb]] = {
    "pct": tool_pct.VERBS,
    "qm": tool_qm.VERBS,
    "pvesm": tool_pvesm.VERBS,
    "pvesh": tool_pvesh.VERBS,
    "pveam": tool_misc.PVEAM,
    "pveversion": tool_misc.PVEVERSION,
    "pveum": tool_pveum.VERBS,
    "zpool": tool_zfs.ZPOOL,
    "zfs": tool_zfs.ZFS,
    "blkid": tool_zfs.BLKID,
    "apt-get": tool_host.APT_GET,
    "dpkg-query": tool_host.DPKG_QUERY,
    "systemctl": tool_host.SYSTEMCTL,
    "systemd-run": tool_host.SYSTEMD_RUN,
    "exportfs": tool_host.EXPORTFS,
    "getent": tool_host.GETENT,
    "useradd": tool_host.USERADD,
    "usermod": tool_host.USERMOD,
    "smbpasswd": tool_host.SMBPASSWD,
    "pdbedit": tool_host.PDBEDIT,
    "lspci": tool_host.LSPCI,
    "nvidia-smi": tool_host.NVIDIA_SMI,
    "modinfo": tool_host.MODINFO,
    "update-initramfs": tool_host.UPDATE_INITRAMFS,
    "update-grub": tool_host.UPDATE_GRUB,
    "apparmor_parser": tool_host.APPARMOR_PARSER,
    "visudo": tool_host.VISUDO,
    "tee": tool_host.TEE,
    "pve-firewall": tool_host.PVE_FIREWALL,
    "testparm": tool_host.TESTPARM,
    "timedatectl": tool_host.TIMEDATECTL,
    "curl": tool_runfile.CURL,
}
JOURNAL_TEXT_LIMIT = 65536
#: A guest's API path (``pvesh set /nodes/localhost/lxc/101/firewall/options``): the guest
#: whose files a pvesh write may change.
GUEST_PATH = re.compile(r"^/?nodes/[^/]+/(?:lxc|qemu)/(\d+)(?:/|$)")
CLUSTER_FIREWALL = re.compile(r"^/?cluster/firewall(?:/|$)")


def _lookup(argv: list[str]) -> tuple[str, Verb, list[str]]:
    """The verb name, its table entry and the remaining arguments."""
    tool = argv[0]
    verbs = TOOLS.get(tool)
    if verbs is None and tool_runfile.RUNFILE.match(tool):
        verbs = tool_runfile.RUNFILE_VERBS
    if verbs is None:
        raise CliError(f"pve-sim: unknown tool '{tool}'")
    if "" in verbs:  # tools without subcommands (pveversion)
        return "", verbs[""], argv[1:]
    rest = argv[1:]
    name = rest[0] if rest else ""
    # Two-word verbs: qm guest exec|cmd, qm disk import, qm cloudinit update|dump.
    if len(rest) > 1 and f"{rest[0]} {rest[1]}" in verbs:
        return f"{rest[0]} {rest[1]}", verbs[f"{rest[0]} {rest[1]}"], rest[2:]
    if name not in verbs:
        shown = f"{tool} {name}".strip()
        raise CliError(f"unknown command '{shown}'\nUSAGE: {tool} <COMMAND> [ARGS] [OPTIONS]")
    return name, verbs[name], rest[1:]


def _mutation_fault(node: Node, tool: str, args_pos: list[str], message: str | None) -> CliError:
    if message:
        return CliError(message)
    vmid = args_pos[0] if args_pos and args_pos[0].isdigit() else "0"
    if tool == "qm":
        return CliError(f"can't lock file '/var/lock/qemu-server/lock-{vmid}.conf' - got timeout")
    return CliError(f"can't lock file '/run/lock/lxc/pve-config-{vmid}.lock' - got timeout")


def _parse_warnings(node: Node, argv: list[str], args_pos: list[str]) -> str:
    """What pct prints while loading the configs it reads (PVE::LXC::Config parse_pct_config)."""
    if argv[0] != "pct":
        return ""
    if argv[1:2] == ["list"]:
        vmids = sorted(g.vmid for g in node.pve.vms if g.node == node.name)
    else:
        vmids = [int(args_pos[0])] if args_pos and args_pos[0].isdigit() else []
    return "".join(
        conffile.parse_warnings(node.conf_path(vmid, "lxc"), vmid)
        for vmid in vmids
        if node.guest(vmid) is not None and node.kind(node.guest(vmid)) == "lxc"
    )


def _guests_written(tool: str, positional: list[str]) -> list[int]:
    """The guests whose conf and firewall files a mutating command may have changed."""
    if tool == "pvesh":
        match = GUEST_PATH.match(positional[0]) if positional else None
        return [int(match[1])] if match else []
    return [int(token) for token in positional[:2] if token.isdigit()]


async def run(node: Node, argv: list[str], cwd: str, stdin: str | None = None) -> Result:
    """Execute argv (argv[0] is the tool name) against node and append its journal line."""
    started = time.time()
    mutating = False
    verb_name = ""
    warnings = ""
    start_up = node.faults.start_up(argv[0])
    if start_up:
        # Before anything else, as Perl compiles the PVE modules before reading its arguments;
        # awaited, so concurrent commands pay it side by side as separate processes would.
        await asyncio.sleep(start_up)
    try:
        pmxcfs.check(node.pve_etc)
        verb_name, verb, rest = _lookup(argv)
        mutating = verb.mutating or (tool_pvesh.is_write(argv) if argv[0] == "pvesh" else False)
        if verb.mutates is not None:
            mutating = verb.mutates(argv)
        spec = cmddef.spec(argv[0], verb_name, rest)
        if spec is not None:
            args = getopts.parse(spec, rest, node.name)
        else:
            args = Args(positional=list(rest)) if verb.raw else parse(rest)
        args.cwd, args.stdin, args.tool = cwd, stdin, argv[0]
        if len(args.positional) < len(verb.positional):
            usage = verb.usage or f"{argv[0]} {verb_name} " + " ".join(
                f"<{p}>" for p in verb.positional
            )
            raise CliError(f"400 not enough arguments\n{usage} [OPTIONS]")
        warnings = _parse_warnings(node, argv, args.positional)
        if mutating:
            fault = node.faults.next_mutation()
            if fault is not None:
                raise _mutation_fault(node, argv[0], args.positional, fault.message)
        result = await verb.handler(node, args)
        if mutating:
            for vmid in _guests_written(argv[0], args.positional):
                node.sync(vmid)
            if argv[0] == "pvesh" and CLUSTER_FIREWALL.match(args.positional[0]):
                fwfile.write_cluster(node.pve_etc, node.pve.firewall_config("cluster"))
            clusterfiles.write_all(node)
            storagefiles.sync(node)
    except UsageError as exc:
        result = Result(255, "", str(exc))
    except CliError as exc:
        result = Result(exc.rc, exc.stdout, exc.message)
    except Exception as exc:
        log.exception("internal error running %s", argv)
        result = Result(255, "", f"pve-sim internal error: {exc!r}\n")
    result.stderr = warnings + result.stderr
    journal.append(
        node.sim_dir,
        {
            "argv": list(argv),
            "verb": verb_name,
            "rc": result.rc,
            "mutating": mutating,
            "ts": started,
            "duration": round(time.time() - started, 4),
            "cwd": cwd,
            "stdout": result.stdout[:JOURNAL_TEXT_LIMIT],
            "stderr": result.stderr[:JOURNAL_TEXT_LIMIT],
        },
    )
    return result
