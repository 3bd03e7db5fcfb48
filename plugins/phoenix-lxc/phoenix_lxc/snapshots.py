"""Lifecycle snapshots: ``pre-configured`` before features, ``template_snapshot_name`` and
``final-form`` at the end, each taken once, when missing (the old tool deleted and retook them).

Proxmox cannot snapshot a container with bind mounts; such a container's snapshots are skipped
with a warning, every run the same, rather than failing or retrying a doomed command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_lxc.live import Live
from phoenix_lxc.model import LxcSpec

PRE = "pre-configured"
FINAL = "final-form"


def has_bind_mounts(spec: LxcSpec, live: Live) -> bool:
    if spec.mount_points:
        return True
    options = live.config().options
    return any(
        k.startswith("mp") and k[2:].isdigit() and v.startswith("/") for k, v in options.items()
    )


def _step(
    name: str,
    snapshot_names: Callable[[], list[str]],
    spec: LxcSpec,
    live: Live,
    skip: Callable[[], bool],
) -> Step:
    def check() -> list[Change]:
        names = snapshot_names()
        if skip() or not names:
            return []
        if has_bind_mounts(spec, live):
            logger.warning(
                "CT {}: snapshot(s) {} skipped: Proxmox cannot snapshot a container with bind mounts",
                live.vmid,
                ", ".join(names),
            )
            return []
        have = {s.name for s in live.snapshots()}
        return [Change(f"snapshot {n}", None, "taken") for n in names if n not in have]

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            live.change(
                ["pct", "snapshot", str(live.vmid), change.what.removeprefix("snapshot ")],
                timeout=3600,
            )

    return Step(name, check, apply)


def before_features(spec: LxcSpec, live: Live, *, skip: Callable[[], bool]) -> list[Step]:
    if spec.is_template or not spec.enable_lifecycle_snapshots:
        return []
    return [_step("snapshot before features", lambda: [PRE], spec, live, skip)]


def final(spec: LxcSpec, live: Live, *, skip: Callable[[], bool]) -> list[Step]:
    if spec.is_template:
        return []
    names: list[str] = []
    if spec.template_snapshot_name:
        names.append(spec.template_snapshot_name)
    if spec.enable_lifecycle_snapshots and FINAL not in names:
        names.append(FINAL)
    if not names:
        return []
    return [_step("final snapshots", lambda: names, spec, live, skip)]
