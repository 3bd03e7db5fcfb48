"""`pvesh get|create|set|delete <path>`: the API passed through, JSON or text output."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .argv import Args
from .common import Verb, call, task
from .node import Node
from .result import CliError, Result

METHODS = {"get": "GET", "ls": "GET", "create": "POST", "set": "PUT", "delete": "DELETE"}
OUTPUT_OPTS = ("output-format", "noborder", "noheader", "quiet", "human-readable")


def is_write(argv: list[str]) -> bool:
    """pvesh create/set/delete change state; get/ls do not."""
    return len(argv) > 1 and argv[1] in ("create", "set", "delete")


def _text(data: Any) -> str:
    if data is None:
        return ""
    if isinstance(data, (str, int, float)):
        return f"{data}\n"
    return json.dumps(data, indent=4, sort_keys=True) + "\n"


DOWNLOAD = re.compile(r"^nodes/[^/]+/storage/([^/]+)/download-url$")
ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


async def download_url(node: Node, storage: str, params: list[tuple[str, str]]) -> Result:
    """`download-url` as pve-storage src/PVE/API2/Storage/Status.pm runs it, through pve-common
    src/PVE/Tools.pm download_file_from_url: "downloading <url> to <dest>"; a file already there
    is kept when the given checksum matches ("OK, got correct file already, no need to
    download"), refused otherwise ("refusing to override existing file '<dest>'", or the
    mismatch ", aborting"); wget's failure is "download failed: command ... failed: exit code
    8"; a fresh download whose checksum differs is dropped ("checksum mismatch: got '<got>' !=
    expect '<expected>'"). The simulator fetches only what SimNode.add_remote_file registered."""
    values = dict(params)
    filename, content, url = (values.get(k, "") for k in ("filename", "content", "url"))
    store = node.pve.storages.get(storage) or {}
    folder = _content_dir(store, storage, content, filename)
    dest = f"{store.get('path', '')}/{folder}/{filename}"
    head = f"downloading {url} to {dest}\n"
    expected, algorithm = values.get("checksum"), values.get("checksum-algorithm", "")
    if expected and algorithm not in ALGORITHMS:
        raise CliError(
            "400 Parameter verification failed.\nchecksum-algorithm: value "
            f"'{algorithm}' does not have a value in the enumeration '{', '.join(ALGORITHMS)}'"
        )
    existing = f"{content}/{filename}" in (store.get("volumes") or {}) or (
        content == "iso" and filename in store.get("files", ())
    )
    if existing:
        if not expected:
            raise CliError(f"refusing to override existing file '{dest}'")
        got = hashlib.new(algorithm, node.stored_files.get(dest, b"")).hexdigest()
        if got == expected.lower():
            ok = "OK, got correct file already, no need to download\n"
            ok = "calculating checksum of existing file..." + ok
            return Result(0, head + ok)
        message = f"checksum mismatch: got '{got}' != expect '{expected}', aborting\n"
        return Result(255, head + "calculating checksum of existing file...\n", message)
    data = node.remote_files.get(url)
    if data is None:
        wget = f"wget --progress=dot:giga -O {dest}.tmp_dwnl.4242 {url}"
        return Result(255, head, f"download failed: command '{wget}' failed: exit code 8\n")
    if expected:
        got = hashlib.new(algorithm, data).hexdigest()
        if got != expected.lower():
            message = f"checksum mismatch: got '{got}' != expect '{expected}'\n"
            return Result(255, head + "calculating checksum...\n", message)
    params = [*params, ("size", str(len(data)))]
    upid = await call(node, "POST", f"/nodes/{node.name}/storage/{storage}/download-url", params)
    result = await task(node, upid)
    if result.rc != 0:
        return result
    node.stored_files[dest] = data
    checked = "calculating checksum...OK, checksum verified\n" if expected else ""
    return Result(0, head + checked)


#: Parameters whose API format is a `-list`: the `delete` phoenix sends (pve-firewall
#: src/PVE/API2/Firewall/Cluster.pm set_options: `format => 'pve-configid-list'`).
LIST_PARAMS = {"delete"}


def joined(params: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A `-list` option given several times as one comma-separated value: pve-common
    src/PVE/JSONSchema.pm get_options ("allow --vmid 100 --vmid 101 and --vmid 100,101":
    `join(",", @$value)` for a format matching /-list/)."""
    lists = {k: ",".join(v for n, v in params if n == k) for k, _ in params if k in LIST_PARAMS}
    out = [(k, v) for k, v in params if k not in lists]
    return out + list(lists.items())


#: pve-storage src/PVE/Storage.pm: $ISO_EXT_RE_0, and $SAFE_CHAR_CLASS_RE with
#: $UPLOAD_IMPORT_EXT_RE_1 (what download_url takes as `import` content).
ISO_NAME = re.compile(r"[^/]+\.(?:iso|img)", re.IGNORECASE)
IMPORT_NAME = re.compile(r"[a-zA-Z0-9\-.+=_]+\.(?:ova|qcow2|raw|vmdk)")
VZTMPL_NAME = re.compile(r"[^/]+\.tar(?:\.(?:gz|xz|zst|bz2))?", re.IGNORECASE)


#: download_url's content types: the file name rule, its error, and the storage directory.
CONTENT_RULES = {
    "iso": (ISO_NAME, "wrong file extension", "template/iso"),
    "vztmpl": (VZTMPL_NAME, "wrong file extension", "template/cache"),
    "import": (IMPORT_NAME, "invalid filename or wrong extension", "import"),
}


def _content_dir(store: dict[str, Any], storage: str, content: str, filename: str) -> str:
    """pve-storage src/PVE/API2/Storage/Status.pm download_url, in its order: the content
    enum (schema), the storage's content ("storage '<id>' is not configured for
    content-type '<c>'"), the file name of that type ("wrong file extension"; for import
    "invalid filename or wrong extension", pve-storage >= 8.2.8, which both profiles ship),
    and its directory (get_iso_dir, get_vztmpl_dir, get_import_dir)."""
    if content not in CONTENT_RULES:
        raise CliError(
            "400 Parameter verification failed.\ncontent: value "
            f"'{content}' does not have a value in the enumeration 'iso, vztmpl, import'"
        )
    if content not in str(store.get("content", "")).split(","):
        raise CliError(f"storage '{storage}' is not configured for content-type '{content}'")
    pattern, problem, folder = CONTENT_RULES[content]
    if not pattern.fullmatch(filename):
        raise CliError(f"400 Parameter verification failed.\nfilename: {problem}")
    return folder


def _with_node_memory(node: Node, entry: Any) -> Any:
    """This node's ``maxmem`` is its ``MemTotal`` (DIR/proc/meminfo), as on a node: pve-manager
    PVE/API2Tools.pm extract_node_stats reports the rrd data that PVE/Service/pvestatd.pm
    update_node_status fills with pve-common ProcFSTools.pm read_meminfo's ``memtotal``
    (fakepve answers a fixed 8 GiB)."""
    if isinstance(entry, dict) and entry.get("type") == "node" and entry.get("node") == node.name:
        return {**entry, "maxmem": node.host.memory}
    return entry


def _verb(method: str):
    async def run(node: Node, args: Args) -> Result:
        path = args.positional[0]
        parts = path.strip("/").split("/")
        if len(parts) > 1 and parts[0] == "nodes" and parts[1] == "localhost":
            parts[1] = node.name
        params = joined([(k, v) for k, v in args.params() if k not in OUTPUT_OPTS])
        download = DOWNLOAD.match("/".join(parts)) if method == "POST" else None
        if download:
            return await download_url(node, download.group(1), params)
        data = await call(node, method, "/" + "/".join(parts), params)
        if parts == ["cluster", "resources"] and isinstance(data, list):
            data = [_with_node_memory(node, entry) for entry in data]
        fmt = args.get("output-format", "text")
        if fmt == "json":
            return Result(0, json.dumps(data, separators=(",", ":")) + "\n")
        if fmt == "json-pretty":
            return Result(0, json.dumps(data, indent=4, sort_keys=True) + "\n")
        return Result(0, _text(data))

    run.__doc__ = f"pvesh verb mapped to HTTP {method}."
    return run


VERBS: dict[str, Verb] = {
    name: Verb(_verb(method), False, ("api_path",)) for name, method in METHODS.items()
}
