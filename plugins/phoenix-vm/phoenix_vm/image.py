"""The cloud image a template VM is built from: on a file storage of the node, downloaded by
the node itself through Proxmox's ``download-url`` API (never through the workstation),
verified against the configured checksum, and reused when it is already there.

``qm create --scsi0 POOL:0,import-from=SOURCE`` takes an ``images`` or ``import`` volume, or
a file by absolute path (root only); an ``iso`` volume is refused (qemu-server
src/PVE/API2/Qemu.pm $check_storage_access: "has wrong type 'iso' - needs to be 'images' or
'import'"). So the image is downloaded as an ``import`` volume where the storage holds that
content (pve-storage >= 8.2.8 with qemu-server >= 8.2.7, Proxmox VE 8.3 and later; a fresh
PVE 9 gives ``local`` that content, pve-installer Proxmox/Install/StorageConfig.pm), under a
name pve-storage accepts there (src/PVE/Storage.pm $UPLOAD_IMPORT_EXT_RE_1: ``.qcow2``,
``.raw``, ``.vmdk``, ``.ova``). On a storage that holds ``iso`` but not ``import`` (any PVE 8
as installed) it is an ``iso`` download, imported by its absolute path, as root.
"""

from __future__ import annotations

import re

import attrs

from phoenix_core.config.models import Config
from phoenix_core.errors import PhoenixError
from phoenix_core.logs import logger
from phoenix_pve import errors, settings
from phoenix_pve.live import Live
from phoenix_pve.storages import NodeStorages
from phoenix_vm import storages
from phoenix_vm.model import VmSpec

#: Where the old tool downloaded Ubuntu cloud images from (original.md §3.2).
UBUNTU_IMAGES = "https://cloud-images.ubuntu.com/{release}/current/{file}"
#: A cloud image download takes minutes on a slow line.
DOWNLOAD_TIMEOUT = 3600.0


@attrs.frozen
class Image:
    storage: str
    file: str
    url: str
    #: (algorithm, hex digest) or None when the config gives no checksum.
    checksum: tuple[str, str] | None


#: Names an ``import`` volume may have (pve-storage $IMPORT_EXT_RE_1, disk images only).
IMPORT_NAME = re.compile(r"\.(qcow2|raw|vmdk)$")


@attrs.frozen
class Placement:
    """Where the image lives on its storage, and how ``qm create`` imports it."""

    image: Image
    #: ``import`` or ``iso``: the content type it is downloaded as.
    content: str
    #: Its file name on the storage.
    filename: str
    #: The storage's directory on the node.
    path: str

    @property
    def volid(self) -> str:
        return f"{self.image.storage}:{self.content}/{self.filename}"

    @property
    def source(self) -> str:
        """What ``import-from`` takes: the import volume, or the iso's file by absolute path
        (template/iso/ of the storage, pve-storage Plugin.pm $vtype_subdirs)."""
        if self.content == "import":
            return self.volid
        return f"{self.path.rstrip('/')}/template/iso/{self.filename}"


def import_name(file: str) -> str:
    """``noble-server-cloudimg-amd64.img`` -> ``noble-server-cloudimg-amd64.qcow2``: a cloud
    image ``.img`` is qcow2 (Ubuntu's and Debian's are); the node checks the format of the
    download against the name (download_url: file_size_info with the untrusted flag)."""
    if IMPORT_NAME.search(file):
        return file
    return file.rsplit(".", 1)[0] + ".qcow2"


def place(live: Live, image: Image) -> Placement:
    """Where ``image`` goes on its storage: an import volume if the storage holds that
    content, else an iso file; a storage with neither (or no directory) is an error naming
    what to enable."""
    conf = storages.config(live, image.storage)
    held, path = storages.contents(conf), str(conf.get("path") or "")
    if path and "import" in held:
        return Placement(image, "import", import_name(image.file), path)
    if path and "iso" in held:
        logger.info(
            "{}: storage {} holds no import content, so {} is an iso file imported by its "
            "path as root; `{}` makes it an import volume (Proxmox VE 8.3 or later)",
            live.name, image.storage, image.file, storages.enable_hint(image.storage, conf, "import"),
        )  # fmt: skip
        return Placement(image, "iso", image.file, path)
    raise PhoenixError(
        f"{live.name}: storage {image.storage!r} cannot hold the cloud image "
        f"{image.file} (content: {','.join(held) or 'none'}; a directory storage with "
        f"import or iso content is needed): enable import with "
        f"`{storages.enable_hint(image.storage, conf, 'import')}` (Proxmox VE 8.3 or later) "
        "or set image_storage"
    )


def of(spec: VmSpec, config: Config) -> Image:
    assert spec.template_image is not None
    storage = (
        spec.image_storage
        or settings.of(config).proxmox_storage_ids.get("fastData_shared_iso")
        or "local"
    )
    release = (
        spec.ubuntu_release
        or (settings.of(config).vm_defaults or {}).get("ubuntu_release")
        or "noble"
    )
    url = spec.template_image_url or UBUNTU_IMAGES.format(release=release, file=spec.template_image)
    checksum = None
    if spec.template_image_checksum:
        algorithm, _, digest = spec.template_image_checksum.partition(":")
        checksum = (algorithm, digest.lower())
    return Image(storage, spec.template_image, url, checksum)


def present(storages: NodeStorages, placed: Placement) -> bool:
    """Is the image on its storage? (``pvesm list --content``, read once per run and node.)"""
    return placed.volid in storages.volumes(placed.image.storage, placed.content)


def download(live: Live, storages: NodeStorages, placed: Placement) -> None:
    """``download-url`` on the node, unless another VM of this run already did; the node
    verifies the checksum and drops a bad file. Recorded in ``storages`` (download_url writes
    the file under the content's directory of the storage: pve-storage
    src/PVE/API2/Storage/Status.pm)."""
    if present(storages, placed):
        return
    image = placed.image
    if image.checksum is None:
        logger.warning(
            "{}: {} is downloaded without a checksum to verify (set template_image_checksum)",
            live.name,
            image.url,
        )
    argv = [
        "pvesh", "create", f"/nodes/localhost/storage/{image.storage}/download-url",
        "--content", placed.content, "--filename", placed.filename, "--url", image.url,
    ]  # fmt: skip
    if image.checksum is not None:
        argv += ["--checksum-algorithm", image.checksum[0], "--checksum", image.checksum[1]]
    try:
        result = storages.download(
            image.storage,
            placed.volid,
            lambda: live.host.change(argv, timeout=DOWNLOAD_TIMEOUT),
        )
    finally:
        live.invalidate()
    if not result.ok:
        raise PhoenixError(
            f"the node could not download {image.url} to {image.storage}: "
            f"{errors.error_detail(result)}"
        )
