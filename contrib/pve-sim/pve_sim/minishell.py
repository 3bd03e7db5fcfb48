"""The few `sh -c` scripts a guest runs for phoenix, interpreted against the guest directory.

A real guest has a shell; the simulator has none, so `sh -c SCRIPT NAME ARGS...` is read as a
list of simple commands joined by `;` and `&&`, with `"$N"` and `"$@"` parameters, `.` of a
file, `exec`, and `>` / `>>`
redirections of `base64 -d` (what the guest agent's file push runs); `umask`, `chmod`, `mv -f`
act on the guest directory, other commands run as `qm guest exec` of them would, and a
redirection of anything but `base64 -d` exits 2 saying the simulator cannot run it.
"""

from __future__ import annotations

import base64
import binascii
import shlex
from typing import TYPE_CHECKING

from .result import Result

if TYPE_CHECKING:
    from .guestfs import GuestFs


def _words(script: str, params: list[str]) -> list[list[str]]:
    """Commands with their connector last (`;`, `&&` or `` at the end)."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&>")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in (";", "&&"):
            commands[-1].append(token)
            commands.append([])
        elif token == "$@":
            commands[-1].extend(params[1:])
        elif token.startswith("$") and token[1:].isdigit():
            index = int(token[1:])
            commands[-1].append(params[index] if index < len(params) else "")
        else:
            commands[-1].append(token)
    return [c for c in commands if c and c != [";"]]


def run(fs: GuestFs, vmid: int, script: str, params: list[str], stdin: str | None) -> Result:
    """Run SCRIPT with ``params`` as ``$0``, ``$1``... (``$@``: all but ``$0``)."""
    result = Result(0)
    skip = False
    for command in _words(script, params):
        connector = command[-1] if command[-1] in (";", "&&") else ""
        argv = command[:-1] if connector else command
        if not skip:
            result = _one(fs, vmid, argv, stdin)
        skip = connector == "&&" and result.rc != 0
        if connector == ";":
            skip = False
    return result


def _one(fs: GuestFs, vmid: int, argv: list[str], stdin: str | None) -> Result:
    redirect = next((i for i, w in enumerate(argv) if w in (">", ">>")), None)
    if redirect is not None:
        target, mode = argv[redirect + 1], argv[redirect]
        argv = argv[:redirect]
        if argv not in (["base64", "-d"], ["base64", "--decode"]):
            return Result(2, "", f"pve-sim: cannot run {shlex.join(argv)} with a redirection\n")
        try:
            data = base64.b64decode(stdin or "", validate=False)
        except binascii.Error:
            return Result(1, "", "base64: invalid input\n")
        path = fs.path(vmid, target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab" if mode == ">>" else "wb") as fh:
            fh.write(data)
        return Result(0)
    if argv[:1] == ["umask"]:
        return Result(0)
    if (
        argv[:1]
        in (
            [
                ".",
            ],
            ["source"],
        )
        and len(argv) == 2
    ):
        # Sourcing sets variables only, which no simulated command reads: it must exist.
        if fs.path(vmid, argv[1]).is_file():
            return Result(0)
        return Result(1, "", f"sh: {argv[1]}: No such file or directory\n")
    if argv[:1] == ["exec"] and len(argv) > 1:
        return fs.exec(vmid, argv[1:])
    if argv[:1] == ["chmod"] and len(argv) == 3:
        path = fs.path(vmid, argv[2])
        if not path.exists():
            return Result(1, "", f"chmod: cannot access '{argv[2]}': No such file or directory\n")
        path.chmod(int(argv[1], 8))
        return Result(0)
    if argv[:2] == ["mv", "-f"] and len(argv) == 4:
        source = fs.path(vmid, argv[2])
        if not source.exists():
            return Result(1, "", f"mv: cannot stat '{argv[2]}': No such file or directory\n")
        source.replace(fs.path(vmid, argv[3]))
        return Result(0)
    return fs.exec(vmid, argv)
