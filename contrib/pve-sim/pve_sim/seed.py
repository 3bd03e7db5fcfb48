"""Seed files: the storages, templates, images and guests a simulated node starts with.

Format (JSON, every key optional):

    {"storages":  [{"id": "local", "type": "dir", "content": "iso,vztmpl,backup",
                    "path": "/var/lib/vz", "total": 107374182400, "avail": 53687091200}],
     "templates": [{"storage": "local", "name": "debian-12-standard_12.7-1_amd64.tar.zst"}],
     "images":    [{"storage": "local", "name": "noble-server-cloudimg-amd64.img"}],
     "catalogue": ["debian-12-standard_12.7-1_amd64.tar.zst"],
     "guests":    [fakepve guests entries: {"vmid", "type": "lxc"|"qemu", "name", "config", ...}]}

When "storages" is given it replaces fakepve's built-in `local` and `local-lvm`. A seed that
says `"install": "lvmthin"` (or `"zfs"`) instead gets the storages the installer of the
release the node plays writes (profile.installer_storages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .profile import DEFAULT, PROFILES, Profile, installer_storages

_HERE = Path(__file__).resolve().parent
#: The shipped seeds: package data (``pve_sim/seeds/``) when installed from a wheel, beside
#: the package (``contrib/pve-sim/seeds/``, which pyproject.toml maps into it) in the source.
SEEDS = _HERE / "seeds" if (_HERE / "seeds").is_dir() else _HERE.parent / "seeds"
DEFAULT_SEED = SEEDS / "default.json"
MIB = 1024**2
GUEST_ATTRS = ("shutdown_secs", "start_secs", "stop_secs", "start_error", "ha_state")


def locate(path: Path | str) -> Path:
    """A seed file's absolute path, or a shipped seed's by name (``original-etc``)."""
    path = Path(path)
    if not path.exists() and path.name == str(path) and (SEEDS / f"{path}.json").is_file():
        return SEEDS / f"{path}.json"
    return path.resolve()


def load(path: Path | None) -> dict[str, Any]:
    """Read a seed (:func:`locate`); without one, the shipped ``default.json``."""
    return json.loads(locate(path or DEFAULT_SEED).read_text())


def for_release(seed: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """The seed with the storages a fresh install of ``profile`` has, when it names a layout."""
    if "install" not in seed or "storages" in seed:
        return seed
    return {**seed, "storages": installer_storages(profile, seed["install"])}


def apply(pve: Any, seed: dict[str, Any], node: str = "pve1") -> list[str]:
    """Put the seed into a FakePve; returns the `pveam available` catalogue."""
    if "storages" in seed:
        pve.storages.clear()
        for entry in seed["storages"]:
            options = {k: v for k, v in entry.items() if k != "id"}
            options.setdefault("active", 1)
            options["files"] = set()
            pve.storages[entry["id"]] = options
    for tpl in seed.get("templates", []):
        pve.store_file(tpl["storage"], tpl["name"], tpl.get("size", 128 * MIB), content="vztmpl")
    for image in seed.get("images", []):
        pve.store_file(
            image["storage"],
            image["name"],
            image.get("size", 600 * MIB),
            content=image.get("content", "iso"),
        )
    for guest in seed.get("guests", []):
        _add_guest(pve, dict({"node": node}, **guest))
    names = [t["name"] for t in seed.get("templates", [])]
    return sorted(set(seed.get("catalogue", [])) | set(names))


def _add_guest(pve: Any, guest: dict[str, Any]) -> None:
    if guest.get("type", "qemu") == "lxc":
        ct = pve.add_ct(
            guest["vmid"],
            guest.get("name"),
            node=guest.get("node", "pve1"),
            status=guest.get("status", "stopped"),
            config=guest.get("config", {}),
            template=guest.get("template", False),
            lock=guest.get("lock"),
            ostemplate=guest.get("ostemplate"),
        )
        for key in GUEST_ATTRS:
            if key in guest:
                setattr(ct, key, guest[key])
        return
    vm = pve.add_vm(
        guest["vmid"],
        guest["name"],
        node=guest.get("node", "pve1"),
        status=guest.get("status", "stopped"),
        qmpstatus=guest.get("qmpstatus"),
        config=guest.get("config", {}),
        template=guest.get("template", False),
        lock=guest.get("lock"),
    )
    for key in (*GUEST_ATTRS, "agent"):
        if key in guest:
            setattr(vm, key, guest[key])


def with_local_snippets(seed: Path, directory: Path) -> Path:
    """A copy of ``seed`` (written into ``directory``) whose ``local`` storage holds snippets,
    as on a node where snippets are enabled. Its files (cloud-init vendor data) are under the
    storage's path on the node, ``/var/lib/vz``: in the node directory, as phoenix reaches
    them through ``--host sim:DIR``."""
    data = for_release(json.loads(Path(seed).read_text()), PROFILES[DEFAULT])
    for storage in data["storages"]:
        if storage["id"] == "local":
            storage["content"] += ",snippets"
    path = Path(directory) / "seed.json"
    path.write_text(json.dumps(data, indent=2))
    return path
