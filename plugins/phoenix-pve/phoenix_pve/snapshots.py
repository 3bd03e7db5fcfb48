"""Lifecycle snapshots: ``pre-configured`` before the scripts, ``template_snapshot_name`` and
``final-form`` at the end, each taken once, when missing (the old tool deleted and retook them).

Some guests cannot be snapshotted at all (a container with bind mounts); the manager says so
through ``unsupported``, and their snapshots are skipped with a warning, every run the same,
rather than failing or retrying a doomed command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_pve.live import Live

PRE = "pre-configured"
FINAL = "final-form"

#: Why Proxmox cannot snapshot this guest, or None when it can.
Unsupported = Callable[[], str | None]


def step(
    name: str,
    live: Live,
    names: Sequence[str],
    *,
    skip: Callable[[], bool],
    unsupported: Unsupported,
) -> Step:
    """Take each of ``names`` that the guest does not have yet; the change's data is the name."""

    def check() -> list[Change]:
        if skip() or not names:
            return []
        reason = unsupported()
        if reason is not None:
            logger.warning("{}: snapshot(s) {} skipped: {}", live.name, ", ".join(names), reason)
            return []
        have = {s.name for s in live.snapshots()}
        return [Change(f"snapshot {n}", None, "taken", data=n) for n in names if n not in have]

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            live.change(live.tool("snapshot", change.data), timeout=3600)

    return Step(name, check, apply)


def before_scripts(
    live: Live,
    *,
    lifecycle: bool,
    is_template: bool,
    skip: Callable[[], bool],
    unsupported: Unsupported,
) -> list[Step]:
    """``pre-configured``, when lifecycle snapshots are on (a template takes none: Proxmox
    cannot convert a guest that has snapshots)."""
    if is_template or not lifecycle:
        return []
    return [step("snapshot before features", live, [PRE], skip=skip, unsupported=unsupported)]


def final(
    live: Live,
    *,
    template_snapshot_name: str | None,
    lifecycle: bool,
    is_template: bool,
    skip: Callable[[], bool],
    unsupported: Unsupported,
) -> list[Step]:
    """``template_snapshot_name`` (what clones clone from), then ``final-form`` if lifecycle."""
    if is_template:
        return []
    names: list[str] = []
    if template_snapshot_name:
        names.append(template_snapshot_name)
    if lifecycle and FINAL not in names:
        names.append(FINAL)
    if not names:
        return []
    return [step("final snapshots", live, names, skip=skip, unsupported=unsupported)]
