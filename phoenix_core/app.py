"""The state of one CLI invocation: options, plugins, and what is built from them on demand.

Building lazily keeps ``phoenix --help`` and ``phoenix plugins`` from reading configuration
or opening connections they do not need.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from phoenix_core.manager import VerbOptions
from phoenix_core.names import DEFAULT_JOBS
from phoenix_core.plugins import Plugins

if TYPE_CHECKING:
    from phoenix_core.config.models import Config
    from phoenix_core.engine import Engine
    from phoenix_core.hosts.base import Host
    from phoenix_core.hosts.pool import HostPool
    from phoenix_core.progress import Progress
    from phoenix_core.select import Selector
    from phoenix_core.terminal import Terminal


@attrs.define(slots=False)
class App:
    """Handed to every verb as ``click.get_current_context().obj``."""

    plugins: Plugins
    #: The command line, as the run's first log line records it.
    command: tuple[str, ...] = ("phoenix",)
    config_dir: str | None = None
    host: str | None = None
    accept_new_host_keys: bool = False
    dry_run: bool = False
    keep_going: bool = False
    log_dir: Path | None = None
    verbosity: int = 0
    no_color: bool = False
    #: ``--jobs``: actions run at once.
    jobs: int = DEFAULT_JOBS
    #: ``--lock-timeout``: seconds to retry a command refused on a lock (None: the manager's).
    lock_timeout: int | None = None
    #: ``--wait-lock``: seconds to wait for another run's hold on a node (0: refuse at once).
    wait_lock: int = 0
    run_id: str = "-"
    #: Load leniently: errors in one guest's entry only stop verbs that touch that guest
    #: (set by the power verbs before the configuration is read).
    lenient: bool = False
    #: The selectors of a guest verb (``--tag``, ``--kind``, ``--exclude``, ``--only``).
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    only: bool = False
    #: stderr, shared by log lines and progress; set by :meth:`start_logging`.
    terminal: Terminal | None = None
    _config: Any = None
    _preset: dict[str | None, Host] = attrs.Factory(dict)
    _logging_to_files: bool = False

    def start_logging(self) -> None:
        """Log to the terminal; files start with :meth:`log_to_files`."""
        from phoenix_core import logs
        from phoenix_core.terminal import Terminal

        self.terminal = Terminal.for_stream(sys.stderr, no_color=self.no_color)
        self.run_id = logs.setup(verbosity=self.verbosity, terminal=self.terminal)

    @property
    def selector(self) -> Selector:
        from phoenix_core.select import Selector

        return Selector.parse(self.tags, self.kinds, self.exclude, self.only)

    @property
    def color(self) -> bool:
        """Whether results on stdout are coloured (a terminal, no ``--no-color``/``NO_COLOR``)."""
        from phoenix_core.terminal import wants_color

        return wants_color(sys.stdout, self.no_color)

    @contextlib.contextmanager
    def progress(self) -> Iterator[Progress | None]:
        """Progress on stderr for the duration of a run; none with ``-q``."""
        if self.verbosity < 0 or self.terminal is None:
            yield None
            return
        from phoenix_core.progress import Progress

        with Progress.observing(self.plugins, self.terminal) as progress:
            yield progress

    def log_to_files(self) -> None:
        """Add the log files, once: called by what acts on a node (the engine, the hosts), so
        ``--help``, ``plugins`` and ``config validate``/``schema`` leave no file behind."""
        if self._logging_to_files:
            return
        from phoenix_core import logs

        self._logging_to_files = True
        if logs.add_files(self.log_dir, sorted(r.spec.name for r in self.plugins.by_kind.values())):
            logs.run_started(self.command, self.host)

    @property
    def config(self) -> Config:
        """The loaded, validated configuration (ConfigError, exit 2, when it is not valid);
        its warnings are logged once, as configuration warnings (``-q`` hides them)."""
        return self.read_config(log_warnings=True)

    def read_config(self, *, log_warnings: bool) -> Config:
        """The configuration, loaded on first use; its warnings logged unless the caller
        shows them itself (``config validate``)."""
        if self._config is None:
            from phoenix_core.config import config_dir, load_config
            from phoenix_core.logs import config_warning

            self._config = load_config(
                config_dir(self.config_dir), self.plugins, lenient=self.lenient
            )
            if log_warnings:
                for warning in self._config.warnings:
                    config_warning(warning)
                for ident, problems in self._config.broken.items():
                    config_warning(
                        f"{ident} is left alone (its configuration has errors): "
                        + "; ".join(problems)
                    )
        return self._config

    @cached_property
    def hosts(self) -> HostPool:
        self.log_to_files()
        from phoenix_core.hosts.pool import (
            HostOptions,
            HostPool,
            NodeAddress,
            parse_address,
            require_ssh,
        )

        hypervisor = self.config.hypervisor
        nodes = {
            name: NodeAddress(n.address, n.user, n.port, n.sudo)
            for name, n in hypervisor.nodes.items()
        }
        default = parse_address(self.host) if self.host else None
        if (
            default is not None
            and default.host in nodes
            and default.user is None
            and default.port is None
        ):
            default = nodes[default.host]
        options = HostOptions(accept_new_host_keys=self.accept_new_host_keys)
        pool = HostPool(default, nodes, options)
        for node, host in self._preset.items():
            pool.preset(node, host)
        if pool.default.is_ssh and None not in self._preset:
            require_ssh()  # before anything runs: exit 2, not one failed guest after another
        return pool

    def use_host(self, node: str | None, host: Host) -> None:
        """Run ``node``'s commands (None: the default node's) on ``host`` instead of connecting.

        For embedding phoenix and for tests: ``phoenix_core.testing`` injects its recording
        host this way. Takes effect whether or not the run has opened its hosts yet.
        """
        self._preset[node] = host
        if "hosts" in self.__dict__:
            self.hosts.preset(node, host)

    def engine(
        self,
        *,
        dry_run: bool = False,
        keep_going: bool = False,
        options: VerbOptions | None = None,
        progress: Progress | None = None,
        boot_delay: bool = True,
    ) -> Engine:
        from phoenix_core.engine import Engine

        self.log_to_files()  # first, so the configuration's warnings are in the files too
        return Engine(
            self.config,
            self.plugins,
            self.hosts,
            dry_run=self.dry_run or dry_run,
            keep_going=self.keep_going or keep_going,
            options=attrs.evolve(options or VerbOptions(), lock_timeout=self.lock_timeout),
            jobs=self.jobs,
            boot_delay=boot_delay,
            wait_lock=self.wait_lock,
            run_id=self.run_id,
            progress=progress,
        )

    def close(self) -> None:
        if "hosts" in self.__dict__:
            self.hosts.close()
