"""The cloud image a template VM is built from: on a file storage of the node, downloaded by
the node itself through Proxmox's ``download-url`` API (never through the workstation),
verified against the configured checksum, and reused when it is already there."""

from __future__ import annotations

import attrs

from phoenix_core.config.models import Config
from phoenix_core.errors import PhoenixError
from phoenix_core.logs import logger
from phoenix_pve import errors
from phoenix_pve.live import Live
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

    @property
    def volid(self) -> str:
        return f"{self.storage}:iso/{self.file}"


def of(spec: VmSpec, config: Config) -> Image:
    assert spec.template_image is not None
    storage = (
        spec.image_storage
        or config.hypervisor.proxmox_storage_ids.get("fastData_shared_iso")
        or "local"
    )
    release = (
        spec.ubuntu_release
        or (config.hypervisor.vm_defaults or {}).get("ubuntu_release")
        or "noble"
    )
    url = spec.template_image_url or UBUNTU_IMAGES.format(release=release, file=spec.template_image)
    checksum = None
    if spec.template_image_checksum:
        algorithm, _, digest = spec.template_image_checksum.partition(":")
        checksum = (algorithm, digest.lower())
    return Image(storage, spec.template_image, url, checksum)


def present(live: Live, image: Image) -> bool:
    """Is the image on its storage? (``pvesm list``, read once per run.)"""

    def read() -> bool:
        listing = errors.check(live.query(["pvesm", "list", image.storage])).stdout
        return any(
            line.split()[0] == image.volid for line in listing.splitlines()[1:] if line.strip()
        )

    return live.memo(f"image:{image.volid}", read)


def download(live: Live, image: Image) -> None:
    """``download-url`` on the node; the node verifies the checksum and drops a bad file."""
    if image.checksum is None:
        logger.warning(
            "{}: {} is downloaded without a checksum to verify (set template_image_checksum)",
            live.name,
            image.url,
        )
    argv = [
        "pvesh", "create", f"/nodes/localhost/storage/{image.storage}/download-url",
        "--content", "iso", "--filename", image.file, "--url", image.url,
    ]  # fmt: skip
    if image.checksum is not None:
        argv += ["--checksum-algorithm", image.checksum[0], "--checksum", image.checksum[1]]
    result = live.host.change(argv, timeout=DOWNLOAD_TIMEOUT)
    live.invalidate()
    if not result.ok:
        raise PhoenixError(
            f"the node could not download {image.url} to {image.storage}: "
            f"{errors.error_detail(result)}"
        )
