"""What happens inside a guest: scripted `pct exec`/`qm guest exec` answers and pushed files.

Each guest gets a directory DIR/guests/<id>/ standing in for its root filesystem: `pct push`
copies into it, `pct pull` copies out, and `cat`/`test -e|-f|-d` run against it. A program
must exist to run, as lxc-attach's execvp needs it (exec.py); one that does answers success
with no output unless a test scripted a (regex) pattern for it.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import exec as guest_exec
from . import minishell, vmguest
from .result import Result


@dataclass
class Script:
    """A scripted answer for commands matching pattern (re.search on the shell-joined argv)."""

    vmid: int | None
    pattern: str
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    times: int | None = None


#: What a guest's own tools answer from its facts (guestos.tool), or None to fall through.
OsTools = Callable[[int, list[str]], "Result | None"]


class GuestFs:
    """The per-guest directories and the exec script table of one node."""

    def __init__(self, root: Path, os_tools: OsTools | None = None):
        self.root = Path(root)
        self.scripts: list[Script] = []
        self.history: list[tuple[int, list[str]]] = []
        self.os_tools = os_tools
        #: Per running container, the device nodes it was given at start (guestos).
        self.devices: dict[int, set[str]] = {}

    def path(self, vmid: int, inner: str) -> Path:
        """Where a path inside the guest lives on the host (never outside the guest dir)."""
        base = self.root / str(vmid)
        target = (base / inner.lstrip("/")).resolve()
        if base.resolve() not in (target, *target.parents):
            raise ValueError(f"path escapes the guest: {inner}")
        return target

    def add_script(self, script: Script) -> None:
        """Newest scripts win over older ones for the same command."""
        self.scripts.insert(0, script)

    def exec(self, vmid: int, argv: list[str], stdin: str | None = None) -> Result:
        """Answer a command run inside guest vmid (stdin: what `--pass-stdin` handed it)."""
        self.history.append((vmid, list(argv)))
        command = shlex.join(argv)
        for script in self.scripts:
            if script.vmid not in (None, vmid) or not re.search(script.pattern, command):
                continue
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    self.scripts.remove(script)
            return Result(script.rc, script.stdout, script.stderr)
        missing = guest_exec.refusal(vmid, argv, lambda inner: self.path(vmid, inner))
        if missing is not None:
            return missing
        return self._builtin(vmid, guest_exec.unwrap(argv), stdin)

    def _builtin(self, vmid: int, argv: list[str], stdin: str | None = None) -> Result:
        answer = self.os_tools(vmid, argv) if self.os_tools else None
        if answer is not None:
            return answer
        if len(argv) >= 3 and Path(argv[0]).name in ("sh", "bash") and argv[1] == "-c":
            return minishell.run(self, vmid, argv[2], argv[3:], stdin)
        status = vmguest.cloud_init_status(argv)
        if status is not None:
            return status
        if argv[:2] == ["mkdir", "-p"]:
            for inner in argv[2:]:
                self.path(vmid, inner).mkdir(parents=True, exist_ok=True)
            return Result(0)
        if len(argv) == 2 and argv[0] == "cat":
            target = self.path(vmid, argv[1])
            if not target.is_file():
                return Result(1, "", f"cat: {argv[1]}: No such file or directory\n")
            return Result(0, target.read_text(errors="replace"))
        if len(argv) == 3 and argv[0] in ("test", "[") and argv[1] in ("-e", "-f", "-d", "-c"):
            target = self.path(vmid, argv[2])
            device = argv[2] in self.devices.get(vmid, set())
            check = {
                "-e": lambda: device or target.exists(),
                "-f": lambda: not device and target.is_file(),
                "-d": target.is_dir,
                "-c": lambda: device,
            }[argv[1]]
            return Result(0 if check() else 1)
        if argv[:1] == ["false"]:
            return Result(1)
        return Result(0)

    def push(self, vmid: int, source: Path, dest: str, perms: str | None) -> None:
        """Copy a host file into the guest (mode from --perms, octal unless 0x)."""
        target = self.path(vmid, dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if perms:
            target.chmod(int(perms, 16) if perms.startswith("0x") else int(perms, 8))

    def pull(self, vmid: int, source: str, dest: Path) -> None:
        """Copy a guest file out to the host."""
        shutil.copyfile(self.path(vmid, source), dest)

    def copy_guest(self, src: int, dst: int) -> None:
        """A clone starts with a copy of its source's files."""
        if (self.root / str(src)).is_dir():
            shutil.copytree(self.root / str(src), self.root / str(dst), dirs_exist_ok=True)

    def drop_guest(self, vmid: int) -> None:
        shutil.rmtree(self.root / str(vmid), ignore_errors=True)
