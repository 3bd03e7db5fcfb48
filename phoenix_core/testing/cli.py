"""Running the ``phoenix`` command in-process, with chosen plugins and hosts, for tests."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from phoenix_core.hosts.base import Host
from phoenix_core.plugins import Plugins


@attrs.frozen
class CliResult:
    """What one ``phoenix`` invocation did: exit code, both output streams, and ``json``, the
    parsed stdout when the arguments asked for ``-o json``/``--output json`` (else None)."""

    exit_code: int
    stdout: str
    stderr: str
    json: Any = None
    exception: BaseException | None = attrs.field(default=None, repr=False)

    @property
    def output(self) -> str:
        """stdout then stderr, for assertion messages."""
        return self.stdout + self.stderr


def make_plugins(plugins: Plugins | Iterable[object]) -> Plugins:
    """Strict :class:`Plugins` holding exactly ``plugins`` (modules or objects with hooks).

    Installed plugins are not discovered, so a test sees only what it names; strict, so a
    misspelt hook or a refused manager spec fails the test instead of being skipped.
    """
    if isinstance(plugins, Plugins):
        return plugins
    found = Plugins(strict=True, disabled=set())
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        found.add(plugin, name)
    return found


def invoke(
    args: Sequence[str],
    plugins: Plugins | Iterable[object],
    *,
    hosts: Mapping[str | None, Host] | None = None,
    config_dir: Path | str | None = None,
    log_dir: Path | str | None = None,
    input: str | None = None,
) -> CliResult:
    """Run ``phoenix ARGS`` through click's ``CliRunner`` with ``plugins``.

    ``hosts`` maps node names (None: the default node) to the hosts their commands run on, so
    no command reaches this machine; ``config_dir`` and ``log_dir`` become ``--config-dir`` and
    ``--log-dir``. Exceptions phoenix does not turn into an exit code are kept in
    ``exception`` (exit code 1), as click's runner does.
    """
    import click
    from click.testing import CliRunner

    from phoenix_core.cli import build

    found = make_plugins(plugins)
    root = build(found)
    if hosts:
        # The root callback builds the run's App; the hosts are handed to it right after,
        # before any verb can open a connection.
        build_app = root.callback
        assert build_app is not None

        def callback(**kwargs: Any) -> None:
            build_app(**kwargs)
            app = click.get_current_context().obj
            for node, host in hosts.items():
                app.use_host(node, host)

        root.callback = callback
    argv: list[str] = []
    if log_dir is not None:
        argv += ["--log-dir", str(log_dir)]
    if config_dir is not None:
        argv += ["--config-dir", str(config_dir)]
    argv += [str(arg) for arg in args]
    # Named as installed, so usage messages and shell completion (_PHOENIX_COMPLETE) match.
    result = CliRunner().invoke(root, argv, obj=found, input=input, prog_name="phoenix")
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return CliResult(
        result.exit_code, result.stdout, result.stderr, _json(args, result.stdout), exception
    )


def _json(args: Sequence[str], stdout: str) -> Any:
    asked = any(
        a in ("-ojson", "--output=json") or (a in ("-o", "--output") and b == "json")
        for a, b in itertools.pairwise([*args, ""])
    )
    if not asked or not stdout.strip():
        return None
    try:
        return json.loads(stdout)
    except ValueError as exc:
        raise AssertionError(f"phoenix printed no JSON on stdout ({exc}):\n{stdout}") from None


def schema_file(document: Any, shape: str) -> str:
    """The file of phoenix's ``docs/json/`` that documents ``document``'s version of ``shape``
    (``phoenix/health/v2`` -> ``health.v2.schema.json``); AssertionError for another shape."""
    name = document["schema"]
    assert name.startswith(f"phoenix/{shape}/v"), f"expected a {shape} document, got {name}"
    return f"{name.removeprefix('phoenix/').replace('/', '.')}.schema.json"
