"""What `pct create` and `pct set` check and do beyond fakepve's schema: the container's time
zone, its passthrough devices, and the root password and SSH keys written into it.

Sources (read with fetch; pve-container 94f55852, pve-common f665029):

- Time zone: pve-container src/PVE/LXC/Config.pm `verify_ct_timezone` accepts `host`, else
  pve-common src/PVE/JSONSchema.pm `pve_verify_timezone`: `UTC`, or a zone named in the third
  column of `/usr/share/zoneinfo/zone.tab`, else `invalid time zone '<tz>'`; a format failure
  prints as `<key>: invalid format - <reason>` under `400 Parameter verification failed.`.
- Devices: Config.pm `update_pct_config` (reached by `pct set` and by API2/LXC.pm `create_vm`
  before the task) parses `devN` with `parse_device` and calls src/PVE/LXC/Tools.pm
  `get_device_mode_and_rdev`, which stats the host path: `Device <path> does not exist`, or
  `<path> is not a device` when it is neither a block nor a character device. The simulated
  node's devices are files under `DIR/dev/` holding `c MAJOR:MINOR` or `b MAJOR:MINOR`
  (hoststate.BASE_TREE seeds the usual ones).
- Password: src/PVE/CLI/pct.pm `param_mapping` maps create_vm's `password` through pve-common
  src/PVE/CLIHandler.pm's `pve-password` mapping (interactive): JSONSchema.pm `get_options`
  makes its value optional and, when it is empty, calls src/PVE/PTY.pm `get_confirmed_password`,
  which reads two lines (`read_password` takes a line from stdin when it is not a terminal) and
  dies `passwords do not match`, or `EOF while reading password` on a short stdin.
- Inside the container: src/PVE/LXC/Setup/Base.pm `set_user_password` writes root's crypt hash
  to `/etc/shadow` (a value already a `$N$salt$hash` crypt string is kept), and
  `set_user_authorized_ssh_keys` writes the keys to `/root/.ssh/authorized_keys`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from .result import CliError, lines

#: Where the simulated node's zone table and devices live, relative to its root.
ZONE_TAB = "usr/share/zoneinfo/zone.tab"
#: Setup/Base.pm set_user_password: a value matching this is already a crypt hash.
_CRYPT = re.compile(r"^\$(?:1|2[axy]?|5|6)\$[a-zA-Z0-9./]{1,16}\$[a-zA-Z0-9./]+$")


def zones(root: Path) -> set[str]:
    """The zone names of the node's zone.tab (its third, tab-separated column)."""
    try:
        text = (root / ZONE_TAB).read_text()
    except FileNotFoundError:
        text = Path("/", ZONE_TAB).read_text() if Path("/", ZONE_TAB).is_file() else ""
    return {
        fields[2]
        for line in text.splitlines()
        if not line.lstrip().startswith("#") and len(fields := line.split("\t")) > 2
    }


def check_params(root: Path, params: Sequence[tuple[str, str]], usage: str) -> None:
    """Refuse a bad ``timezone`` as the schema does, then a ``devN`` whose host path is no
    device as update_pct_config does (a plain die: no usage line)."""
    for key, value in params:
        if key == "timezone" and value not in ("host", "UTC") and value not in zones(root):
            raise CliError(
                lines(
                    [
                        "400 Parameter verification failed.",
                        f"timezone: invalid format - invalid time zone '{value}'",
                        usage,
                    ]
                )
            )
    for key, value in params:
        if re.fullmatch(r"dev\d+", key):
            device_problem(root, key, value)


def device_problem(root: Path, key: str, value: str) -> None:
    first = value.split(",")[0]
    path = first.split("=", 1)[1] if first.startswith("path=") else first
    if "=" in first and not first.startswith("path="):
        raise CliError(f"Path is not defined for passthrough device {key}")
    node = root / path.lstrip("/")
    if not path.startswith("/dev/") or not node.is_file():
        raise CliError(f"Device {path} does not exist\n")
    if not node.read_text().startswith(("c ", "b ")):
        raise CliError(f"{path} is not a device\n")


def read_password(stdin: str | None) -> str:
    """PTY.pm get_confirmed_password on a stdin that is not a terminal: two equal lines."""
    entered = (stdin or "").split("\n")
    if len(entered) < 3 and not (len(entered) == 2 and entered[1]):
        raise CliError("EOF while reading password\n")
    if entered[0] != entered[1]:
        raise CliError("passwords do not match\n")
    return entered[0]


def shadow_hash(password: str) -> str:
    """The hash the simulator writes: kept when it is one already, else a stand-in for crypt
    with a ``$6$`` shape (tests compute it to see which password arrived)."""
    if _CRYPT.match(password):
        return password
    return "$6$pvesim$" + hashlib.sha256(password.encode()).hexdigest()


def write_root_access(guest_root: Path, password: str | None, keys: str | None) -> None:
    """What post_create_hook writes into the new container's root file system."""
    if password is not None:
        shadow = guest_root / "etc" / "shadow"
        shadow.parent.mkdir(parents=True, exist_ok=True)
        shadow.write_text(f"root:{shadow_hash(password)}:19000:0:99999:7:::\n")
        shadow.chmod(0o640)
    if keys is not None:
        ssh = guest_root / "root" / ".ssh"
        ssh.mkdir(parents=True, exist_ok=True)
        ssh.chmod(0o700)
        (ssh / "authorized_keys").write_text(keys)
        (ssh / "authorized_keys").chmod(0o700)


def unique_tags(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``tags`` as pve-guest-common GuestHelpers.pm get_unique_tags stores them (default tag
    style: sorted, lower-cased, each once, ``;``-joined). qemu-server API2/Qemu.pm update_vm
    applies it to `qm set --tags`; fakepve does so for `pct` and `qm create` only."""
    return [
        (
            k,
            ";".join(sorted({t.lower() for t in re.split(r"[;, ]+", v) if t}))
            if k == "tags"
            else v,
        )
        for k, v in params
    ]
