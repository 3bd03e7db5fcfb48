"""An in-memory Proxmox node and a minimal manager for it, for the core's unit tests.

``FakeNode`` is the kit's recording host (:mod:`phoenix_core.testing`) that also understands a
handful of ``pct`` commands against a dict of guests; its journal lets tests assert exactly
which commands ran and which of them changed something.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import attrs

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.errors import HostError
from phoenix_core.hookspecs import hookimpl
from phoenix_core.hosts.base import CommandResult
from phoenix_core.layout import GuestFile
from phoenix_core.manager import (
    API_VERSION,
    MISSING,
    GuestState,
    ManagerSpec,
    Resource,
    RunContext,
)
from phoenix_core.plugins import Plugins
from phoenix_core.steps import Change, Step
from phoenix_core.testing import RecordingHost


class FakeNode(RecordingHost):
    """A node holding guests as dicts; ``fail_on`` makes commands matching a prefix fail.

    The kit's :class:`RecordingHost` journals and holds files; this adds a small ``pct``.
    """

    def __init__(self) -> None:
        super().__init__("fake")
        self.guests: dict[int, dict[str, Any]] = {}
        self.fail_on: dict[tuple[str, ...], str] = {}

    def unanswered(self, argv: tuple[str, ...]) -> CommandResult:
        for prefix, message in self.fail_on.items():
            if argv[: len(prefix)] == prefix:
                if message == "HOST":
                    raise HostError(f"connection to {self.name} lost")
                return CommandResult(argv, 255, "", message + "\n")
        _tool, verb, vmid, *rest = argv
        ident = int(vmid)
        guest = self.guests.get(ident)
        if verb != "create" and guest is None:
            return CommandResult(
                argv, 2, "", f"Configuration file 'nodes/pve1/lxc/{ident}.conf' does not exist\n"
            )
        if verb == "status":
            return CommandResult(argv, 0, f"status: {guest['status']}\n")
        if verb == "config":
            lines = "".join(f"{k}: {v}\n" for k, v in sorted(guest.items()) if k != "status")
            return CommandResult(argv, 0, lines)
        if verb == "create":
            if guest is not None:
                return CommandResult(argv, 255, "", f"CT {ident} already exists on node 'pve1'\n")
            self.guests[ident] = {"status": "stopped", **_options(rest)}
        elif verb == "set":
            guest.update(_options(rest))
        elif verb == "start":
            guest["status"] = "running"
        elif verb in ("shutdown", "stop"):
            guest["status"] = "stopped"
        elif verb == "reboot":
            guest["status"] = "running"
        elif verb == "destroy":
            del self.guests[ident]
        return CommandResult(argv, 0)


def _options(args: Sequence[str]) -> dict[str, str]:
    return {args[i].lstrip("-"): args[i + 1] for i in range(0, len(args) - 1, 2)}


@attrs.frozen
class FakeSpec:
    memory_mb: int = 512
    cores: int = 1


class FakeManager:
    """Manages guests on a :class:`FakeNode` with two steps: exists, then memory/cores."""

    def parse(self, guest: TargetConfig, diagnostics: Diagnostics) -> FakeSpec | None:
        picked = {k: v for k, v in guest.raw.items() if k in ("memory_mb", "cores")}
        return diagnostics.structure(guest.file, guest.path, picked, FakeSpec)

    def observe(self, guest: TargetConfig, ctx: RunContext) -> GuestState:
        result = ctx.host.query(["pct", "status", str(guest.id)])
        if not result.ok:
            return MISSING
        # A guest dict may say whether its build completed ("built": "1"/"0"); else unknown.
        built = self.node_guest(guest, ctx).get("built")
        return GuestState(
            exists=True,
            status=result.stdout.split(":")[1].strip(),
            build_complete=None if built is None else built == "1",
        )

    def node_guest(self, guest: TargetConfig, ctx: RunContext) -> dict[str, Any]:
        return ctx.host.guests.get(guest.id, {}) if isinstance(ctx.host, FakeNode) else {}

    def _config(self, guest: TargetConfig, ctx: RunContext) -> dict[str, str]:
        result = ctx.host.query(["pct", "config", str(guest.id)])
        if not result.ok:
            return {}
        return dict(line.split(": ", 1) for line in result.stdout.splitlines())

    def resources(self, verb: str, guest: TargetConfig, config: Any) -> set[Resource]:
        return {Resource.guest(guest.id)}

    def steps(self, verb: str, guest: TargetConfig, ctx: RunContext) -> list[Step]:
        vmid = str(guest.id)
        spec: FakeSpec = guest.spec
        host = ctx.host
        if verb == "converge":
            wanted = {"memory": str(spec.memory_mb), "cores": str(spec.cores)}

            def exists() -> list[Change]:
                return [] if self.observe(guest, ctx).exists else [Change("guest", None, "created")]

            def create(_: Sequence[Change]) -> None:
                host.change(["pct", "create", vmid, "--hostname", guest.name]).check()

            def options() -> list[Change]:
                live = self._config(guest, ctx)
                return [Change(k, live.get(k), v) for k, v in wanted.items() if live.get(k) != v]

            def set_options(changes: Sequence[Change]) -> None:
                argv = ["pct", "set", vmid]
                for change in changes:
                    argv += [f"--{change.what}", str(change.after)]
                host.change(argv).check()

            return [Step("exists", exists, create), Step("options", options, set_options)]
        if verb in ("start", "stop", "restart"):
            target = "stopped" if verb == "stop" else "running"

            def power() -> list[Change]:
                state = self.observe(guest, ctx)
                if verb == "restart":
                    return [Change("power", state.status, "restarted")]
                return [] if state.status == target else [Change("power", state.status, target)]

            def switch(_: Sequence[Change]) -> None:
                action = {"start": "start", "stop": "shutdown", "restart": "reboot"}[verb]
                with ctx.starting() if verb == "start" else contextlib.nullcontext():
                    host.change(["pct", action, vmid]).check()

            return [Step("power", power, switch)]
        if verb == "delete":

            def gone() -> list[Change]:
                return [Change("guest", "exists", None)] if self.observe(guest, ctx).exists else []

            def destroy(_: Sequence[Change]) -> None:
                host.change(["pct", "destroy", vmid, "--purge"]).check()

            return [Step("destroyed", gone, destroy)]
        raise AssertionError(verb)


#: The two guest files of the old tool, as phoenix-lxc and phoenix-vm register them.
LAYOUTS = {
    "lxc": GuestFile(
        file="phoenix_lxc_configs.json",
        key="lxc_configs",
        path_key="lxc_config_file",
        root_defaults=True,
        clone_key="clone_from_ctid",
    ),
    "vm": GuestFile(
        file="phoenix_vm_configs.json",
        key="vms",
        path_key="vm_config_file",
        id_key="vmid",
        defaults_key="vm_defaults",
        clone_key="clone_from_vmid",
    ),
}


class FakePlugin:
    """A plugin object registering :class:`FakeManager` for the given kinds."""

    def __init__(self, *kinds: str, factory: type[FakeManager] = FakeManager) -> None:
        self.kinds = kinds or ("lxc", "vm")
        self.factory = factory

    @hookimpl
    def phoenix_register_managers(self, register: Any) -> None:
        for kind in self.kinds:
            register(
                ManagerSpec(
                    name=f"fake-{kind}",
                    kind=kind,
                    factory=self.factory,
                    api_version=API_VERSION,
                    config=LAYOUTS[kind],
                )
            )


def fake_plugins(*kinds: str, factory: type[FakeManager] = FakeManager) -> Plugins:
    """Strict plugins holding only :class:`FakePlugin` for ``kinds`` (default: lxc and vm),
    whose managers ``factory`` makes."""
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin(*kinds, factory=factory), "fake")
    return plugins
