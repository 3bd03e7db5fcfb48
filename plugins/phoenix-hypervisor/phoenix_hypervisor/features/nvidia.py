"""``nvidia``: the host driver pinned to ``nvidia_driver.version``, and its persistence unit.

Skipped when ``install`` is false or ``lspci`` shows no NVIDIA display device. The installed
driver is what ``modinfo`` finds on disk, the running one what ``nvidia-smi`` reports: they
differ between an install and the next boot, which is reported as "reboot required" (the old
tool rebooted the host in the middle of setup). The runfile is cached under
``/usr/local/phoenix_hypervisor/cache`` and checked against ``runfile_sha256``; without one,
the checksum of the first download is recorded beside it and every later use must match
(trust on first use, with a warning). The module is never blacklisted: container GPU
passthrough needs it loaded on the host.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import FeatureFailed, HostContext
from phoenix_hypervisor.hostfs import HEADER

CACHE = "/usr/local/phoenix_hypervisor/cache"
UNIT = "/etc/systemd/system/nvidia-persistenced.service"
UNIT_TEXT = (
    HEADER
    + "[Unit]\nDescription=NVIDIA Persistence Daemon\nBefore=pve-guests.service\n\n"
    + "[Service]\nType=forking\nExecStart=/usr/bin/nvidia-persistenced --user root\n"
    + "ExecStopPost=/bin/rm -rf /var/run/nvidia-persistenced\n\n"
    + "[Install]\nWantedBy=multi-user.target\n"
)
#: The runfile's unattended mode: no questions, DKMS so kernel updates rebuild the module.
RUNFILE_FLAGS = ("--silent", "--dkms", "--no-x-check", "--no-nouveau-check", "--no-opengl-files")


def gpus(ctx: HostContext) -> list[str]:
    """NVIDIA display controllers (PCI class 03xx, vendor 10de) from ``lspci -n -mm``."""
    result = ctx.read_once(["lspci", "-n", "-mm"]).check()
    found = []
    for line in result.stdout.splitlines():
        fields = line.split('"')
        if len(fields) >= 6 and fields[1].startswith("03") and fields[3] == "10de":
            found.append(fields[0].strip())
    return found


def installed(ctx: HostContext) -> str | None:
    result = ctx.query(["modinfo", "-F", "version", "nvidia"])
    return result.stdout.strip() or None if result.ok else None


def loaded(ctx: HostContext) -> str | None:
    result = ctx.query(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    lines = result.stdout.split()
    return lines[0] if result.ok and lines else None


def sha256(ctx: HostContext, path: str) -> str | None:
    result = ctx.query(["sha256sum", "--", path])
    return result.stdout.split()[0] if result.ok and result.stdout else None


def driver_step(ctx: HostContext) -> Step:
    driver = ctx.spec.nvidia
    version = driver.version or ""

    def check() -> list[Change]:
        if not gpus(ctx):
            return []
        have = installed(ctx)
        if have == version:
            running = loaded(ctx)
            if running != version:
                ctx.reboot["nvidia"] = f"driver {version} installed, {running or 'none'} loaded"
            return []
        return [Change("NVIDIA driver", have, version)]

    def apply(changes: Sequence[Change]) -> None:
        url = driver.runfile_url or ""
        name = posixpath.basename(url)
        runfile = ctx.files.path(f"{CACHE}/{name}")
        record = f"{CACHE}/{name}.sha256"
        ctx.ensure_dir(CACHE)
        digest = sha256(ctx, runfile)
        if digest is None:
            ctx.change(["curl", "-fsSL", "-o", runfile, "--", url])
            digest = sha256(ctx, runfile)
        expected = driver.runfile_sha256 or (ctx.files.read(record) or "").strip() or None
        if expected is None:
            logger.warning(
                "nvidia: no nvidia_driver.runfile_sha256; recording {} for {} (later runs must "
                "match it)",
                digest,
                name,
            )
            ctx.files.write(record, f"{digest}\n")
        elif digest != expected:
            ctx.change(["rm", "-f", "--", runfile])
            raise FeatureFailed(
                f"{name}: checksum {digest} does not match {expected}; the download was removed"
            )
        ctx.change(["chmod", "0755", "--", runfile])
        ctx.change([runfile, *RUNFILE_FLAGS])
        ctx.reboot["nvidia"] = f"driver {version} installed; it loads at the next boot"

    return Step("nvidia: driver", check, apply)


def unit_step(ctx: HostContext) -> Step:
    def check() -> list[Change]:
        if not gpus(ctx):
            return []
        changes = []
        have = ctx.files.read(UNIT)
        if have != UNIT_TEXT:
            changes.append(
                Change(UNIT, "missing" if have is None else "differs", "phoenix's unit", "file")
            )
        if (
            have is None
            or ctx.query(["systemctl", "is-enabled", posixpath.basename(UNIT)]).returncode
        ):
            changes.append(Change("nvidia-persistenced enabled", "no", "yes", "enable"))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        kinds = {c.data for c in changes}
        if "file" in kinds:
            ctx.files.write(UNIT, UNIT_TEXT)
            ctx.change(["systemctl", "daemon-reload"])
        if "enable" in kinds:
            ctx.change(["systemctl", "enable", posixpath.basename(UNIT)])

    return Step("nvidia: persistence unit", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    if not ctx.spec.nvidia.install or not ctx.spec.nvidia.version:
        return []
    return [driver_step(ctx), unit_step(ctx)]
