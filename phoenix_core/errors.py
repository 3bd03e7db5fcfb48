"""The exceptions phoenix turns into exit codes and one-line messages.

Every error a user can cause derives from :class:`PhoenixError` and carries the exit code
the CLI ends with, so no caller needs a table mapping exception types to codes.
"""

from __future__ import annotations


class PhoenixError(Exception):
    """An error with a message fit for the terminal and the exit code it ends the run with."""

    exit_code = 1


class UsageError(PhoenixError):
    """Bad arguments or an unknown id: nothing was executed."""

    exit_code = 2


class ConfigError(PhoenixError):
    """A configuration file is unreadable or invalid: nothing was executed.

    ``problems`` holds one line per problem (``file: json.path: what is wrong``) so that one
    run reports every mistake in a file instead of the first only.
    """

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class PluginError(PhoenixError):
    """A plugin could not be loaded or registered something invalid."""

    exit_code = 2


class HostError(PhoenixError):
    """The node could not run a command at all (missing tool, timeout, lost connection)."""


class CommandFailed(PhoenixError):
    """A command on the node exited non-zero where success was required."""

    def __init__(self, result: object, reason: str) -> None:
        self.result = result
        super().__init__(reason)
