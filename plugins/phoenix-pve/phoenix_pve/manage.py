"""What the container and VM managers answer the core the same way: the live state of a guest,
the scripts ``config validate`` warns about, and file-wide defaults merged under a guest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from phoenix_core.config.convert import known_keys, suggest
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.manager import MISSING, GuestState, RunContext
from phoenix_core.steps import Step
from phoenix_pve import built, health, pending, scripts
from phoenix_pve.live import Live
from phoenix_pve.shell import Shell


def guest_state(
    live: Live, name_key: str, addresses: Callable[[], tuple[str, ...]] = lambda: ()
) -> GuestState:
    """Existence, power, lock, template, name (``hostname`` or ``name``), the build mark and
    the ``addresses`` the manager can read."""
    if not live.exists:
        return MISSING
    conf = live.config()
    return GuestState(
        exists=True,
        status=live.status(),
        lock=conf.get("lock"),
        template=live.is_template,
        name=conf.get(name_key),
        build_complete=built.is_built(conf, live.vmid),
        addresses=addresses() if live.running else (),
        details=_pending_detail(live),
    )


def settled(live: Live) -> bool:
    """Built, and untouched by this run: its health checks passed when it was built (or when
    it last changed), so an in-sync converge does not run them again; ``phoenix
    health-check`` runs them whenever asked."""
    untouched = live.node is not None and not live.node.changed(live.vmid)
    return untouched and live.exists and built.is_built(live.config(), live.vmid)


def _pending_detail(live: Live) -> tuple[tuple[str, str], ...]:
    """What ``status`` lists under the guest: keys Proxmox holds until a restart."""
    keys = pending.pending(live)
    return (("pending", f"{', '.join(keys)} (until a restart)"),) if keys else ()


def warn_missing_scripts(
    guest: TargetConfig, paths: scripts.SearchPath, diagnostics: Diagnostics
) -> None:
    """Warn about every script the guest names that is not on its search path: the guest itself
    fails at ``plan``/``converge``, the others can still be converged. A feature the old
    tool's directory on the node would provide is named with that place."""
    if guest.spec is None:
        return
    for key, problem in scripts.missing(guest.spec, paths) + health.missing(guest.spec, paths):
        diagnostics.warn(guest.file, f"{guest.path}.{key}", problem)


def report_once(
    diagnostics: Diagnostics, file: Any, path: str, message: str, *, fatal: bool
) -> None:
    """Report a file-wide problem once, not once per guest that inherits it."""
    for p in diagnostics.problems:
        if p.path == path and p.message == message:
            return
    (diagnostics.error if fatal else diagnostics.warn)(file, path, message)


def with_file_defaults(
    guest: TargetConfig, model: type, diagnostics: Diagnostics, where: Callable[[str], str]
) -> dict[str, Any]:
    """The guest's own keys over the file-wide defaults its model knows; an unknown default
    is an error at ``where(key)``, reported once."""
    merged: dict[str, Any] = {}
    # Computed only when the file has defaults: most files have none, and this runs per guest.
    keys = known_keys(model) if guest.file_defaults else []
    for key, value in guest.file_defaults.items():
        if key in keys:
            merged[key] = value
        else:
            message = "unknown key" + suggest(key, keys)
            report_once(diagnostics, guest.file, where(key), message, fatal=True)
    merged.update(guest.raw)
    return merged


def inside_steps(
    live: Live,
    shell: Shell,
    found: scripts.Found,
    checks: Sequence[health.Check],
    runner: scripts.Runner,
    *,
    skip: Callable[[], bool],
    ctx: RunContext,
) -> list[Step]:
    """Features, the application script (with the guest id as argument), then pushing the
    guest-side health checks (they run in the verify phase)."""
    steps = scripts.steps(
        live,
        shell,
        found,
        runner,
        app_args=[str(live.vmid)],
        skip=skip,
        rerun=ctx.options.rerun,
    )
    return steps + health.steps(live, shell, checks, runner, skip=skip)
