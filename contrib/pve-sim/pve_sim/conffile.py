"""Guest config files under DIR/etc/pve, in Proxmox's own format.

phoenix reads and rewrites `<pve_etc>/lxc/<ctid>.conf` for raw `lxc.*` lines exactly as on a
real node, so the simulator keeps a real file per guest: `key: value` lines, then the raw
`lxc.*` lines in file order, then one `[snapshot]` section per snapshot. The API state in
fakepve owns every other key; raw `lxc.*` lines (which no API can set) are owned by the file,
read back before each rewrite and printed by `pct config`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

# pve-container src/PVE/LXC/Config.pm parse_pct_config: the raw-line pattern, and the keys
# ($valid_lxc_conf_keys, plus the lxc.cgroup/cgroup2/prlimit/sysctl prefixes) it keeps; any
# other lxc.* line is dropped with "vm <id> - unable to parse config: <line>".
RAW_LINE = re.compile(r"^(lxc\.[a-z0-9_\-.]+)(?::|\s*=)\s*(.*?)\s*$")
SECTION = re.compile(r"^\[([^\]]+)\]\s*$")
VALID_KEYS = frozenset(
    """lxc.apparmor.profile lxc.apparmor.allow_incomplete lxc.apparmor.allow_nesting
    lxc.apparmor.raw lxc.selinux.context lxc.include lxc.arch lxc.uts.name lxc.signal.halt
    lxc.signal.reboot lxc.signal.stop lxc.init.cmd lxc.pty.max lxc.console.logfile
    lxc.console.path lxc.tty.max lxc.devtty.dir lxc.hook.autodev lxc.autodev lxc.kmsg
    lxc.mount.fstab lxc.mount.entry lxc.mount.auto lxc.rootfs.mount lxc.cap.drop
    lxc.cap.keep lxc.seccomp.profile lxc.seccomp.notify.proxy lxc.seccomp.notify.cookie
    lxc.idmap lxc.hook.pre-start lxc.hook.pre-mount lxc.hook.mount lxc.hook.start
    lxc.hook.stop lxc.hook.post-stop lxc.hook.clone lxc.hook.destroy lxc.hook.version
    lxc.log.level lxc.log.file lxc.start.auto lxc.start.delay lxc.start.order lxc.group
    lxc.environment""".split()  # noqa: SIM905
)
VALID_PREFIX = re.compile(r"^lxc\.(?:cgroup2?|prlimit|sysctl)\.")


def valid_key(key: str) -> bool:
    return key in VALID_KEYS or bool(VALID_PREFIX.match(key))


def guest_conf(pve_etc: Path, node: str, kind: str, vmid: int) -> Path:
    """Path of a guest's config file: nodes/<node>/lxc/<id>.conf or .../qemu-server/<id>.conf."""
    folder = "lxc" if kind == "lxc" else "qemu-server"
    return Path(pve_etc) / "nodes" / node / folder / f"{vmid}.conf"


def prepare_tree(pve_etc: Path, node: str) -> None:
    """Create nodes/<node>/{lxc,qemu-server} and the lxc, qemu-server symlinks as PVE has them.

    Files a previous owner left there describe guests this (new) node does not have: removed.
    """
    for folder in ("lxc", "qemu-server"):
        target = Path(pve_etc) / "nodes" / node / folder
        target.mkdir(parents=True, exist_ok=True)
        for stale in target.iterdir():
            stale.unlink()
        link = Path(pve_etc) / folder
        if not link.exists() and not link.is_symlink():
            link.symlink_to(Path("nodes") / node / folder)


def _scan(path: Path) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """The valid raw lxc.* lines of each section ('' is the main config), in file order, and
    the lxc.* lines parse_pct_config would drop."""
    sections: dict[str, list[tuple[str, str]]] = {"": []}
    dropped: list[str] = []
    current = ""
    try:
        text = path.read_text(errors="surrogateescape")
    except FileNotFoundError:
        return sections, dropped
    for line in text.splitlines():
        head = SECTION.match(line)
        if head:
            current = head.group(1)
            sections.setdefault(current, [])
            continue
        if not line.startswith("lxc."):
            continue
        raw = RAW_LINE.match(line)
        if raw and valid_key(raw.group(1)):
            sections.setdefault(current, []).append((raw.group(1), raw.group(2)))
        else:
            dropped.append(line)
    return sections, dropped


def read_raw(path: Path) -> dict[str, list[tuple[str, str]]]:
    """The raw lxc.* lines Proxmox keeps, per section, in file order."""
    return _scan(path)[0]


def parse_warnings(path: Path, vmid: int) -> str:
    """What every pct command that loads this config prints on stderr for dropped lines."""
    return "".join(f"vm {vmid} - unable to parse config: {line}\n" for line in _scan(path)[1])


def _escape_description(text: str) -> list[str]:
    return ["#" + line for line in str(text).split("\n")]


def _section_lines(config: dict[str, Any], raw: list[tuple[str, str]]) -> list[str]:
    lines = []
    if config.get("description"):
        lines += _escape_description(config["description"])
    for key in sorted(config):
        if key in ("description", "digest") or key.startswith("lxc."):
            continue
        lines.append(f"{key}: {config[key]}")
    lines += [f"{key}: {value}" for key, value in raw]
    return lines


#: The pending section's header: pve-container src/PVE/LXC/Config.pm write_pct_config writes
#: ``[pve:pending]``, qemu-server src/PVE/QemuServer.pm write_vm_config ``[PENDING]``.
PENDING_HEADER = {"lxc": "[pve:pending]", "qemu": "[PENDING]"}


def pending_section(pending: dict[str, Any]) -> dict[str, Any]:
    """fakepve's pending changes (None: a pending delete) as the section's keys: values, and the
    deleted keys in one ``delete:`` line (parse_pct_config / parse_vm_config read it there)."""
    section = {k: v for k, v in pending.items() if v is not None}
    deleted = [k for k, v in pending.items() if v is None]
    if deleted:
        section["delete"] = ",".join(sorted(deleted))
    return section


def write_conf(
    path: Path,
    config: dict[str, Any],
    raw: dict[str, list[tuple[str, str]]],
    snapshots: dict[str, dict[str, Any]],
    pending: tuple[str, dict[str, Any]] | None = None,
    special: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Atomically write a guest's config file: the main section, the pending section when
    changes wait (``pending`` is its header and keys), the non-empty ``special`` sections
    (``[special:cloudinit]``), then snapshot sections, in the order write_pct_config and
    write_vm_config write them."""
    lines = _section_lines(config, raw.get("", []))
    if pending is not None and pending[1]:
        lines += ["", pending[0], *_section_lines(pending[1], [])]
    for name, keys in sorted((special or {}).items()):
        if keys:
            lines += ["", f"[special:{name}]", *_section_lines(keys, [])]
    for name in sorted(snapshots):
        lines += ["", f"[{name}]", *_section_lines(snapshots[name], raw.get(name, []))]
    write_file(path, "\n".join(lines) + "\n")


def write_file(path: Path, text: str) -> None:
    """Write a file under etc/pve as PVE::Tools::file_set_contents does: "<file>.tmp.<pid>"
    beside it, then rename; pmxcfs keeps every file at 0640 (pmxcfs.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", errors="surrogateescape") as fh:
        os.fchmod(fd, 0o640)
        fh.write(text)
    os.replace(tmp, path)


def remove_conf(path: Path) -> None:
    """Delete a destroyed guest's file."""
    path.unlink(missing_ok=True)
