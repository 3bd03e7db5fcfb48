"""The README's main job: phoenix building the old tool's homelab on a simulated node.

With phoenix-hypervisor installed, the simulated node is bare (three blank disks, two GPUs, no
pools or storages): the demo runs ``phoenix setup --allow-destructive --allow-reboot`` once
(the operator's consent to make pools of the blank disks the configuration names, and to the
reboot that loads the NVIDIA driver the containers' GPUs need), then ``phoenix LetsGo``,
which confirms the host, builds all 15 guests on the storages setup made and starts them in
boot order; a second ``LetsGo`` changes nothing. Without it, the node is seeded with the
storages and templates the configuration names. With phoenix-lxc alone, the containers whose
dependency chain holds no VM are converged instead.

phoenix reaches the simulated node as ``--host sim:DIR``: its commands run the node's tools
and its files land in the node directory, so nothing here touches this machine's ``/etc``.
The configuration is copied next to the node, unchanged but for stand-ins for the homelab's
own scripts and a demo-only Samba password file (its bind-mount sources are the node's, so
they are in the node directory). The simulator reaches no network: the cloud image the VM
template is built from is served to it as a stand-in. Then status, every target's health
checks (nothing scripted), and the node stops.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pve_sim import conformance
from pve_sim.seed import with_local_snippets

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "contrib" / "examples" / "original-etc"
SEED = ROOT / "contrib" / "pve-sim" / "seeds" / "original-etc.json"
BARE = ROOT / "contrib" / "pve-sim" / "seeds" / "hypervisor-bare.json"
STAND_INS = Path(__file__).resolve().parent / "stand-ins"
BIN = Path(sys.executable).parent
GUESTS = ["900", "103", "101", "102"]
#: Seconds the simulated guest agent takes to answer after a VM starts (a real one: ~10-30 s).
AGENT_DELAY = "0.5"


def run(
    argv: list[str], env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    print(f"\n$ {' '.join(argv)}", flush=True)
    result = subprocess.run(argv, env=env, text=True, check=False)
    if check and result.returncode != 0:
        sys.exit(f"demo: `{' '.join(argv)}` exited {result.returncode}")
    return result


def prepare_config(directory: Path) -> Path:
    etc = directory / "etc"
    shutil.rmtree(etc, ignore_errors=True)
    shutil.copytree(EXAMPLE, etc)
    hypervisor = etc / "phoenix_hypervisor_config.json"
    data = json.loads(hypervisor.read_text())
    # The example's core_paths point at /usr/local/...; a moved directory names its files relatively.
    data["core_paths"].update(
        lxc_config_file="phoenix_lxc_configs.json", vm_config_file="phoenix_vm_configs.json"
    )
    hypervisor.write_text(json.dumps(data, indent=4))
    shutil.copytree(STAND_INS, etc, dirs_exist_ok=True)
    return etc


def containers(etc: Path, built: list[str]) -> list[str]:
    """The built containers that run, not templates. Their shipped checks need no scripted
    answers: the simulated containers answer ``ip``, ``getent`` and ``test -c`` from what
    Proxmox writes into a container at start (docs/pve-sim.md)."""
    configs = json.loads((etc / "phoenix_lxc_configs.json").read_text())["lxc_configs"]
    return [ct for ct in built if not configs[ct].get("is_template")]


def running(node: Path, env: dict[str, str], bare: bool) -> list[str]:
    """The guests running on the node (`pct list`, `qm list`), and the host when set up."""
    ids = []
    for tool in ("pct", "qm"):
        argv = [str(node / "bin" / tool), "list"]
        listing = subprocess.run(argv, env=env, capture_output=True, text=True).stdout
        ids += [row.split()[0] for row in listing.splitlines()[1:] if "running" in row.split()]
    return ["host", *ids] if bare else ids


def serve_cloud_images(node: Path, etc: Path) -> None:
    """Stand in for the internet: the simulator serves each VM template's cloud image at the
    URL phoenix-vm resolves for it, and the demo's Samba user gets a demo-only password."""
    from phoenix_vm.image import of

    from phoenix_core.config import load_config
    from phoenix_core.plugins import Plugins
    from pve_sim.protocol import request

    config = load_config(etc, Plugins().discover())
    for guest in config.guests.values():
        if guest.kind == "vm" and guest.spec.template_image:
            url = of(guest.spec, config).url
            request(node, {"op": "remote_file", "url": url, "content": b"qcow2 stand-in".hex()})
    password = etc / "phoenix_samba_password.conf"
    password.write_text("demo-only-password\n")
    password.chmod(0o600)


def mutating_since(journal: Path, offset: int) -> list[dict]:
    lines = journal.read_text().splitlines()[offset:] if journal.exists() else []
    return [entry for entry in map(json.loads, lines) if entry.get("mutating")]


#: The longest a synchronous `qm guest exec` may hold its SSH channel (qm's own default).
SYNC_EXEC_LIMIT = 30


def blocking_agent_execs(journal: Path) -> list[list[str]]:
    """`qm guest exec` calls a node would wait long on or refuse (qemu-server src/PVE/CLI/qm.pm
    `exec`): `--timeout 0` waits for the command without limit, a longer limit holds the
    call that long, and `--synchronous 0` refuses `--timeout`."""
    found = []
    for entry in map(json.loads, journal.read_text().splitlines()):
        argv = entry["argv"]
        if argv[1:3] != ["guest", "exec"]:
            continue
        head = argv[: argv.index("--")] if "--" in argv else argv
        options = dict(zip(head[4::2], head[5::2], strict=False))
        timeout = options.get("--timeout")
        if options.get("--synchronous") == "0":
            bad = timeout is not None
        else:
            bad = not (timeout or "").isdigit() or not 1 <= int(timeout) <= SYNC_EXEC_LIMIT
        if bad:
            found.append(argv)
    return found


def journal_length(journal: Path) -> int:
    return len(journal.read_text().splitlines()) if journal.exists() else 0


def managers(phoenix: list[str], env: dict[str, str]) -> set[str]:
    """The manager kinds the installed plugins provide."""
    listing = subprocess.run(
        [*phoenix, "plugins", "--output", "json"], env=env, capture_output=True, text=True
    )
    document = json.loads(listing.stdout) if listing.returncode == 0 else {}
    if document and document["schema"] != "phoenix/plugins/v1":
        sys.exit(f"demo: phoenix plugins printed {document['schema']}, expected phoenix/plugins/v1")
    plugins = document.get("plugins", [])
    return {m["kind"] for p in plugins if not p["error"] for m in p["managers"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=ROOT / ".demo", help="working directory")
    parser.add_argument("--keep", action="store_true", help="leave the simulated node running")
    args = parser.parse_args()
    directory = args.dir.resolve()
    node = directory / "node"
    env = dict(os.environ)
    phoenix = [str(BIN / "phoenix"), "--log-dir", str(directory / "logs"), "--host", f"sim:{node}"]
    kinds = managers(phoenix, env)
    bare = "hypervisor" in kinds and "vm" in kinds and "lxc" in kinds

    run([str(BIN / "pve-sim"), "down", "--dir", str(node)], env, check=False)
    # A fresh node each run, as the seed describes: a restarted node keeps its files but not
    # the host state held in memory (packages, the export table), nor a runfile cached for
    # the previous node.
    shutil.rmtree(node, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    # The bare node is a fresh install, untouched: no storage holds snippets until setup
    # makes the homelab's NFS storage, which phoenix-vm then uses for the vendor data. The
    # seeded homelab (no phoenix-hypervisor) has no NFS storage: there `local` holds them.
    seed = BARE if bare else with_local_snippets(SEED, directory)
    run([str(BIN / "pve-sim"), "up", "--dir", str(node), "--seed", str(seed)], env)
    try:
        sim_fault = [str(BIN / "pve-sim"), "fault", "--dir", str(node)]
        run([*sim_fault, "--agent-delay", AGENT_DELAY], env)
        etc = prepare_config(directory)
        phoenix += ["--config-dir", str(etc)]
        run([*phoenix, "config", "validate"], env)
        if "lxc" not in kinds:
            print("\nphoenix-lxc is not installed: showing the plan's inputs only.")
            run([*phoenix, "status"], env)
            return
        journal = node / "journal.jsonl"
        if bare:
            serve_cloud_images(node, etc)
            run([*phoenix, "setup", "--allow-destructive", "--allow-reboot"], env)
            run([*phoenix, "LetsGo"], env)
            mark = journal_length(journal)
            run([*phoenix, "LetsGo"], env)
            again = "LetsGo"
        else:
            # Every guest when the VM manager is installed too; else the VM-free chains.
            guests = [] if "vm" in kinds else GUESTS
            run([*phoenix, "plan", *guests], env)
            run([*phoenix, "converge", *guests], env)
            mark = journal_length(journal)
            run([*phoenix, "converge", *guests], env)
            again = "converge"
        changed = mutating_since(journal, mark)
        print(f"\nsecond {again}: {len(changed)} mutating commands on the node")
        blocking = blocking_agent_execs(journal)
        print(f"qm guest exec calls a node would block on or refuse: {len(blocking)}")
        run([*phoenix, "status"], env)
        # Every running target when the VM manager is installed (a guest the power policy
        # stops after its build is not running, so it is left out), nothing
        # scripted; else the VM-free chains' containers.
        ids = running(node, env, bare) if "vm" in kinds else containers(etc, GUESTS)
        run([*phoenix, "health-check", *ids], env)
        if changed:
            sys.exit(f"demo: the second {again} changed something; it must not")
        # Every command shape the demo sent must be in docs/pve-sim.md with its source.
        entries = map(json.loads, journal.read_text().splitlines())
        unlisted = conformance.unlisted(entries, conformance.documented())
        if unlisted:
            sys.exit("demo: command shapes without a source:\n" + "\n".join(unlisted))
        if blocking:
            sys.exit(f"demo: `{' '.join(blocking[0])}` would block or be refused on a node")
    finally:
        if not args.keep:
            run([str(BIN / "pve-sim"), "down", "--dir", str(node)], env, check=False)


if __name__ == "__main__":
    main()
