"""A node's storage definitions, as ``pvesh get /storage[/<id>]`` prints them, read once per
guest: what content a storage holds decides where the cloud image and the vendor snippet go.

Read from ``/etc/pve/storage.cfg`` (a file read, no Perl start-up; parsed by
:func:`phoenix_pve.etcpve.parse_storage_cfg` as pve-storage parses it), and from ``pvesh``
only when the file is missing, leaves a storage's content to its plugin's default, or does not
hold the storage asked for (then the API's own error is the message)."""

from __future__ import annotations

import json

from phoenix_core.errors import PhoenixError
from phoenix_pve import errors, etcpve
from phoenix_pve.live import Live


def _from_file(live: Live) -> list[dict[str, object]] | None:
    def read() -> list[dict[str, object]] | None:
        try:
            text = live.host.read_file(f"{live.pve_etc}/storage.cfg").decode()
        except FileNotFoundError:
            return None
        return etcpve.parse_storage_cfg(text)

    return live.memo("storage.cfg", read)


def config(live: Live, storage: str) -> dict[str, object]:
    """One storage's definition (``content``, ``path`` ...), read once until the next change."""
    found = next((s for s in _from_file(live) or [] if s.get("storage") == storage), None)
    if found is not None:
        return found

    def read() -> dict[str, object]:
        argv = ["pvesh", "get", f"/storage/{storage}", "--output-format", "json"]
        data = json.loads(errors.check(live.query(argv)).stdout or "{}")
        return data if isinstance(data, dict) else {}

    return live.memo(f"storage:{storage}", read)


def contents(conf: dict[str, object]) -> list[str]:
    """The content types a storage holds, in its own order."""
    return [c for c in str(conf.get("content") or "").split(",") if c]


def enable_hint(storage: str, conf: dict[str, object], content: str) -> str:
    """The command that adds ``content`` to a storage (``pvesm set --content`` replaces the
    whole list, so the current types are kept)."""
    wanted = ",".join([*contents(conf), content])
    return f"pvesm set {storage} --content {wanted}"


def snippets_home(live: Live, chosen: str | None) -> tuple[str, str]:
    """The storage the cloud-init vendor snippet goes on and its ``snippets/`` directory:
    ``chosen`` (``snippets_storage``), else the first storage by id that holds snippets and
    has a directory. Proxmox VE installs no storage with snippets content
    (pve-installer Proxmox/Install/StorageConfig.pm), so one must be enabled or made (the old
    homelab's NFS storages hold snippets); the error names how."""
    if chosen is not None:
        conf = config(live, chosen)
        if "snippets" in contents(conf) and conf.get("path"):
            return chosen, f"{str(conf['path']).rstrip('/')}/snippets"
        raise PhoenixError(
            f"{live.name}: storage {chosen!r} holds no snippets (content: "
            f"{','.join(contents(conf)) or 'none'}); cloud-init vendor data needs one: enable "
            f"it with `{enable_hint(chosen, conf, 'snippets')}` or set snippets_storage"
        )
    for conf in listing(live):
        if "snippets" in contents(conf) and conf.get("path"):
            return str(conf["storage"]), f"{str(conf['path']).rstrip('/')}/snippets"
    local = next((c for c in listing(live) if c.get("storage") == "local"), None)
    fix = enable_hint("local", local, "snippets") if local else "pvesm set <id> --content ..."
    raise PhoenixError(
        f"{live.name}: no storage of this node holds snippets, which the cloud-init vendor "
        f"data needs (Proxmox VE enables none at install): enable them on a directory "
        f"storage, e.g. `{fix}`, or set snippets_storage"
    )


def listing(live: Live) -> list[dict[str, object]]:
    """Every storage's definition, sorted by id (``pvesh get /storage``), read once."""

    def read() -> list[dict[str, object]]:
        found = _from_file(live)
        if found is None:
            argv = ["pvesh", "get", "/storage", "--output-format", "json"]
            data = json.loads(errors.check(live.query(argv)).stdout or "[]")
            found = [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []
        return sorted(found, key=lambda d: str(d.get("storage", "")))

    return live.memo("storages", read)
