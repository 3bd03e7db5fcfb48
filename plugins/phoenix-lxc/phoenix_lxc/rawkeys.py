"""Which raw ``lxc.*`` keys Proxmox keeps in a container's conf file, checked at load time.

pct reads ``<pve_etc>/lxc/<id>.conf`` with pve-container's ``parse_pct_config`` (src/PVE/LXC/
Config.pm, snapshot 94f55852): a line is a raw key only if it matches
``^(lxc\\.[a-z0-9_\\-\\.]+)(:|\\s*=)``, and ``is_valid_lxc_conf_key`` then keeps the keys below,
warns about deprecated ones, and drops every other key with "unable to parse config" on every
command. A key phoenix wrote that pct drops is never seen again: it would be rewritten on
every run, so such keys are refused before anything runs.
"""

from __future__ import annotations

import re

Line = tuple[str, str]

_KEY = re.compile(r"^lxc\.[a-z0-9_.-]+$")
#: $valid_lxc_conf_keys: keys kept as they are.
VALID = frozenset(
    [
        "lxc.apparmor.profile",
        "lxc.apparmor.allow_incomplete",
        "lxc.apparmor.allow_nesting",
        "lxc.apparmor.raw",
        "lxc.selinux.context",
        "lxc.include",
        "lxc.arch",
        "lxc.uts.name",
        "lxc.signal.halt",
        "lxc.signal.reboot",
        "lxc.signal.stop",
        "lxc.init.cmd",
        "lxc.init.cwd",
        "lxc.init.uid",
        "lxc.init.gid",
        "lxc.init.groups",
        "lxc.pty.max",
        "lxc.console.logfile",
        "lxc.console.path",
        "lxc.tty.max",
        "lxc.devtty.dir",
        "lxc.hook.autodev",
        "lxc.autodev",
        "lxc.kmsg",
        "lxc.mount.fstab",
        "lxc.mount.entry",
        "lxc.mount.auto",
        "lxc.rootfs.mount",
        "lxc.cap.drop",
        "lxc.cap.keep",
        "lxc.seccomp.profile",
        "lxc.seccomp.notify.proxy",
        "lxc.seccomp.notify.cookie",
        "lxc.idmap",
        "lxc.hook.pre-start",
        "lxc.hook.pre-mount",
        "lxc.hook.mount",
        "lxc.hook.start",
        "lxc.hook.stop",
        "lxc.hook.post-stop",
        "lxc.hook.clone",
        "lxc.hook.destroy",
        "lxc.hook.version",
        "lxc.log.level",
        "lxc.log.file",
        "lxc.start.auto",
        "lxc.start.delay",
        "lxc.start.order",
        "lxc.group",
        "lxc.environment",
        "lxc.environment.runtime",
        "lxc.environment.hooks",
        "lxc.sysctl.fs.mqueue",
        "lxc.sysctl.kernel.msgmax",
        "lxc.sysctl.kernel.msgmnb",
        "lxc.sysctl.kernel.msgmni",
        "lxc.sysctl.kernel.sem",
        "lxc.sysctl.kernel.shmall",
        "lxc.sysctl.kernel.shmmax",
        "lxc.sysctl.kernel.shmmni",
        "lxc.sysctl.kernel.shm_rmid_forced",
    ]
)
#: Keys $valid_lxc_conf_keys names with an error instead of 1.
REFUSED = {
    "lxc.rootfs.path": "lxc.rootfs.path is auto generated from rootfs",
    "lxc.rootfs.options": 'lxc.rootfs.options is not supported, use mount options in "rootfs"',
}
#: Whole families is_valid_lxc_conf_key allows.
PREFIXES = ("lxc.cgroup2.", "lxc.prlimit.", "lxc.net.")
#: $deprecated_lxc_conf_keys (removed with lxc 3.0): kept with a warning on every command.
DEPRECATED = {
    "lxc.aa_profile": "lxc.apparmor.profile",
    "lxc.aa_allow_incomplete": "lxc.apparmor.allow_incomplete",
    "lxc.console": "lxc.console.path",
    "lxc.devttydir": "lxc.tty.dir",
    "lxc.haltsignal": "lxc.signal.halt",
    "lxc.rebootsignal": "lxc.signal.reboot",
    "lxc.stopsignal": "lxc.signal.stop",
    "lxc.id_map": "lxc.idmap",
    "lxc.init_cmd": "lxc.init.cmd",
    "lxc.loglevel": "lxc.log.level",
    "lxc.logfile": "lxc.log.file",
    "lxc.mount": "lxc.mount.fstab",
    "lxc.pts": "lxc.pty.max",
    "lxc.se_context": "lxc.selinux.context",
    "lxc.seccomp": "lxc.seccomp.profile",
    "lxc.tty": "lxc.tty.max",
    "lxc.utsname": "lxc.uts.name",
}


def split_option(text: str) -> Line:
    """``lxc.apparmor.profile=unconfined`` or ``lxc.mount.auto: sys:rw`` -> (key, value).

    The key ends at the first ``=`` or ``:`` (keys contain neither), so both spellings the old
    files use load to the conf-file form ``key: value``.
    """
    cut = min((i for i in (text.find("="), text.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return text.strip(), ""
    return text[:cut].strip(), text[cut + 1 :].strip()


def key_problem(key: str) -> tuple[str, bool] | None:
    """(problem, fatal) for a raw key pct would drop (fatal) or warn about, else None."""
    if not _KEY.match(key):
        return (
            f"{key!r} is not a raw LXC key (lxc. followed by lowercase letters, digits, "
            "'.', '-', '_'; written `lxc.key=value` or `lxc.key: value`)",
            True,
        )
    if key in REFUSED:
        return REFUSED[key], True
    if key in DEPRECATED:
        return f"{key} is deprecated, pct warns on every command: use {DEPRECATED[key]}", False
    if key.startswith(("lxc.cgroup.", "lxc.limit.")):
        return (
            f"{key} is deprecated (cgroup v1 / renamed to lxc.prlimit.*), pct warns on every command",
            False,
        )
    if key in VALID or key.startswith(PREFIXES):
        return None
    return f"pct drops {key!r} as 'unable to parse config' (not a key pve-container accepts)", True
