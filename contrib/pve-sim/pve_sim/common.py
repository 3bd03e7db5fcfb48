"""Helpers shared by the tool handlers: API errors as the CLI prints them, synchronous tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .api import ApiError, Params, TaskFailed
from .argv import Args
from .node import Node
from .result import CliError, Result, lines

Handler = Callable[[Node, Args], Awaitable[Result]]


@dataclass
class Verb:
    """One subcommand: its handler, whether it changes state, its positionals and usage line."""

    handler: Handler
    mutating: bool
    positional: tuple[str, ...] = ()
    usage: str = ""
    #: Host tools take getopt(3) options (`-H -o name`): the handler parses its own argv.
    raw: bool = False
    #: Whether this command line changes state, when that depends on its words (`systemctl`).
    mutates: Callable[[list[str]], bool] | None = None


UNDEFINED = "property is not defined in schema and the schema does not allow additional properties"


def param_error(exc: ApiError, usage: str) -> CliError:
    """`400 Parameter verification failed.` plus one `key: reason` line per key, plus usage.

    An option the command does not have never reaches the API on a real node: pve-common
    PVE/JSONSchema.pm get_options hands the schema's options to Getopt::Long, which prints
    `Unknown option: <name>`, and get_options then raises `400 unable to parse option`."""
    unknown = sorted(k for k, why in exc.errors.items() if why.startswith(UNDEFINED))
    if unknown:
        out = [f"Unknown option: {key}" for key in unknown] + ["400 unable to parse option"]
        return CliError(lines(out + ([usage] if usage else [])))
    out = [f"{exc.status} {exc.message}"]
    for key in sorted(exc.errors):
        out.append(f"{key}: {exc.errors[key].rstrip(chr(10))}")
    if usage:
        out.append(usage)
    return CliError(lines(out))


async def call(node: Node, method: str, path: str, params: Params = None, usage: str = "") -> Any:
    """An API call whose failure becomes the CLI's stderr text and exit code 255."""
    try:
        return await node.api.call(method, path, params)
    except ApiError as exc:
        if exc.errors:
            raise param_error(exc, usage) from None
        raise CliError(exc.message) from None


async def task(
    node: Node, upid: str, head: list[str] | None = None, upid_exit: bool = True
) -> Result:
    """Wait for a task as pct/qm do: log on stdout, error on stderr, 255 unless no $upid_exit."""
    head = head or []
    try:
        log = await node.api.wait(node.name, upid)
    except TaskFailed as exc:
        return Result(255 if upid_exit else 0, lines(head + exc.log), exc.message + "\n")
    return Result(0, lines(head + log))


def vmid_of(text: str) -> int:
    """A positional VM id, or the real 400 error text for a bad one."""
    if not text.isdigit() or not 100 <= int(text) <= 999999999:
        raise CliError(
            "400 Parameter verification failed.\nvmid: invalid format - value does not look "
            "like a valid VM ID\n"
        )
    return int(text)
