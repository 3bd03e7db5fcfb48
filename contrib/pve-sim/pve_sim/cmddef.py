"""Where each simulated Proxmox command takes its options from: its row of the tool's $cmddef.

A real `pct`/`qm`/`pvesm`/`pveum` command line is parsed against the parameter schema of the
API method its cmddef row names (pve-common src/PVE/CLIHandler.pm `handle_cmd`, then
src/PVE/RESTHandler.pm `cli_handler`): the row gives the method, the positional `arg_param`
names and the fixed parameters (`{ node => $nodename }`). The schemas are fakepve's vendored
copy of Proxmox VE's API description; methods that the CLI module defines itself (`pct exec`,
`qm guest exec`, ...) are copied here from that module. Rows were read in pve-container
src/PVE/CLI/pct.pm, qemu-server src/PVE/CLI/qm.pm, pve-storage src/PVE/CLI/pvesm.pm,
pve-access-control src/PVE/CLI/pveum.pm; `pvesh` takes the schema of the path it is given
(pve-manager PVE/CLI/pvesh.pm `extract_path_info`).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from fakepve import schema
from fakepve.schema import MAX_INDEX

from .result import CliError

Props = dict[str, dict[str, Any]]

#: pve-common src/PVE/RESTHandler.pm $standard_output_options (pve-output-format in JSONSchema.pm).
OUTPUT_OPTIONS: Props = {
    "output-format": {
        "type": "string",
        "enum": ["text", "json", "json-pretty", "yaml"],
        "optional": 1,
    },
    "noheader": {"type": "boolean", "optional": 1},
    "noborder": {"type": "boolean", "optional": 1},
    "quiet": {"type": "boolean", "optional": 1},
    "human-readable": {"type": "boolean", "optional": 1},
}
_VMID = {"type": "integer", "format": "pve-vmid"}
#: pve-common src/PVE/JSONSchema.pm standard option 'extra-args'.
_EXTRA = {"type": "array", "items": {"type": "string"}, "optional": 1}
#: pct.pm `push`/`pull`: the destination and the new file's owner and mode.
_COPY: Props = {
    "destination": {"type": "string"},
    **{k: {"type": "string", "optional": 1} for k in ("user", "group", "perms")},
}
#: Methods the CLI modules define themselves (register_method in pct.pm / qm.pm / pvesm.pm).
LOCAL: dict[str, Props] = {
    "pct status": {"vmid": _VMID, "verbose": {"type": "boolean", "optional": 1}},
    "pct unlock": {"vmid": _VMID},
    "pct exec": {
        "vmid": _VMID,
        "keep-env": {"type": "boolean", "optional": 1},
        "extra-args": _EXTRA,
    },
    "pct push": {"vmid": _VMID, "file": {"type": "string"}, **_COPY},
    "pct pull": {"vmid": _VMID, "path": {"type": "string"}, **_COPY},
    "qm status": {"vmid": _VMID, "verbose": {"type": "boolean", "optional": 1}},
    "qm unlock": {"vmid": _VMID},
    "qm guest exec": {
        "node": {"type": "string", "format": "pve-node"},
        "vmid": _VMID,
        "synchronous": {"type": "boolean", "optional": 1},
        "timeout": {"type": "integer", "minimum": 0, "optional": 1},
        "pass-stdin": {"type": "boolean", "optional": 1},
        "extra-args": _EXTRA,
    },
    "qm disk import": {
        "vmid": _VMID,
        "source": {"type": "string"},
        "storage": {"type": "string", "format": "pve-storage-id"},
        "format": {"type": "string", "enum": ["raw", "qcow2", "vmdk"], "optional": 1},
        "target-disk": {"type": "string", "optional": 1},
    },
    "pvesm path": {"volume": {"type": "string", "format": "pve-volume-id"}},
}
LOCAL["qm importdisk"] = LOCAL["qm disk import"]


@dataclass(frozen=True)
class Command:
    """One cmddef row: the positionals, the method whose schema the options follow, fixed
    parameters (None: the node's name), the output options, and the parameters the CLI reads
    itself before validating (param_mapping: file names, and interactive passwords, whose
    value is optional: left empty, the tool prompts for it)."""

    args: tuple[str, ...]
    method: str = ""
    path: str = ""
    fixed: dict[str, str | None] = field(default_factory=lambda: {"node": None})
    formatted: bool = False
    mapped: tuple[str, ...] = ()
    interactive: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """What a command line is parsed against: its cmddef row, its option schema and the usage
    line's prefix (`pct set`). One per command, built once (the schemas are large)."""

    command: Command
    properties: Props
    prefix: str

    @functools.cached_property
    def option_names(self) -> dict[str, str]:
        """Getopt's names (lower case) to the schema's, fixed parameters left out: `net[n]`
        is net0, net1, ... up to the highest index fakepve records (schema.MAX_INDEX)."""
        names = {}
        for key in self.properties:
            if key in self.command.fixed:
                continue
            base = key[:-3] if key.endswith("[n]") else None
            for name in [f"{base}{i}" for i in range(MAX_INDEX.get(base, 10))] if base else [key]:
                names[name.lower()] = name
        return names


def api_properties(method: str, path: str) -> Props:
    """A copy of an API method's parameter schema, Perl-only parts made checkable."""
    return copy.deepcopy(_api_properties(method, path))


@functools.cache
def _api_properties(method: str, path: str) -> Props:
    info = schema.load().paths[path][method]
    return _checkable((info.get("parameters") or {}).get("properties") or {})


def _guest(kind: str, verb: str) -> str:
    return f"/nodes/{{node}}/{kind}/{{vmid}}{verb}"


_POWER = ("start", "stop", "shutdown", "reboot", "suspend", "resume")


def _shared(tool: str, kind: str, actions: tuple[str, ...]) -> dict[str, Command]:
    """The rows pct.pm and qm.pm spell alike: the same API methods under lxc or qemu."""
    rows = {
        "destroy": Command(("vmid",), "DELETE", _guest(kind, "")),
        "clone": Command(("vmid", "newid"), "POST", _guest(kind, "/clone")),
        "config": Command(("vmid",), "GET", _guest(kind, "/config")),
        "pending": Command(("vmid",), "GET", _guest(kind, "/pending")),
        "snapshot": Command(("vmid", "snapname"), "POST", _guest(kind, "/snapshot")),
        "delsnapshot": Command(
            ("vmid", "snapname"), "DELETE", _guest(kind, "/snapshot/{snapname}")
        ),
        "listsnapshot": Command(("vmid",), "GET", _guest(kind, "/snapshot")),
        "rollback": Command(
            ("vmid", "snapname"), "POST", _guest(kind, "/snapshot/{snapname}/rollback")
        ),
        "template": Command(("vmid",), "POST", _guest(kind, "/template")),
        "status": Command(("vmid",), fixed={}),
        "unlock": Command(("vmid",), fixed={}),
        **{a: Command(("vmid",), "POST", _guest(kind, f"/status/{a}")) for a in actions},
    }
    return {f"{tool} {verb}": row for verb, row in rows.items()}


_LXC = "/nodes/{node}/lxc"
_QEMU = "/nodes/{node}/qemu"
#: qm.pm param_mapping: sshkeys is read from a file, cipassword prompted for.
_CLOUDINIT = ("sshkeys", "cipassword")
_PROMPT = ("cipassword",)
#: pct.pm, qm.pm, pvesm.pm, pveum.pm $cmddef rows of the commands the simulator implements.
COMMANDS: dict[str, Command] = {
    **_shared("pct", "lxc", _POWER),
    "pct list": Command((), "GET", _LXC),
    "pct set": Command(("vmid",), "PUT", _guest("lxc", "/config")),
    "pct resize": Command(("vmid", "disk", "size"), "PUT", _guest("lxc", "/resize")),
    "pct create": Command(
        ("vmid", "ostemplate"),
        "POST",
        _LXC,
        mapped=("password", "ssh-public-keys"),
        interactive=("password",),
    ),
    "pct exec": Command(("vmid", "extra-args"), fixed={}),
    "pct push": Command(("vmid", "file", "destination"), fixed={}),
    "pct pull": Command(("vmid", "path", "destination"), fixed={}),
    **_shared("qm", "qemu", (*_POWER, "reset")),
    "qm list": Command((), "GET", _QEMU),
    "qm create": Command(("vmid",), "POST", _QEMU, mapped=_CLOUDINIT, interactive=_PROMPT),
    "qm set": Command(
        ("vmid",), "PUT", _guest("qemu", "/config"), mapped=_CLOUDINIT, interactive=_PROMPT
    ),
    "qm disk import": Command(("vmid", "source", "storage"), fixed={}),
    "qm importdisk": Command(("vmid", "source", "storage"), fixed={}),
    "qm disk resize": Command(("vmid", "disk", "size"), "PUT", _guest("qemu", "/resize")),
    "qm resize": Command(("vmid", "disk", "size"), "PUT", _guest("qemu", "/resize")),
    "qm guest cmd": Command(("vmid", "command"), "POST", _guest("qemu", "/agent")),
    "qm agent": Command(("vmid", "command"), "POST", _guest("qemu", "/agent")),
    "qm guest exec": Command(("vmid", "extra-args")),
    "qm guest exec-status": Command(("vmid", "pid"), "GET", _guest("qemu", "/agent/exec-status")),
    "qm cloudinit dump": Command(("vmid", "type"), "GET", _guest("qemu", "/cloudinit/dump")),
    "qm cloudinit pending": Command(("vmid",), "GET", _guest("qemu", "/cloudinit")),
    "qm cloudinit update": Command(("vmid",), "PUT", _guest("qemu", "/cloudinit")),
    "pvesm add": Command(("type", "storage"), "POST", "/storage", fixed={}),
    "pvesm set": Command(("storage",), "PUT", "/storage/{storage}", fixed={}),
    "pvesm remove": Command(("storage",), "DELETE", "/storage/{storage}", fixed={}),
    "pvesm status": Command((), "GET", "/nodes/{node}/storage"),
    "pvesm list": Command(("storage",), "GET", "/nodes/{node}/storage/{storage}/content"),
    "pvesm alloc": Command(
        ("storage", "vmid", "filename", "size"), "POST", "/nodes/{node}/storage/{storage}/content"
    ),
    "pvesm free": Command(
        ("volume",), "DELETE", "/nodes/{node}/storage/{storage}/content/{volume}"
    ),
    "pvesm path": Command(("volume",), fixed={}),
    "pveum user list": Command((), "GET", "/access/users", fixed={}, formatted=True),
    "pveum user add": Command(("userid",), "POST", "/access/users", fixed={}),
    "pveum acl list": Command((), "GET", "/access/acl", fixed={}, formatted=True),
    "pveum acl modify": Command(("path",), "PUT", "/access/acl", fixed={"delete": "0"}),
}

#: pvesh's own options beside the path's parameters (PVE/CLI/pvesh.pm $our_properties).
PVESH_OWN: Props = {
    "api_path": {"type": "string"},
    "noproxy": {"type": "boolean", "optional": 1},
}
PVESH_METHODS = {"get": "GET", "ls": "GET", "create": "POST", "set": "PUT", "delete": "DELETE"}


def spec(tool: str, verb: str, argv: list[str]) -> Spec | None:
    """The schema `tool verb ARGV...` is parsed against, or None for a tool without one.

    `pvesh <verb> <path>` takes the path's method (pvesh.pm extract_path_info, which answers
    "No '<verb>' handler defined for '<path>'" and exits 1 when it has none)."""
    if tool == "pvesh" and verb in PVESH_METHODS:
        if not argv:
            return None
        match = schema.load().match(argv[0].strip("/"))
        if match is None or PVESH_METHODS[verb] not in match.methods:
            raise CliError(f"No '{verb}' handler defined for '{argv[0]}'", rc=1)
        return _pvesh(verb, match.template)
    return _command(f"{tool} {verb}") if f"{tool} {verb}" in COMMANDS else None


@functools.cache
def _command(name: str) -> Spec:
    command = COMMANDS[name]
    props = (
        copy.deepcopy(LOCAL[name])
        if name in LOCAL
        else api_properties(command.method, command.path)
    )
    return Spec(command, {**props, **(OUTPUT_OPTIONS if command.formatted else {})}, name)


@functools.cache
def _pvesh(verb: str, template: str) -> Spec:
    """The path's method less the parameters the path itself fixes (`{node}`, `{vmid}`)."""
    method = PVESH_METHODS[verb]
    props = api_properties(method, template)
    for name in re.findall(r"\{(\w+)\}", template):
        props.pop(name, None)
    command = Command(("api_path",), method, template, fixed={})
    return Spec(command, {**props, **PVESH_OWN, **OUTPUT_OPTIONS}, f"pvesh {verb}")


#: Perl's regular expression flags as the API description prints them, in Python's spelling.
PERL_FLAGS = (("(?^:", "(?:"), ("(?^i:", "(?i:"))
#: Property-string formats the API description only names (fakepve checks four of them):
#: qemu-server src/PVE/QemuServer.pm $cicustom_fmt, registered as 'pve-qm-cicustom'.
NAMED_FORMATS: dict[str, Props] = {
    "pve-qm-cicustom": {
        key: {"type": "string", "optional": 1, "format": "pve-volume-id"}
        for key in ("meta", "network", "user", "vendor")
    },
}


def _checkable(value: Any) -> Any:
    """The schema with Perl-only patterns rewritten (fakepve skips what Python cannot compile)
    and named property-string formats spelled out."""
    if isinstance(value, dict):
        out = {k: _checkable(v) for k, v in value.items()}
        if isinstance(out.get("pattern"), str):
            for perl, python in PERL_FLAGS:
                out["pattern"] = out["pattern"].replace(perl, python)
        if isinstance(out.get("format"), str) and out["format"] in NAMED_FORMATS:
            out["format"] = copy.deepcopy(NAMED_FORMATS[out["format"]])
        return out
    if isinstance(value, list):
        return [_checkable(v) for v in value]
    return value
