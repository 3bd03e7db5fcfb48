"""The kit for testing phoenix plugins: a recording fake host, configuration directories,
and the ``phoenix`` command run in-process.

Its pytest fixtures (``phoenix_host``, ``phoenix_config_dir``, ``phoenix_plugins``,
``phoenix_cli``) are registered through the ``pytest11`` entry point of phoenix-core, so a
plugin's tests need no import to use them; the classes below are for type hints and for
tests that build their own runs. Nothing in phoenix itself imports this package.
"""

from __future__ import annotations

from phoenix_core.testing.cli import CliResult, invoke, make_plugins, schema_file
from phoenix_core.testing.configdir import write_config_dir
from phoenix_core.testing.host import Command, RecordingHost, Reply, Rule

__all__ = [
    "CliResult",
    "Command",
    "RecordingHost",
    "Reply",
    "Rule",
    "invoke",
    "make_plugins",
    "schema_file",
    "write_config_dir",
]
