"""Finding, loading and isolating manager plugins.

Plugins are modules named by entry points in the ``phoenix.managers`` group. Each is
loaded once (the same entry point seen twice on ``sys.path`` counts once); one that fails
to import or to register is reported and skipped, so a broken plugin never takes the rest
down, unless ``PHOENIX_STRICT_PLUGINS=1`` makes that fatal. ``PHOENIX_DISABLE_PLUGINS=a,b``
blocks plugins by entry-point or distribution name.

Hooks are called through pluggy, so ``tryfirst``, ``trylast`` and wrappers behave as pluggy
documents them. Two things are added, the way pytest does them for ``pytest_*``: every
``phoenix_*`` attribute of a plugin counts as an implementation (so a misspelt one is caught by
:meth:`Plugins.check_pending` even without the marker), and an observer that raises is logged
with its plugin's name while the other observers still run.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from phoenix_core import hookspecs
from phoenix_core.entrypoints import EntryPoint, entry_points
from phoenix_core.errors import PluginError
from phoenix_core.manager import API_VERSION, SUPPORTED_API_VERSIONS, Manager, ManagerSpec

if TYPE_CHECKING:
    import click

GROUP = "phoenix.managers"
ENV_STRICT = "PHOENIX_STRICT_PLUGINS"
ENV_DISABLE = "PHOENIX_DISABLE_PLUGINS"


@attrs.define
class PluginInfo:
    """One loaded (or failed) plugin, as ``phoenix plugins`` lists it.

    ``about`` gives its distribution's name and version, read when first asked: parsing a
    distribution's metadata costs an import of the email parser and a file per plugin, which
    ``phoenix --help`` never needs.
    """

    name: str
    module: str
    about: Callable[[], tuple[str, str]] = attrs.field(repr=False)
    managers: list[ManagerSpec] = attrs.Factory(list)
    verbs: list[str] = attrs.Factory(list)
    error: str | None = None
    warnings: list[str] = attrs.Factory(list)
    _known: tuple[str, str] | None = attrs.field(default=None, init=False, repr=False)

    @property
    def distribution(self) -> str:
        return self._read()[0]

    @property
    def version(self) -> str:
        return self._read()[1]

    @property
    def label(self) -> str:
        return f"{self.distribution} {self.version}"

    def _read(self) -> tuple[str, str]:
        if self._known is None:
            self._known = self.about()
        return self._known


@attrs.define
class Registered:
    spec: ManagerSpec
    plugin: PluginInfo


#: Hooks whose implementations only observe: their exceptions are logged, not raised.
OBSERVERS = ("phoenix_action_started", "phoenix_action_finished")


class _PluginManager(pluggy.PluginManager):
    """Every ``phoenix_*`` attribute is a hook implementation, marked or not (as in pytest)."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("phoenix_") and callable(getattr(plugin, name, None)):
            return {}
        return opts


def _guarded(function: Callable[..., Any], hook: str, plugin: str) -> Callable[..., Any]:
    """An observer that logs its own exception instead of ending the hook call."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> None:
        try:
            function(*args, **kwargs)
        except Exception as exc:
            from phoenix_core.logs import logger

            logger.warning("observer {} of {} raised {}: {}", plugin, hook, type(exc).__name__, exc)

    return call


class Plugins:
    """The plugins of one run: the pluggy manager, the registered managers and the failures."""

    def __init__(self, strict: bool | None = None, disabled: set[str] | None = None) -> None:
        self.strict = os.environ.get(ENV_STRICT, "") not in ("", "0") if strict is None else strict
        if disabled is None:
            disabled = {n.strip() for n in os.environ.get(ENV_DISABLE, "").split(",") if n.strip()}
        self.disabled = disabled
        self.pm = _PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: list[PluginInfo] = []
        self.by_kind: dict[str, Registered] = {}
        self._instances: dict[str, Manager] = {}

    # -- discovery ---------------------------------------------------------------------
    def discover(self) -> Plugins:
        seen: set[tuple[str, str]] = set()
        for ep in entry_points(group=GROUP):
            if (ep.name, ep.value) in seen:
                continue
            seen.add((ep.name, ep.value))
            info = PluginInfo(ep.name, ep.value, ep.distribution)
            # A plugin is blocked by its entry point's name or its distribution's.
            if ep.name in self.disabled or (self.disabled and info.distribution in self.disabled):
                continue
            self._load(ep, info)
        self.check_pending()
        return self

    def _load(self, ep: EntryPoint, info: PluginInfo) -> None:
        self.plugins.append(info)
        try:
            module = ep.load()
        except Exception as exc:
            self._fail(info, f"cannot import {ep.value}: {type(exc).__name__}: {exc}")
            return
        self._register(info, module)

    def add(
        self, plugin: Any, name: str, distribution: str = "(in-process)", version: str = "-"
    ) -> None:
        """Register a plugin object that is already imported (embedding phoenix, tests).

        It goes through the same checks as a discovered plugin.
        """
        module = getattr(plugin, "__name__", repr(plugin))
        info = PluginInfo(name, module, lambda: (distribution, version))
        self.plugins.append(info)
        self._register(info, plugin)
        self.check_pending()

    def check_pending(self) -> None:
        """Report implementations of hooks that do not exist (a misspelt ``phoenix_*`` name).

        Fatal under ``PHOENIX_STRICT_PLUGINS=1``; otherwise a warning on the plugin, which
        ``phoenix`` prints at start-up and ``phoenix plugins`` lists.
        """
        known = [name for name in vars(hookspecs) if name.startswith("phoenix_")]
        for name, caller in vars(self.pm.hook).items():
            if caller.has_spec():
                continue
            import difflib  # only for a misspelt hook: start-up does not pay for it

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            for impl in caller.get_hookimpls():
                info = next((p for p in self.plugins if p.name == impl.plugin_name), None)
                message = f"implements {name}, which is not a phoenix hook{hint}"
                if info is None or message in info.warnings:
                    continue
                if self.strict:
                    raise PluginError(
                        f"plugin {info.name} ({info.label}): {message} [{ENV_STRICT} is set]"
                    )
                info.warnings.append(message)

    def _register(self, info: PluginInfo, module: Any) -> None:
        if self.pm.is_registered(module):
            self._fail(info, f"{info.module} is already registered by another entry point")
            return
        try:
            self.pm.register(module, name=info.name)
        except pluggy.PluginValidationError as exc:
            self._fail(info, f"invalid hook implementation: {exc}")
            return
        for hook in OBSERVERS:
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin is module and not (impl.wrapper or impl.hookwrapper):
                    impl.function = _guarded(impl.function, hook, info.name)
        self._register_managers(info, module)

    def _fail(self, info: PluginInfo, message: str) -> None:
        info.error = message
        if self.strict:
            raise PluginError(f"plugin {info.name} ({info.label}): {message} [{ENV_STRICT} is set]")

    def _register_managers(self, info: PluginInfo, module: Any) -> None:
        specs: list[ManagerSpec] = []
        hook = self._impl(module, "phoenix_register_managers")
        if hook is None:
            return
        try:
            hook(register=specs.append)
        except Exception as exc:
            self.pm.unregister(module)
            hint = ""
            if isinstance(exc, TypeError) and "ManagerSpec" in str(exc):
                hint = f" (this phoenix-core speaks manager API version {API_VERSION})"
            self._fail(info, f"phoenix_register_managers raised {type(exc).__name__}: {exc}{hint}")
            return
        for spec in specs:
            self._add_manager(info, spec)

    def _add_manager(self, info: PluginInfo, spec: Any) -> None:
        if not isinstance(spec, ManagerSpec):
            self._fail(info, f"registered {spec!r}, expected a phoenix_core.manager.ManagerSpec")
            return
        if spec.api_version not in SUPPORTED_API_VERSIONS:
            supported = ", ".join(map(str, sorted(SUPPORTED_API_VERSIONS)))
            self._fail(
                info,
                f"manager {spec.name!r} needs manager API version {spec.api_version}; this "
                f"phoenix-core supports {supported} (upgrade or downgrade one of them)",
            )
            return
        for other in self.by_kind.values():
            clash = _clash(other.spec, spec)
            if clash:
                raise PluginError(
                    f"manager {spec.name!r} ({spec.kind}): {clash} is registered twice: by "
                    f"{other.plugin.label} ({other.plugin.name}) and by {info.label} ({info.name}); "
                    f"uninstall one or disable it with {ENV_DISABLE}={info.name}"
                )
        self.by_kind[spec.kind] = Registered(spec, info)
        info.managers.append(spec)

    def _impl(self, plugin: Any, hook_name: str) -> Any:
        """The plugin's own implementation of a hook, so its effects can be attributed to it."""
        if plugin is None:
            return None
        caller = getattr(self.pm.hook, hook_name)
        return next((i.function for i in caller.get_hookimpls() if i.plugin is plugin), None)

    # -- commands ----------------------------------------------------------------------
    def add_commands(self, root: click.Group, core_owner: str = "phoenix-core") -> None:
        """Let each plugin add verbs; a verb name used twice is an error naming both owners."""
        import click

        owners: dict[str, PluginInfo | str] = {name: core_owner for name in root.commands}
        for info in self.plugins:
            module = self.pm.get_plugin(info.name) if info.error is None else None
            hook = self._impl(module, "phoenix_register_commands")
            if hook is None:
                continue
            group = click.Group(name=info.name)
            try:
                hook(cli=group)
            except Exception as exc:
                self._fail(info, f"phoenix_register_commands raised {type(exc).__name__}: {exc}")
                continue
            for name, command in group.commands.items():
                if name in owners:
                    first = owners[name]
                    first_label = first if isinstance(first, str) else first.label
                    raise PluginError(
                        f"verb {name!r} is defined twice: by {first_label} and by "
                        f"{info.label} ({info.name})"
                    )
                # The label is read only for the message: reading it costs a metadata parse.
                owners[name] = info
                root.add_command(command, name)
                info.verbs.append(name)

    # -- managers ----------------------------------------------------------------------
    def manager(self, kind: str) -> Manager | None:
        """The manager for a guest kind, built on first use; None when none is installed."""
        if kind not in self._instances:
            registered = self.by_kind.get(kind)
            if registered is None:
                return None
            self._instances[kind] = registered.spec.factory()
        return self._instances[kind]

    def specs(self) -> list[ManagerSpec]:
        """Every registered manager spec, in registration order."""
        return [r.spec for r in self.by_kind.values()]

    @property
    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

    @property
    def hook(self) -> Any:
        return self.pm.hook


def _clash(one: ManagerSpec, other: ManagerSpec) -> str | None:
    """What two specs both claim (kind, name, file, hypervisor section, host), or None."""
    from phoenix_core.layout import GuestFile, HostTargets

    if one.kind == other.kind:
        return f"kind {one.kind!r}"
    if one.name == other.name:
        return f"name {one.name!r}"
    a, b = one.config, other.config
    if isinstance(a, HostTargets) and isinstance(b, HostTargets):
        return "the host targets"
    if isinstance(a, GuestFile) and isinstance(b, GuestFile):
        if a.file is not None and a.file == b.file:
            return f"file {a.file}"
        if a.file is None and b.file is None and a.key == b.key:
            return f"hypervisor section {a.key!r}"
    return None
