"""The ``exists`` step: ``pct create`` from a template or ``pct clone`` from the clone source.

Preconditions are checked in ``check`` (so ``plan`` reports them): the storage pool must exist
and be active, the template must be on its storage or downloadable. Both are read from the
run's :class:`~phoenix_pve.storages.NodeStorages` (``pvesm status`` once per run and node, not
per container; the template's file stated where its storage keeps templates in a directory,
``pveam list`` only when it is not found there); a download is recorded there, so the next
container from the same template sees it. ``--unprivileged`` is always passed, because PVE 9 changed
its default.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from phoenix_core.config.models import Config
from phoenix_core.errors import PhoenixError
from phoenix_core.manager import Holding, Resource
from phoenix_core.steps import Change, Step
from phoenix_lxc import options
from phoenix_lxc.model import LxcSpec
from phoenix_pve import secrets, settings
from phoenix_pve.live import Live
from phoenix_pve.options import option_args
from phoenix_pve.shell import private_file
from phoenix_pve.storages import NodeStorages


@attrs.frozen
class Template:
    """Where an OS template lives: its storage and its volid."""

    storage: str
    volid: str

    @property
    def file(self) -> str:
        return self.volid.split("/")[-1]


@attrs.frozen
class Download:
    """Change data: ``pveam download`` the template first."""

    template: Template


@attrs.frozen
class Create:
    """Change data: ``pct create`` from the template."""

    template: Template


@attrs.frozen
class Clone:
    """Change data: ``pct clone`` from the source container."""

    source: LxcSpec
    source_id: int


def template_of(spec: LxcSpec, config: Config) -> Template:
    """Resolve ``template`` (a volid, a file name or the old tool's path) to a volid.

    A path or a file name is looked up on ``template_storage``, else on the hypervisor's
    ``proxmox_storage_ids.fastData_shared_iso`` (where the old tool downloaded to), else ``local``.
    """
    assert spec.template is not None
    if ":" in spec.template:
        storage = spec.template.split(":", 1)[0]
        return Template(storage, spec.template)
    storage = (
        spec.template_storage
        or settings.of(config).proxmox_storage_ids.get("fastData_shared_iso")
        or "local"
    )
    return Template(storage, f"{storage}:vztmpl/{spec.template.rstrip('/').split('/')[-1]}")


def _require_pool(live: Live, storages: NodeStorages, pool: str | None, vmid: int) -> None:
    if pool is None:
        raise PhoenixError(f"CT {vmid}: storage_pool is not set (needed to create it)")
    rows = storages.status()
    row = rows.get(pool)
    if row is None:
        raise PhoenixError(
            f"CT {vmid}: storage pool {pool!r} does not exist on {live.host.name} "
            f"(pvesm status lists: {', '.join(sorted(rows)) or 'nothing'})"
        )
    if not row.active:
        raise PhoenixError(f"CT {vmid}: storage pool {pool!r} is {row.status}")


def _download(live: Live, storages: NodeStorages, template: Template) -> None:
    """``pveam download``, unless another container of this run already did; recorded in
    ``storages`` (see :meth:`~phoenix_pve.storages.NodeStorages.download`)."""
    if storages.has_template(template.storage, template.volid):
        return
    argv = ["pveam", "download", template.storage, template.file]
    storages.download(template.storage, template.volid, lambda: live.change(argv, timeout=3600))


def create_argv(
    spec: LxcSpec, vmid: int, template: Template, keys_file: str | None = None
) -> list[str]:
    """``pct create`` with every core option, so the options step finds nothing left to do.

    ``keys_file`` is root's authorized keys on the node; with a ``root_password_file``,
    ``--password`` comes last with no value, so pct reads the password from stdin."""
    argv = ["pct", "create", str(vmid), template.volid]
    want = options.desired(spec)
    for key, value in want.items():
        if value:
            argv += option_args(key, value)
    if spec.storage_pool is not None:
        size = spec.storage_size_gb or 8
        argv += ["--rootfs", f"{spec.storage_pool}:{size}"]
    argv += ["--unprivileged", "1" if spec.unprivileged else "0"]
    if keys_file is not None:
        argv += ["--ssh-public-keys", keys_file]
    if spec.root_password_file is not None:
        argv.append("--password")
    return argv


def _create(live: Live, spec: LxcSpec, template: Template) -> None:
    """``pct create``: the keys in a private file on the node, the password on stdin twice
    (pve-common PTY.pm get_confirmed_password), neither on a command line."""
    password = secrets.password(spec.root_password_file) if spec.root_password_file else None
    stdin = f"{password}\n{password}\n" if password is not None else None
    keys = secrets.public_keys(spec.ssh_public_keys_file) if spec.ssh_public_keys_file else None
    if keys is None:
        live.change(create_argv(spec, live.vmid, template), timeout=3600, input=stdin)
        return
    with private_file(live.host, keys.encode(), "phoenix-sshkeys") as path:
        live.change(create_argv(spec, live.vmid, template, path), timeout=3600, input=stdin)


def clone_argv(
    spec: LxcSpec, vmid: int, source: LxcSpec, source_id: int, source_is_template: bool
) -> list[str]:
    """``pct clone``: a full clone onto ``storage_pool``, from the source's snapshot if it has one."""
    argv = ["pct", "clone", str(source_id), str(vmid), "--hostname", spec.name, "--full", "1"]
    if spec.storage_pool is not None:
        argv += ["--storage", spec.storage_pool]
    if source.template_snapshot_name and not source_is_template:
        argv += ["--snapname", source.template_snapshot_name]
    return argv


def _require_clonable(
    source: LxcSpec, source_id: int, source_live: Live, is_template: bool
) -> None:
    """Proxmox full-clones a running container only from a snapshot: say so before it fails."""
    if is_template or source.template_snapshot_name or not source_live.running:
        return
    raise PhoenixError(
        f"CT {source_id} is running and is neither a template nor has a "
        f"template_snapshot_name, and Proxmox can only clone a running container from a "
        f"snapshot: set template_snapshot_name (or is_template) on {source_id}, or stop it"
    )


def brief_resources(spec: LxcSpec, config: Config) -> set[Resource]:
    """What creating the container holds for one command: its clone source (Proxmox locks it
    for the whole copy) or the template's storage (a download allocates on it)."""
    if spec.clone_from_ctid is not None:
        return {Resource.guest(spec.clone_from_ctid, brief=True)}
    if spec.template is not None and spec.download_template:
        return {Resource.storage(spec.node, template_of(spec, config).storage, brief=True)}
    return set()


def step(
    spec: LxcSpec,
    live: Live,
    config: Config,
    holding: Holding,
    storages: NodeStorages,
) -> Step:
    """Create or clone the container when it does not exist. ``holding`` is the run's
    :meth:`~phoenix_core.manager.RunContext.holding`: the clone holds its source (Proxmox
    locks it for the whole copy), a download the template's storage. ``storages`` is the
    run's record of the node's storages (:func:`phoenix_pve.storages.of`)."""

    def check() -> list[Change]:
        if live.exists:
            return []
        _require_pool(live, storages, spec.storage_pool, live.vmid)
        if spec.clone_from_ctid is not None:
            source_id = spec.clone_from_ctid
            source = config.guests[source_id].spec
            snap = source.template_snapshot_name if source else None
            what = f"clone of {source_id}" + (f" (snapshot {snap})" if snap else "")
            return [Change("container", None, what, data=Clone(source, source_id))]
        if spec.template is None:
            raise PhoenixError(
                f"CT {live.vmid} does not exist and its entry names no template or "
                "clone_from_ctid to create it from"
            )
        secrets.check_files(spec)
        template = template_of(spec, config)
        changes = []
        if not storages.has_template(template.storage, template.volid):
            if not spec.download_template:
                raise PhoenixError(
                    f"CT {live.vmid}: template {template.volid} is not on storage "
                    f"{template.storage} and download_template is false"
                )
            changes.append(
                Change(
                    "template",
                    None,
                    f"download {template.file} to {template.storage}",
                    data=Download(template),
                )
            )
        changes.append(
            Change("container", None, f"create from {template.volid}", data=Create(template))
        )
        return changes

    def apply(changes: Sequence[Change]) -> None:
        for change in changes:
            match change.data:
                case Download(template):
                    # Held while checked again: containers checked side by side may all
                    # have planned this download; the first one makes it.
                    with holding(Resource.storage(spec.node, template.storage)):
                        _download(live, storages, template)
                case Create(template):
                    _create(live, spec, template)
                case Clone(source, source_id):
                    source_live = live.sibling(source_id)
                    is_template = source_live.exists and source_live.is_template
                    _require_clonable(source, source_id, source_live, is_template)
                    argv = clone_argv(spec, live.vmid, source, source_id, is_template)
                    with holding(Resource.guest(source_id)):
                        live.change(argv, timeout=3600)

    return Step("exists", check, apply)
