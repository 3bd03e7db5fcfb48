"""Whether a command can start inside a simulated guest, and lxc-attach's failure when not.

`pct exec` runs lxc-attach, whose lxc src/lxc/attach.c lxc_attach_run_command execvp()s the
program: ENOENT exits 127, ENOEXEC 126, anything else 255, each with `Failed to exec "<prog>"`.
A guest here has the base system's programs (by name on PATH or by their /bin, /usr/bin,
/sbin, /usr/sbin path) and the files pushed into it; `timeout` and `env` wrappers are looked
through, and a script given to sh/bash must exist (bash exits 127 when it does not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .result import Result

BASE_PROGRAMS = frozenset(
    """sh bash dash env true false cat test [ mkdir rm rmdir timeout chmod chown mv cp ln ls
    echo printf grep sed awk head tail tee touch stat find xargs sort uniq wc tr cut date
    sleep id whoami hostname uname readlink realpath dirname basename install base64
    sha256sum tar gzip mount umount kill ps df du sync systemctl journalctl apt apt-get dpkg
    useradd groupadd usermod getent su ip ping curl wget update-ca-certificates
    nproc free mountpoint cloud-init""".split()  # noqa: SIM905
)
SYSTEM_DIRS = ("/bin", "/usr/bin", "/sbin", "/usr/sbin", "/usr/local/bin")
SHELLS = frozenset({"sh", "bash", "dash"})


def unwrap(argv: Sequence[str]) -> list[str]:
    """The command a `timeout [opts] N ...` / `env [-i] [K=V ...] ...` wrapper runs."""
    argv = list(argv)
    while argv:
        name = Path(argv[0]).name
        if name == "timeout":
            rest = argv[1:]
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in ("-s", "-k", "--signal", "--kill-after") else rest[1:]
            argv = rest[1:]  # the duration
        elif name == "env" and len(argv) > 1:
            rest = argv[1:]
            while rest and (rest[0].startswith("-") or "=" in rest[0]):
                rest = rest[1:]
            if not rest:
                return argv
            argv = rest
        else:
            return argv
    return argv


def _attach_error(vmid: int, program: str, errno_text: str, rc: int) -> Result:
    return Result(
        rc,
        "",
        f"lxc-attach: {vmid}: ../src/lxc/attach.c: lxc_attach_run_command: 1841 "
        f'{errno_text} - Failed to exec "{program}"\n',
    )


def _file_state(path: Path) -> str:
    """'missing', 'noexec' (EACCES), 'badformat' (ENOEXEC) or 'ok' for a file in the guest."""
    if not path.is_file():
        return "missing"
    if not path.stat().st_mode & 0o111:
        return "noexec"
    with path.open("rb") as fh:
        head = fh.read(4)
    return "ok" if head.startswith((b"#!", b"\x7fELF")) else "badformat"


def refusal(vmid: int, argv: Sequence[str], where: Callable[[str], Path]) -> Result | None:
    """lxc-attach's (or the shell's) failure when the command cannot start, else None."""
    command = unwrap(argv)
    if not command:
        return None
    program = command[0]
    name = Path(program).name
    in_system_dir = "/" not in program or str(Path(program).parent) in SYSTEM_DIRS
    system = name in BASE_PROGRAMS and in_system_dir
    if not system:
        candidates = [program] if "/" in program else [f"{d}/{program}" for d in SYSTEM_DIRS]
        states = [_file_state(where(c)) for c in candidates]
        if "ok" not in states:
            if "badformat" in states:
                return _attach_error(vmid, program, "Exec format error", 126)
            if "noexec" in states:
                return _attach_error(vmid, program, "Permission denied", 255)
            return _attach_error(vmid, program, "No such file or directory", 127)
    script = command[1] if len(command) > 1 and not command[1].startswith("-") else None
    if name in SHELLS and script is not None and not where(script).is_file():
        return Result(127, "", f"{name}: {command[1]}: No such file or directory\n")
    return None
