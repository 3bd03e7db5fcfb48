"""Raw ``lxc.*`` lines: ``lxc_options``, GPU passthrough and ``id_maps``, kept in the conf file.

Proxmox accepts these lines only in ``<pve_etc>/lxc/<id>.conf`` (the API refuses them), so phoenix
edits that file. The lines of the main section are owned by phoenix as an ordered set: a
configured line is added when missing, a line no longer configured is removed, none is ever
written twice, and snapshot sections are left untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_core.logs import logger
from phoenix_core.steps import Change, Step
from phoenix_lxc.model import IdMap, LxcSpec
from phoenix_lxc.rawkeys import Line, split_option
from phoenix_pve import confedit
from phoenix_pve.live import Live

#: Device major of /dev/nvidia* (fixed by the driver); nvidia-uvm's is dynamic: read from /proc/devices.
NVIDIA_MAJOR = 195
ID_RANGE = 65536
UNPRIVILEGED_BASE = 100000


def idmap_lines(maps: Sequence[IdMap], unprivileged: bool) -> list[Line]:
    """Full ``lxc.idmap`` lines for both uid and gid: the configured maps, gaps filled with
    the default unprivileged range (LXC needs every id 0..65535 mapped once maps are given)."""
    if not maps:
        return []
    base = UNPRIVILEGED_BASE if unprivileged else 0
    lines: list[Line] = []
    for kind, letter in (("uid", "u"), ("gid", "g")):
        start = 0
        for m in sorted((m for m in maps if m.type == kind), key=lambda m: m.container_id):
            if m.container_id > start:
                lines.append(
                    ("lxc.idmap", f"{letter} {start} {base + start} {m.container_id - start}")
                )
            lines.append(("lxc.idmap", f"{letter} {m.container_id} {m.host_id} {m.size}"))
            start = m.container_id + m.size
        if start < ID_RANGE:
            lines.append(("lxc.idmap", f"{letter} {start} {base + start} {ID_RANGE - start}"))
    return lines


def host_id(maps: Sequence[IdMap], kind: str, inner: int, unprivileged: bool) -> int:
    """The host uid/gid a container id maps to, through the configured maps."""
    for m in maps:
        if m.type == kind and m.container_id <= inner < m.container_id + m.size:
            return m.host_id + inner - m.container_id
    return inner + (UNPRIVILEGED_BASE if unprivileged else 0)


def uvm_major(live: Live) -> int | None:
    try:
        devices = live.host.read_file("/proc/devices").decode()
    except (FileNotFoundError, OSError):
        return None
    for line in devices.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == "nvidia-uvm" and parts[0].isdigit():
            return int(parts[0])
    return None


def gpu_lines(indices: Sequence[int], uvm: int | None) -> list[Line]:
    if not indices:
        return []
    devices = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", *(f"nvidia{i}" for i in indices)]
    lines = [("lxc.cgroup2.devices.allow", f"c {NVIDIA_MAJOR}:* rwm")]
    if uvm is not None:
        lines.append(("lxc.cgroup2.devices.allow", f"c {uvm}:* rwm"))
    for dev in devices:
        lines.append(("lxc.mount.entry", f"/dev/{dev} dev/{dev} none bind,optional,create=file"))
    return lines


def desired(spec: LxcSpec, live: Live) -> list[Line]:
    """The raw lines in order, duplicates dropped (first one kept)."""
    lines = [split_option(o) for o in spec.lxc_options]
    indices = spec.gpu_indices()
    uvm = uvm_major(live) if indices else None
    if indices and uvm is None:
        logger.warning(
            "CT {}: nvidia-uvm is not in /proc/devices; its device rule is left out", live.vmid
        )
    lines += gpu_lines(indices, uvm)
    lines += idmap_lines(spec.id_maps, spec.unprivileged)
    seen: set[Line] = set()
    return [ln for ln in lines if not (ln in seen or seen.add(ln))]


def current(text: str) -> list[Line]:
    """Raw lines of the conf file's main section (before the first ``[snapshot]``)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("["):
            break
        key, sep, value = line.partition(":")
        if sep and key.strip().startswith("lxc."):
            lines.append((key.strip(), value.strip()))
    return lines


def rewrite(text: str, lines: Sequence[Line]) -> str:
    """The conf file with the main section's raw lines replaced by ``lines`` (after its keys)."""
    head, tail, in_tail = [], [], False
    for line in text.splitlines():
        in_tail = in_tail or line.startswith("[")
        if in_tail:
            tail.append(line)
        elif not line.partition(":")[0].strip().startswith("lxc."):
            head.append(line)
    while head and not head[-1].strip():
        head.pop()
    body = head + [f"{k}: {v}" for k, v in lines]
    return "\n".join(body + (["", *tail] if tail else [])) + "\n"


def step(spec: LxcSpec, live: Live) -> Step:
    def check() -> list[Change]:
        want = desired(spec, live)
        have = current(live.conf_text())
        if want == have:
            return []
        changes = [Change(f"{k}", None, v) for k, v in want if (k, v) not in have]
        changes += [Change(f"{k}", v, None) for k, v in have if (k, v) not in want]
        if not changes:
            changes = [Change("raw lxc lines order", len(have), len(want))]
        return changes

    def apply(_: Sequence[Change]) -> None:
        # Under the config lock, atomically, never chmod: /etc/pve is pmxcfs (confedit.py).
        text = live.conf_text()
        try:
            confedit.replace(
                live.host,
                live.kind,
                live.vmid,
                live.conf_path,
                text,
                rewrite(text, desired(spec, live)),
                lock_timeout=live.lock_timeout,
            )
        finally:
            live.invalidate()

    return Step("raw lxc lines", check, apply)
