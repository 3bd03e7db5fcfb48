"""What `pvesm add` does before it writes storage.cfg: activate the storage, so a storage that
cannot be activated is not added.

pve-storage src/PVE/API2/Storage/Config.pm `create` (stable-8 and master alike): inside
`lock_storage_config(..., "create storage failed")`, when the storage is enabled on this node,
`PVE::Storage::activate_storage`; an error runs `on_delete_hook` and dies, storage.cfg is not
written, and pvesm exits 255 with "create storage failed: <error>". src/PVE/Storage.pm
`activate_storage` first asks the plugin's `check_connection` ("storage 'ID' is not online"),
then its `activate_storage`:

- DirPlugin (`is_mountpoint` yes, or a path): "unable to activate storage 'ID' - directory is
  expected to be a mount point but is not mounted: 'MP'" unless a file system is mounted there
  (here: a ZFS dataset's mountpoint, HostState.mounted);
- NFSPlugin: `check_connection` runs `rpcinfo -T tcp IP nfs 4` for `vers=4*` options (else
  `showmount`), so the server must answer NFS (here: the server is one of the node's own
  addresses and nfs-server.service is active); then `mount -t nfs SERVER:EXPORT PATH` through
  run_command with errmsg "mount error", which reports mount.nfs's last line (nfs-utils
  utils/mount/error.c mount_error: "access denied by server while mounting", "mounting ...
  failed, reason given by server: No such file or directory"). The default path is
  /mnt/pve/ID (NFSPlugin check_config); the simulated mount links it to the export.
"""

from __future__ import annotations

import ipaddress
import os

from .hoststate import HostState
from .result import CliError
from .tool_exportfs import ANONYMOUS, FQDN, SUBNETWORK, client_type

TRUE, FALSE = {"1", "yes", "on", "true"}, {"0", "no", "off", "false"}


def _failed(message: str) -> CliError:
    return CliError(f"create storage failed: {message}", rc=255)


def _mountpoint(params: dict[str, str]) -> str | None:
    """DirPlugin parse_is_mountpoint: a boolean means the storage's path, else a path."""
    value = params.get("is_mountpoint")
    if value is None or value.lower() in FALSE:
        return None
    return params.get("path") if value.lower() in TRUE else value


def _client_covers(state: HostState, client: str, address: str) -> bool:
    kind = client_type(client)
    if kind == ANONYMOUS:
        return True
    if kind == SUBNETWORK:
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(client, strict=False)
        except ValueError:
            return False
    if kind == FQDN:
        try:
            return ipaddress.ip_address(client) == ipaddress.ip_address(address)
        except ValueError:
            return address in state.resolve(client)
    return False


def _nfs(state: HostState, node_name: str, storage: str, params: dict[str, str]) -> None:
    server, export = params.get("server", ""), params.get("export", "")
    own = state.addresses(node_name) | {"localhost", node_name}
    unit = state.units.get("nfs-server.service")
    if server not in own or unit is None or not unit.active:
        raise _failed(f"storage '{storage}' is not online")
    source = "127.0.0.1" if server in ("localhost", node_name) else server
    spec = f"{server}:{export}"
    exported = [c for p, c, _ in state.exports if p.rstrip("/") == export.rstrip("/")]
    if not exported:
        raise _failed(
            f"mount error: mount.nfs: mounting {spec} failed, reason given by server: "
            "No such file or directory"
        )
    if not any(_client_covers(state, c, source) for c in exported):
        raise _failed(f"mount error: mount.nfs: access denied by server while mounting {spec}")
    target = state.path(params["path"])
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.symlink(state.path(export), target)


def activate(state: HostState, node_name: str, kind: str, storage: str,
             params: dict[str, str]) -> None:  # fmt: skip
    """Refuse, with pve-storage's text, a storage its plugin cannot activate."""
    if kind == "dir":
        where = _mountpoint(params)
        if where is not None and not state.mounted(where):
            raise _failed(
                f"unable to activate storage '{storage}' - directory is expected to be a "
                f"mount point but is not mounted: '{where}'"
            )
    elif kind == "nfs":
        _nfs(state, node_name, storage, params)
