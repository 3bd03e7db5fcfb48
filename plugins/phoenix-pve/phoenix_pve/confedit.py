"""Editing a guest's conf file under ``/etc/pve`` the way Proxmox's own tools do.

``/etc/pve`` is pmxcfs: pve-cluster src/pmxcfs/pmxcfs.c cfs_fuse_chmod refuses every chmod but
to 0640, so a temporary file chmodded 0600 (what a generic upload does) fails with EPERM. The
conf edit therefore follows pve-container: PVE::LXC::Config->lock_config (pve-guest-common
src/PVE/AbstractConfig.pm lock_config_full) holds an flock on the guest's config lock
(``/run/lock/lxc/pve-config-<id>.lock``) around read-modify-write, and write_config goes
through PVE::Cluster::cfs_write_file to pve-common src/PVE/Tools.pm file_set_contents: create
``<file>.tmp.<pid>`` beside the file, write it, rename it over the file, never chmod.

One fixed script runs on the node with the paths and the expected digest as positional
arguments and the new content on stdin, so no config value is ever part of a shell string.
Under the lock it checks that the file is still what phoenix read (a concurrent ``pct set``
would otherwise be lost), then writes atomically with umask 027 (files appear 0640 on any
filesystem; pmxcfs ignores the creation mode anyway).
"""

from __future__ import annotations

import hashlib

from phoenix_core.hosts.base import Host, node_path
from phoenix_pve import errors
from phoenix_pve.guest import GuestKind

LOCK_WAIT = 10  # seconds, as PVE's lock_file waits for a config lock
SCRIPT = r"""set -eu
conf=$1 lock=$2 expected=$3 wait=$4
mkdir -p -- "${lock%/*}"
exec 9>>"$lock"
flock -w "$wait" 9 || { echo "can't lock file '$lock' - got timeout" >&2; exit 1; }
actual=$(sha256sum <"$conf")
if [ "${actual%% *}" != "$expected" ]; then
    echo "$conf changed while it was being edited; run again" >&2
    exit 1
fi
umask 027
tmp="$conf.tmp.$$"
trap 'rm -f -- "$tmp"' EXIT
cat >"$tmp"
mv -f -- "$tmp" "$conf"
trap - EXIT
"""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def replace(
    host: Host,
    kind: GuestKind,
    vmid: int,
    path: str,
    old: str,
    new: str,
    *,
    lock_timeout: float | None = None,
) -> None:
    """Replace the conf file ``path`` (whose content phoenix read as ``old``) by ``new``, under
    the guest's config lock; a lock held elsewhere is waited out like any other lock, for up
    to ``lock_timeout`` seconds."""
    argv = [
        "sh",
        "-c",
        SCRIPT,
        "phoenix-conf-edit",
        node_path(host, path),
        node_path(host, kind.lock_path(vmid)),
        digest(old),
        str(LOCK_WAIT),
    ]
    errors.change_retrying(host, argv, input=new, lock_timeout=lock_timeout)
