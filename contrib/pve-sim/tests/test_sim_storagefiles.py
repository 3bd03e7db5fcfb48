"""Container templates are files in the node directory where a real node keeps them
(storagefiles.py): seeded, downloaded, freed, on a storage with ``content-dirs``, and after the
storage is removed."""

from __future__ import annotations

from pve_sim import storagefiles
from pve_sim.fixture import SimNode

SEEDED = "debian-12-standard_12.7-1_amd64.tar.zst"
OTHER = "alpine-3.22-default_20250617_amd64.tar.xz"


def test_the_template_directory_is_path_then_template_cache_or_the_content_dirs_override() -> None:
    assert storagefiles.template_dir("local", {}) == "/var/lib/vz/template/cache"
    assert storagefiles.template_dir("nas", {"type": "nfs"}) == "/mnt/pve/nas/template/cache"
    store = {"path": "/srv/x", "content-dirs": "iso=images/iso, vztmpl=ct/tpl"}
    assert storagefiles.template_dir("x", store) == "/srv/x/ct/tpl"


def test_templates_are_files_where_the_node_has_them(pve_node: SimNode) -> None:
    cache = pve_node.dir / "var/lib/vz/template/cache"
    assert (cache / SEEDED).is_file()
    assert not (cache / OTHER).exists()
    assert pve_node.run(["pveam", "download", "local", OTHER]).returncode == 0
    assert (cache / OTHER).is_file() and (cache / OTHER).stat().st_size == 0
    freed = pve_node.run(["pvesm", "free", f"local:vztmpl/{OTHER}"])
    assert freed.returncode == 0, freed.stderr
    assert not (cache / OTHER).exists()
    assert f"local:vztmpl/{OTHER}" not in pve_node.run(["pveam", "list", "local"]).stdout


def test_content_dirs_moves_them_and_removing_the_storage_leaves_them(pve_node: SimNode) -> None:
    add = ["pvesm", "add", "dir", "tpl", "--path", "/srv/tpl", "--content", "vztmpl"]
    assert pve_node.run([*add, "--content-dirs", "vztmpl=ct"]).returncode == 0
    download = pve_node.run(["pveam", "download", "tpl", OTHER])
    assert f"to /srv/tpl/ct/{OTHER}" in download.stdout
    placed = pve_node.dir / "srv/tpl/ct" / OTHER
    assert placed.is_file()
    assert pve_node.run(["pvesm", "remove", "tpl"]).returncode == 0
    assert placed.is_file()
