"""``apparmor``: the AppArmor profiles this plugin ships (``phoenix_hypervisor/apparmor``),
installed under ``/etc/apparmor.d/lxc`` and loaded the way lxc says to load its profiles:
"Do not load this file. Rather, load /etc/apparmor.d/lxc-containers" (lxc/lxc
``config/apparmor/profiles/lxc-default``). ``lxc-containers`` includes ``tunables/global``
(which declares ``@{PROC}``, used by ``abstractions/lxc/container-base``) and then every file
under ``/etc/apparmor.d/lxc``; a profile parsed alone fails on the undeclared variable.

A profile is in sync when its file is the shipped one and the kernel lists it as loaded
(``/sys/kernel/security/apparmor/profiles``). The old tool's profile directory had been
deleted, so its AppArmor step failed every ``phoenix setup``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import HostContext

SHIPPED = Path(__file__).resolve().parent.parent / "apparmor"
TARGET = "/etc/apparmor.d/lxc"
LOADED = "/sys/kernel/security/apparmor/profiles"
#: What lxc's own unit loads at boot (lxc/lxc config/init/systemd/lxc-apparmor-load).
CONTAINERS = "/etc/apparmor.d/lxc-containers"


def shipped() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(SHIPPED.iterdir()) if p.is_file()}


def loaded(ctx: HostContext) -> set[str]:
    text = ctx.files.read(LOADED) or ""
    return {line.rsplit(" (", 1)[0] for line in text.splitlines() if line.strip()}


def profiles_step(ctx: HostContext) -> Step:
    def check() -> list[Change]:
        active = loaded(ctx)
        changes = []
        for name, text in shipped().items():
            path = f"{TARGET}/{name}"
            have = ctx.files.read(path)
            if have != text:
                changes.append(
                    Change(path, "missing" if have is None else "differs", "shipped", (path, text))
                )
            elif name not in active:
                changes.append(Change(f"profile {name}", "not loaded", "loaded", (path, None)))
        return changes

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            path, text = change.data
            if text is not None:
                ctx.files.write(path, text)
        # One load for every profile: lxc-containers reads them all.
        ctx.change(["apparmor_parser", "-r", "-W", "--", ctx.files.path(CONTAINERS)])

    return Step("apparmor: profiles", check, apply)


def steps(ctx: HostContext) -> list[Step]:
    return [profiles_step(ctx)]
