"""`exportfs`: the NFS export table, read and printed as nfs-utils does.

Read in linux-nfs/nfs-utils (`7acc8b94`):

- `-ra` re-reads /etc/exports and /etc/exports.d/*.exports. An option is one of
  support/nfs/exports.c parseopts's keywords (`fsid=`, `anonuid=`, `sec=` ... included); any
  other is `FILE:LINE: unknown keyword "X"`, a client whose parentheses do not close is
  `FILE:LINE: syntax error: bad option list`. A path that does not exist is
  `Failed to stat PATH: No such file or directory` (utils/exportfs/exportfs.c
  validate_export). Both are L_ERROR: the entry is skipped, the others exported, and exportfs
  exits 1 (support/nfs/xlog.c sets export_errno). A host name that does not resolve is a
  warning (`Failed to resolve NAME`, support/export/client.c client_lookup) and skipped.
- `-v` is exportfs.c dump(): exports grouped by client type in enum order (host names and
  addresses, subnets, wildcards, netgroups, then the anonymous `*`, printed `<world>`), a
  host name as its canonical name (client_lookup takes getaddrinfo's ai_canonname; here the
  first name of its /etc/hosts line), the path padded to 14 (a longer one alone on its line),
  then the flags dump() prints and secinfo_show's `sec=...,rw|ro,...`.
- `-s` (export_format) prints the configuration form, `*` as is.
"""

from __future__ import annotations

import ipaddress
import re

from .argv import Args
from .common import Verb
from .hoststate import HostState
from .node import Node
from .result import CliError, Result, lines
from .tool_zfs import _options

EXPORT_LINE = re.compile(r"^(/\S*)\s+(.+)$")
CLIENT = re.compile(r"^([^()\s]*)\((.*)$")
#: parseopts's keywords, and those that take `=value`.
KEYWORDS = {
    "ro", "rw", "secure", "insecure", "sync", "async", "nordirplus", "security_label",
    "sign_fh", "nohide", "hide", "crossmnt", "nocrossmnt", "wdelay", "no_wdelay",
    "root_squash", "no_root_squash", "all_squash", "no_all_squash", "subtree_check",
    "no_subtree_check", "auth_nlm", "no_auth_nlm", "secure_locks", "insecure_locks", "acl",
    "no_acl", "pnfs", "no_pnfs", "mountpoint", "mp",
}  # fmt: skip
VALUED = ("anonuid", "anongid", "squash_uids", "squash_gids", "fsid", "mountpoint", "mp",
          "fsloc", "refer", "replicas", "sec", "xprtsec", "reexport")  # fmt: skip
#: dump()'s loop order: MCL_FQDN (names and single addresses), MCL_SUBNETWORK,
#: MCL_WILDCARD, MCL_NETGROUP, MCL_ANONYMOUS (support/include/exportfs.h).
FQDN, SUBNETWORK, WILDCARD, NETGROUP, ANONYMOUS = range(5)


def client_type(client: str) -> int:
    """support/export/client.c client_gettype."""
    if client in ("", "*"):
        return ANONYMOUS
    if client.startswith("@"):
        return NETGROUP
    if any(c in client for c in "*?["):
        return WILDCARD
    return SUBNETWORK if "/" in client else FQDN


def canonical(state: HostState, client: str) -> str | None:
    """What getaddrinfo's ai_canonname gives for a host: an address itself, a name the
    first name of its /etc/hosts line; None when it does not resolve."""
    try:
        ipaddress.ip_address(client)
        return client
    except ValueError:
        pass
    entries = state.hosts(client)
    return entries[0][1] if entries else None


def _bad_option(options: list[str]) -> str | None:
    for option in options:
        key, eq, _ = option.partition("=")
        if not (option in KEYWORDS or (eq and key in VALUED)):
            return option
    return None


def read_table(state: HostState) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(path, client, options) of each entry exportfs -ra exports, and its error lines."""
    files = [state.path("/etc/exports")]
    directory = state.path("/etc/exports.d")
    if directory.is_dir():
        files += sorted(p for p in directory.iterdir() if p.name.endswith(".exports"))
    table, errors = [], []
    for path in (f for f in files if f.is_file()):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            found = EXPORT_LINE.match(line)
            if not line:
                continue
            where = f"exportfs: {path}:{number}"
            for client in found[2].split() if found else [""]:
                parsed = CLIENT.match(client)
                if found is None or (parsed and not parsed[2].endswith(")")):
                    errors.append(f"{where}: syntax error: bad option list")
                    continue
                name, options = (parsed[1], parsed[2][:-1]) if parsed else (client, "")
                bad = _bad_option([o for o in options.split(",") if o])
                if bad is not None:
                    errors.append(f'{where}: unknown keyword "{bad}"')
                    continue
                table.append((found[1], name or "*", options))
    return table, errors


def export(state: HostState) -> Result:
    """`exportfs -ra`: the table replaced by what the files say, minus what cannot be exported."""
    table, errors = read_table(state)
    exported, warnings = [], []
    for path, client, options in table:
        if not state.path(path).exists():
            errors.append(f"exportfs: Failed to stat {path}: No such file or directory")
        elif client_type(client) == FQDN and canonical(state, client) is None:
            warnings.append(f"exportfs: Failed to resolve {client}")
        else:
            exported.append((path, client, options))
    state.exports = exported
    return Result(1 if errors else 0, "", lines(warnings + errors))


def verbose(state: HostState, path: str, client: str, options: str) -> str:
    """One export as `exportfs -v` prints it (dump)."""
    given = [o for o in options.split(",") if o]

    def pick(on: str, off: str, default: str) -> str:
        return on if on in given else off if off in given else default

    shown = [
        pick("async", "sync", "sync"),
        pick("no_wdelay", "wdelay", "wdelay"),
        pick("nohide", "hide", "hide"),
        *(["crossmnt"] if "crossmnt" in given else []),
        *(["no_subtree_check"] if "subtree_check" not in given else []),
        *(o for o in given if o.split("=")[0] in ("fsid", "anonuid", "anongid")),
        next((o for o in given if o.startswith("sec=")), "sec=sys"),
        pick("ro", "rw", "ro"),
        pick("insecure", "secure", "secure"),
        pick("no_root_squash", "root_squash", "root_squash"),
        pick("all_squash", "no_all_squash", "no_all_squash"),
    ]
    kind = client_type(client)
    name = "<world>" if kind == ANONYMOUS else canonical(state, client) if kind == FQDN else client
    head = f"{path:<14}\n\t\t{name}" if len(path) > 14 else f"{path:<14}\t{name}"
    return f"{head}({','.join(shown)})\n"


async def exportfs(node: Node, args: Args) -> Result:
    """`exportfs -ra`, `-s`, `-v`."""
    state = node.host
    opts, _ = _options(args.positional, "rasv", "o")
    if "s" in opts:
        return Result(0, lines(f"{p}  {c}({o})" for p, c, o in state.exports))
    if "v" in opts and "r" not in opts:
        ordered = sorted(state.exports, key=lambda e: client_type(e[1]))
        return Result(0, "".join(verbose(state, *e) for e in ordered))
    if "r" not in opts or "a" not in opts:
        raise CliError("exportfs: only -ra, -s and -v are simulated", rc=1)
    return export(state)


EXPORTFS: dict[str, Verb] = {
    "": Verb(exportfs, True, raw=True, mutates=lambda argv: argv[1:] not in (["-s"], ["-v"]))
}
