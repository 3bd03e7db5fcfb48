"""NFS volumes: the host directory each VM mounts, and the fstab line inside the VM.

On the host, the exported directory is created (with the owner and mode the configuration
gives); exporting it is the host manager's business. Inside the VM, the fstab line is added
once (never duplicated, an existing line for the mount point replaced), the mount point
created and mounted, and the mount verified with ``mountpoint``. What was applied is kept in
phoenix's state record inside the guest, so an in-sync VM costs no extra command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import node_path
from phoenix_core.steps import Change, Step
from phoenix_pve import scripts
from phoenix_pve.live import Live
from phoenix_pve.shell import Shell
from phoenix_vm.model import NfsVolume, VmSpec

FSTAB = "/etc/fstab"


def fstab_line(volume: NfsVolume) -> str:
    return f"{volume.server}:{volume.path} {volume.mount_point} nfs {volume.options} 0 0"


def with_line(fstab: str, volume: NfsVolume) -> str:
    """``fstab`` with the volume's line once, replacing another line for its mount point."""
    kept = [
        line
        for line in fstab.splitlines()
        if not (len(line.split()) > 1 and line.split()[1] == volume.mount_point)
    ]
    return "".join(f"{line}\n" for line in [*kept, fstab_line(volume)])


def step(
    spec: VmSpec, live: Live, shell: Shell, runner: scripts.Runner, *, skip: Callable[[], bool]
) -> Step:
    def check() -> list[Change]:
        if skip() or not spec.volumes:
            return []
        done = scripts.read_state(live, shell).get("volumes", {})
        return [
            Change(f"nfs {v.mount_point}", None, fstab_line(v), data=v)
            for v in spec.volumes
            if done.get(v.mount_point) != fstab_line(v)
        ]

    def apply(changes: Sequence[Change]) -> None:
        state = scripts.read_state(live, shell)
        for change in changes:
            volume: NfsVolume = change.data
            on_node = node_path(live.host, volume.path)  # inside DIR on the simulated node
            live.host.change(["mkdir", "-p", "--", on_node]).check()
            if volume.mode:
                live.host.change(["chmod", volume.mode, "--", on_node]).check()
            if volume.owner:
                live.host.change(["chown", volume.owner, "--", on_node]).check()
            current = shell.run(["cat", FSTAB], readonly=True)
            fstab = current.stdout if current.ok else ""
            runner.push(with_line(fstab, volume).encode(), FSTAB, 0o644)
            runner.exec(["mkdir", "-p", volume.mount_point], f"mkdir {volume.mount_point}")
            runner.exec(["mount", volume.mount_point], f"mount {volume.mount_point}")
            mounted = shell.run(["mountpoint", "-q", volume.mount_point], readonly=True)
            if not mounted.ok:
                raise PhoenixError(
                    f"{live.name}: {volume.mount_point} is not mounted after `mount` "
                    f"({fstab_line(volume)})"
                )
            state = {
                **state,
                "volumes": {**state.get("volumes", {}), volume.mount_point: fstab_line(volume)},
            }
            runner.save_state(state)

    return Step("nfs volumes", check, apply)
