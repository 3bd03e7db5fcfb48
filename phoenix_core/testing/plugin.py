"""pytest plugin (entry point ``pytest11: phoenix``): fixtures for testing phoenix plugins.

Installed with phoenix-core, so a plugin's tests use them without any import:

- ``phoenix_host``: a :class:`~phoenix_core.testing.RecordingHost`, the node of every run;
- ``phoenix_config_dir``: a factory writing a configuration directory under ``tmp_path``;
- ``phoenix_plugins``: the plugins the CLI runs with (override it in your ``conftest.py``);
- ``phoenix_cli``: runs ``phoenix`` in-process and returns a :class:`~phoenix_core.testing.CliResult`;
- ``phoenix_lock_dir``: a private run lock directory (``PHOENIX_LOCK_DIR``) for the test.

No fixture is autouse: the plugin loads in every pytest run of an environment holding
phoenix-core, and changes nothing in tests that do not ask for its fixtures.

Heavier imports wait for the fixtures, so loading the plugin costs pytest nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from phoenix_core.hosts.base import Host
    from phoenix_core.plugins import Plugins
    from phoenix_core.testing.cli import CliResult
    from phoenix_core.testing.host import RecordingHost


class PhoenixCli(Protocol):
    """The ``phoenix_cli`` fixture's signature."""

    def __call__(
        self,
        *args: str,
        plugins: Plugins | Iterable[object] | None = None,
        config_dir: Path | str | None = None,
        nodes: Mapping[str, Host] | None = None,
        input: str | None = None,
    ) -> CliResult: ...


@pytest.fixture
def phoenix_lock_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A run lock directory of the test's own, set as ``PHOENIX_LOCK_DIR`` for the test: runs
    it starts take their node's run lock there, never in the machine's ``/run/lock``, so
    test suites running side by side do not wait on each other (``phoenix_core.runlock``).

    Not autouse: this plugin is loaded in every pytest run of an environment holding
    phoenix-core, and must not change the environment of other projects' tests.
    ``phoenix_cli`` uses it; a test starting ``phoenix`` otherwise asks for it by name.
    """
    directory = tmp_path_factory.mktemp("run-lock")
    monkeypatch.setenv("PHOENIX_LOCK_DIR", str(directory))
    return directory


@pytest.fixture
def phoenix_host() -> RecordingHost:
    """A fresh :class:`~phoenix_core.testing.RecordingHost` named ``fake``: script answers with
    ``phoenix_host.on(prefix, stdout=...)``, seed ``phoenix_host.files``, and assert on
    ``phoenix_host.mutations`` (argv tuples; file writes are ``("write", path)``)."""
    from phoenix_core.testing.host import RecordingHost

    return RecordingHost()


@pytest.fixture
def phoenix_config_dir(tmp_path: Path) -> Callable[..., Path]:
    """A factory ``make(hypervisor=None, files=None, name="etc") -> Path``: writes
    ``phoenix_hypervisor_config.json`` (``hypervisor``, default minimal) and each guest file of
    ``files`` (file name -> JSON) into ``tmp_path / name`` and returns that directory."""
    from phoenix_core.testing.configdir import write_config_dir

    def make(
        hypervisor: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        name: str = "etc",
    ) -> Path:
        return write_config_dir(tmp_path / name, hypervisor, files)

    return make


@pytest.fixture
def phoenix_plugins() -> Iterable[object]:
    """The plugins ``phoenix_cli`` runs with: none. Override it in your ``conftest.py`` to
    return your hook module(s), e.g. ``return [my_plugin.plugin]``; installed plugins are never
    discovered, so each test sees exactly these."""
    return []


@pytest.fixture
def phoenix_cli(
    phoenix_host: RecordingHost,
    phoenix_plugins: Iterable[object],
    phoenix_lock_dir: Path,
    tmp_path: Path,
) -> PhoenixCli:
    """Run ``phoenix ARGS`` in-process: ``phoenix_cli("plan", "120", "-o", "json",
    config_dir=path)`` returns a :class:`~phoenix_core.testing.CliResult` (``exit_code``,
    ``stdout``, ``stderr``, ``json``).

    The default node is ``phoenix_host``; ``nodes`` adds hosts for named nodes. Plugins are
    ``phoenix_plugins`` unless ``plugins`` is given (modules/objects, or a ready ``Plugins``).
    Logs go to ``tmp_path / "phoenix-logs"``.
    """
    from phoenix_core.testing.cli import invoke

    def run(
        *args: str,
        plugins: Plugins | Iterable[object] | None = None,
        config_dir: Path | str | None = None,
        nodes: Mapping[str, Host] | None = None,
        input: str | None = None,
    ) -> CliResult:
        hosts: dict[str | None, Host] = {None: phoenix_host, **(nodes or {})}
        return invoke(
            args,
            phoenix_plugins if plugins is None else plugins,
            hosts=hosts,
            config_dir=config_dir,
            log_dir=tmp_path / "phoenix-logs",
            input=input,
        )

    return run
