"""`curl -fsSL -o FILE URL` for NVIDIA's driver runfile, and the runfile itself.

The downloaded file is an executable that installs the driver when run (as NVIDIA's
`NVIDIA-Linux-x86_64-<version>.run` does): here a copy of the simulator's own shim, so running
it reaches this node under its file name. Its bytes are fixed per node, so a checksum check
on them is real.
"""

from __future__ import annotations

import os
import re
import shutil

from .argv import Args
from .common import Verb
from .node import Node
from .result import CliError, Result
from .tool_zfs import _options

RUNFILE = re.compile(r"^NVIDIA-Linux-x86_64-(\d+(?:\.\d+)+)\.run$")
NVIDIA_URL = re.compile(r"^https://[a-z0-9.]*nvidia\.com/.*/(NVIDIA-Linux-x86_64-[\d.]+\.run)$")
#: What NVIDIA's installer needs to build its kernel module (its "Unable to find the kernel
#: source tree" and "unable to find a suitable compiler" errors otherwise).
BUILD_NEEDS = (("proxmox-default-headers", "pve-headers"), ("build-essential",))


async def curl(node: Node, args: Args) -> Result:
    opts, urls = _options(args.positional, "fsSLk", "o")
    if not urls or "o" not in opts:
        raise CliError("curl: the simulator only downloads with -o FILE URL", rc=2)
    found = NVIDIA_URL.match(urls[-1])
    if found is None:
        # curl's exit 6 "Could not resolve host": the simulated node has no network.
        return Result(6, "", f"curl: (6) Could not resolve host: {urls[-1]}\n")
    target = opts["o"][-1]
    try:
        shutil.copyfile(node.sim_dir / "bin" / "pct", target)
        os.chmod(target, 0o755)
    except OSError as exc:
        return Result(23, "", f"curl: (23) Failure writing output to destination: {exc}\n")
    return Result()


async def runfile(node: Node, args: Args) -> Result:
    """`NVIDIA-Linux-x86_64-V.run --silent ...`: installs the module on disk; it loads at boot."""
    state = node.host
    version = RUNFILE.match(args.tool)[1]  # type: ignore[index]
    if "--silent" not in args.positional and "-s" not in args.positional:
        raise CliError("ERROR: the simulator runs the NVIDIA installer with --silent only", 1)
    for choices in BUILD_NEEDS:
        if not any(p in state.packages for p in choices):
            return Result(1, "", "ERROR: Unable to find the kernel source tree for the currently "
                          "running kernel.\n")  # fmt: skip
    state.nvidia_installed = version
    return Result(0, "Installation of the NVIDIA Accelerated Graphics Driver for Linux-x86_64 "
                  f"(version: {version}) is now complete.\n")  # fmt: skip


CURL: dict[str, Verb] = {"": Verb(curl, True, raw=True)}
RUNFILE_VERBS: dict[str, Verb] = {"": Verb(runfile, True, raw=True)}
