"""Where a container template is a file on the node (templatefile.py, after pve-storage
src/PVE/Storage/Plugin.pm get_subdir, parse_volname and list_volumes)."""

from __future__ import annotations

import pytest

from phoenix_pve import etcpve
from phoenix_pve.templatefile import template_path

NAME = "debian-12-standard_12.7-1_amd64.tar.zst"
STORAGE_CFG = """\
dir: local
\tpath /var/lib/vz
\tcontent iso,vztmpl,backup

nfs: nas
\texport /export/pve
\tpath /mnt/pve/nas
\tserver 10.0.0.2
\tcontent vztmpl,iso
\tcontent-dirs iso=isos; vztmpl=lxc/templates

cephfs: cephfs
\tpath /mnt/pve/cephfs
\tcontent vztmpl,backup
\tcontent-dirs vztmpl=/ct

zfspool: tank
\tpool tank
\tcontent images,rootdir

dir: isos
\tpath /srv/isos
\tcontent iso
"""
STORAGES = {s["storage"]: s for s in etcpve.parse_storage_cfg(STORAGE_CFG) or []}


@pytest.mark.parametrize(
    ("volid", "path"),
    [
        (f"local:vztmpl/{NAME}", f"/var/lib/vz/template/cache/{NAME}"),
        (f"nas:vztmpl/{NAME}", f"/mnt/pve/nas/lxc/templates/{NAME}"),
        (f"cephfs:vztmpl/{NAME}", f"/mnt/pve/cephfs/ct/{NAME}"),
        ("local:vztmpl/alpine.TAR.XZ", "/var/lib/vz/template/cache/alpine.TAR.XZ"),
        ("local:vztmpl/plain.tar", "/var/lib/vz/template/cache/plain.tar"),
    ],
)
def test_a_template_is_a_file_of_the_storage_template_directory(volid: str, path: str) -> None:
    assert template_path(STORAGES[volid.split(":")[0]], volid) == path


@pytest.mark.parametrize(
    "volid",
    [
        f"tank:vztmpl/{NAME}",  # a zfspool keeps no files: pveam list answers
        f"isos:vztmpl/{NAME}",  # no vztmpl content: pveam list refuses
        "local:vztmpl/debian.tar.lz4",  # not a template name Proxmox takes
        "local:vztmpl/sub/debian.tar.zst",
        f"local:iso/{NAME}",
    ],
)
def test_what_only_pveam_list_can_tell_has_no_path(volid: str) -> None:
    assert template_path(STORAGES[volid.split(":")[0]], volid) is None


def test_a_section_of_another_storage_gives_no_path() -> None:
    assert template_path(STORAGES["nas"], f"local:vztmpl/{NAME}") is None
