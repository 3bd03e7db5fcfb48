"""A node that lives in a directory of this machine: the simulator, reached as ``--host sim:DIR``.

The directory plays the node's ``/``: every file phoenix reads or writes there by its node path
(``/etc/pve/lxc/101.conf``) lands in ``DIR/etc/pve/lxc/101.conf``, and commands run the node's
own executables, ``DIR/bin/<tool>`` (what ``pve-sim up`` writes). Beside those, only a fixed set
of this machine's file utilities and shells runs (:data:`SYSTEM_TOOLS`: they act on the paths
they are given, which a manager maps into the directory with
:func:`~phoenix_core.hosts.base.node_path`); any other program is "not found", so a run aimed
at the simulator can never reach this machine's package manager, services or ``/etc``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence

from phoenix_core.errors import HostError, UsageError
from phoenix_core.hosts.base import DEFAULT_TIMEOUT, node_path
from phoenix_core.hosts.local import LocalHost, _HeldProcess

#: The scheme of ``--host sim:DIR``.
SCHEME = "sim:"
#: This machine's programs a node directory may run besides the tools in its ``bin/``: file
#: and text utilities that act only on the paths on their command line and their input, and
#: the shells and wrappers scripts run under (a conf edit under its lock, a health check).
#: They see the same PATH, so a script reaches nothing else either.
SYSTEM_TOOLS = frozenset(
    {"cat", "chmod", "chown", "cp", "flock", "ln", "ls", "mkdir", "mktemp", "mv", "readlink"}
    | {"realpath", "rm", "sha256sum", "stat", "tee", "test", "touch", "true", "false"}
    | {"awk", "base64", "basename", "cut", "date", "dirname", "echo", "grep", "head", "printf"}
    | {"sed", "sleep", "sort", "tail", "tr", "uniq", "wc", "xargs"}
    | {"sh", "bash", "env", "timeout"}
)
#: Where those are looked up (never the user's PATH).
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _system_tools(directory: str) -> None:
    """Link each of :data:`SYSTEM_TOOLS` found on :data:`SYSTEM_PATH` into ``directory``."""
    for tool in SYSTEM_TOOLS:
        found = shutil.which(tool, path=SYSTEM_PATH)
        if found is not None:
            os.symlink(found, os.path.join(directory, tool))


class NodeDirHost(LocalHost):
    """Commands from ``DIR/bin`` (and :data:`FILE_TOOLS`), files under ``DIR``."""

    def __init__(self, directory: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        root = os.path.realpath(directory)
        self.bin = os.path.join(root, "bin")
        if not os.path.isdir(self.bin):
            raise UsageError(
                f"--host {SCHEME}{directory}: no simulated node there ({self.bin} is missing); "
                f"start one with `pve-sim up --dir {directory}`"
            )
        temp = os.path.join(root, "tmp")
        os.makedirs(temp, exist_ok=True)
        self._tools = tempfile.mkdtemp(prefix="phoenix-node-path-")
        _system_tools(self._tools)
        # Nothing of the caller's environment decides which program runs: the node's tools,
        # then the system tools; temporary files (mktemp -t) in the node directory.
        env = {"PATH": f"{self.bin}:{self._tools}", "TMPDIR": temp, "HOME": root, "LANG": "C"}
        super().__init__(timeout=timeout, env=env)
        self.root = root
        self.name = f"{SCHEME}{root}"

    def _program(self, argv: Sequence[str]) -> list[str]:
        """argv with its program resolved inside the node, or HostError "command not found"."""
        program, *rest = (str(a) for a in argv)
        system = shutil.which(os.path.basename(program), path=self._tools)
        if "/" not in program:
            found = shutil.which(program, path=self.env["PATH"])
        elif system is not None and os.path.realpath(system) == os.path.realpath(program):
            found = system  # /bin/bash: the system tool of that name
        else:
            found = node_path(self, program)  # the node's own file (a downloaded runfile)
        if found is None or not os.access(found, os.X_OK):
            raise HostError(f"{program}: command not found on {self.name}")
        return [found, *rest]

    def _execute(
        self, argv: tuple[str, ...], timeout: float, input: str | None
    ) -> tuple[int, str, str]:
        return super()._execute(tuple(self._program(argv)), timeout, input)

    def hold(self, argv: Sequence[str], *, probe: str) -> _HeldProcess:
        return super().hold(self._program(argv), probe=probe)

    def close(self) -> None:
        shutil.rmtree(self._tools, ignore_errors=True)

    def read_file(self, path: str) -> bytes:
        return super().read_file(node_path(self, path))

    def is_file(self, path: str) -> bool:
        return super().is_file(node_path(self, path))

    def write_file(self, path: str, data: bytes, *, mode: int = 0o644) -> None:
        super().write_file(node_path(self, path), data, mode=mode)
