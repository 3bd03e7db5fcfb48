"""What a simulated command hands back to its shim: exit code, stdout and stderr."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Result:
    """The outcome of one command, as the real tool would have produced it."""

    rc: int = 0
    stdout: str = ""
    stderr: str = ""


class CliError(Exception):
    """A failure the tool reports as a message on stderr and an exit code (255 by default)."""

    def __init__(self, message: str, rc: int = 255, stdout: str = ""):
        super().__init__(message)
        self.message = message if message.endswith("\n") else message + "\n"
        self.rc = rc
        self.stdout = stdout


def lines(items: list[str]) -> str:
    """Join output lines, with the trailing newline the tools print."""
    return "".join(f"{line}\n" for line in items)
