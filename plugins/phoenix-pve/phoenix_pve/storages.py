"""The node's storages as one run reads them: ``pvesm status`` once, each storage's listing
once, on first need, whatever the number of guests the run creates.

Creating a guest asks whether its pool is an active storage and whether its OS template or
cloud image is already on its storage; every one of those answers is a Proxmox tool (a Perl
start-up on a node), so asking per guest made a run that creates ten guests pay ten times.
A :class:`NodeStorages` is shared by every action of a run (kept in the run's
:class:`~phoenix_core.manager.RunScope`, like :mod:`phoenix_pve.snapshot`) and follows what
changes each answer (read in pve-storage and pve-manager):

- ``pvesm status``: pve-storage src/PVE/API2/Storage/Status.pm ``index`` over
  src/PVE/Storage.pm ``storage_info``: a row per storage of ``storage.cfg``, ``active`` when
  activating it and asking its plugin succeed now. It changes when ``storage.cfg`` does
  (``pvesm add/set/remove``) or when activation does (a pool imported, a dataset or NFS share
  mounted): host setup's work, after which :func:`changed` drops the whole record. Creating a
  guest changes only the sizes, which phoenix does not read;
- ``pveam list S``: pve-manager PVE/CLI/pveam.pm ``index``, Storage.pm ``volume_list(S,
  vztmpl)``, the template files on S now. ``pveam download S T`` (PVE/API2/Nodes.pm
  ``apl_download``) writes ``T`` into S's template directory, i.e. ``S:vztmpl/T``, which
  :meth:`NodeStorages.added` records. Whether one template is there is first asked of its
  file (:meth:`NodeStorages.has_template`): where S keeps templates in a directory
  (:mod:`phoenix_pve.templatefile`, from ``/etc/pve/storage.cfg``, read once) and is active,
  the file being there is what makes ``pveam list`` list it, and a stat costs no Perl
  start-up. Only a template not found there is asked of ``pveam list``, and then a download
  follows anyway;
- ``pvesm list S --content C``: pve-storage src/PVE/API2/Storage/Content.pm ``index``,
  ``volume_list(S, undef, C)``. Asked per content type (``import`` or ``iso``, where a cloud
  image goes) so that the guests' own disks (``images``, ``rootdir``), which every create
  adds, are not part of it. ``download-url`` (Status.pm ``download_url``) writes the file into
  the content's directory of S, recorded the same way.

A dry run makes no change, so it records none: each answer stays what the node says.
Thread-safe: actions run in worker threads, and one read of each answer is made at a time
(the others wait for it rather than asking the node too).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar, cast

from phoenix_core.hosts.base import CommandResult, Host, Statting
from phoenix_core.manager import RunContext
from phoenix_pve import errors, etcpve, settings, templatefile
from phoenix_pve.parse import StorageRow, parse_pvesm_status

T = TypeVar("T")
#: What an answer is kept under: ``("status",)``, ``("storage.cfg",)``, ``("pveam", S)``,
#: ``("pvesm", S, C)``, ``("file", S, volid)`` (whether a template's file is there).
Key = tuple[str, ...]


def volids(listing: str) -> frozenset[str]:
    """The volume ids of ``pveam list`` or ``pvesm list`` output: the first column of each
    line after the header (pveam.pm ``$print_list``, pvesm.pm ``$print_content``)."""
    return frozenset(line.split()[0] for line in listing.splitlines()[1:] if line.strip())


def content_of(volid: str) -> str:
    """``local:vztmpl/debian.tar.zst`` -> ``vztmpl``: the content type a volume id names."""
    return volid.split(":", 1)[-1].split("/", 1)[0]


class NodeStorages:
    """What one run knows of one node's storages; thread-safe."""

    def __init__(self, host: Host, pve_etc: str = "/etc/pve") -> None:
        self.host = host
        self.pve_etc = pve_etc.rstrip("/")
        self._lock = threading.Lock()
        self._answers: dict[Key, object] = {}
        #: One lock per answer, held while it is read, so that it is read once at a time.
        self._reading: dict[Key, threading.Lock] = {}
        #: Counts changes; a read that a change overtook is not kept (it may predate it).
        self._generation = 0

    def status(self) -> dict[str, StorageRow]:
        """``pvesm status``'s rows by storage id."""
        return self._answer(("status",), self._tool(["pvesm", "status"], parse_pvesm_status))

    def templates(self, storage: str) -> frozenset[str]:
        """The container templates on ``storage`` (``pveam list``), by volume id."""
        return self._answer(("pveam", storage), self._tool(["pveam", "list", storage], volids))

    def has_template(self, storage: str, volid: str) -> bool:
        """Whether the template ``volid`` is on ``storage``: what ``pveam list`` said if this
        run read it, else whether its file is there (see the module doc), else ``pveam
        list``. A file not found proves nothing (a storage mounted by the listing itself,
        an unusual layout): the listing is the truth then."""
        with self._lock:
            listed = self._answers.get(("pveam", storage))
        if isinstance(listed, frozenset):
            return volid in listed
        if isinstance(self.host, Statting):
            path = self._template_file(storage, volid)
            stat = functools.partial(self.host.is_file, path) if path is not None else None
            if stat is not None and self._answer(("file", storage, volid), stat):
                return True
        return volid in self.templates(storage)

    def volumes(self, storage: str, content: str) -> frozenset[str]:
        """The volumes of one content type on ``storage`` (``pvesm list --content``)."""
        argv = ["pvesm", "list", storage, "--content", content]
        return self._answer(("pvesm", storage, content), self._tool(argv, volids))

    def _template_file(self, storage: str, volid: str) -> str | None:
        """The node path of ``volid``'s file where ``pveam list`` would see it, if ``storage``
        keeps templates in a directory and is active (``pvesm status``: enabled on this node,
        not disabled, and activated, i.e. mounted; pve-storage src/PVE/Storage.pm
        ``storage_info``), which is also what ``pveam list`` asks first."""
        conf = self._storage_cfg().get(storage)
        row = self.status().get(storage)
        if conf is None or row is None or not row.active:
            return None
        return templatefile.template_path(conf, volid)

    def _storage_cfg(self) -> dict[str, dict[str, object]]:
        """``storage.cfg``'s sections by storage id (a file read, no Perl start-up); empty when
        the file is missing or leaves a storage's content to its plugin's default."""

        def read() -> dict[str, dict[str, object]]:
            try:
                text = self.host.read_file(f"{self.pve_etc}/storage.cfg").decode()
            except FileNotFoundError:
                return {}
            return {str(s["storage"]): s for s in etcpve.parse_storage_cfg(text) or []}

        return self._answer(("storage.cfg",), read)

    def added(self, storage: str, volid: str) -> None:
        """``volid`` was just written to ``storage`` (a download that succeeded)."""
        content = content_of(volid)
        keys = [("pvesm", storage, content)] + ([("pveam", storage)] if content == "vztmpl" else [])
        with self._lock:
            self._generation += 1
            for key in keys:
                known = self._answers.get(key)
                if isinstance(known, frozenset):
                    self._answers[key] = known | {volid}

    def download(self, storage: str, volid: str, run: Callable[[], CommandResult]) -> CommandResult:
        """Run ``run``, a command that downloads ``volid`` to ``storage``, and record what it
        left: the volume when it exited 0 with nothing on stderr, else the storage is read
        again. The exit status alone does not tell: pveam.pm's ``download`` has no
        ``$upid_exit``, so a failed ``pveam download`` exits 0, and a synchronous worker's
        ``TASK ERROR`` (or its warnings) goes to STDERR, its own output to stdout (pve-common
        src/PVE/RESTEnvironment.pm ``fork_worker``)."""
        try:
            result = run()
        except BaseException:
            self.forget(storage)
            raise
        if result.ok and not result.stderr.strip():
            self.added(storage, volid)
        else:
            self.forget(storage)
        return result

    def forget(self, storage: str) -> None:
        """What is on ``storage`` is read again (a download whose outcome is unknown)."""
        self._drop(lambda key: key[0] in ("pveam", "pvesm", "file") and key[1] == storage)

    def forget_all(self) -> None:
        """Everything is read again: the storages themselves may have changed."""
        self._drop(lambda key: True)

    def _drop(self, which: Callable[[Key], bool]) -> None:
        with self._lock:
            self._generation += 1
            for key in [k for k in self._answers if which(k)]:
                del self._answers[key]

    def _tool(self, argv: list[str], parse: Callable[[str], T]) -> Callable[[], T]:
        """Reading by running ``argv`` (a read-only Proxmox tool) and parsing its output."""
        return lambda: parse(errors.check(self.host.query(argv)).stdout)

    def _answer(self, key: Key, read: Callable[[], T]) -> T:
        with self._lock:
            if key in self._answers:
                return cast(T, self._answers[key])
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            with self._lock:
                if key in self._answers:
                    return cast(T, self._answers[key])
                generation = self._generation
            value = read()
            with self._lock:
                if self._generation == generation:
                    self._answers[key] = value
            return value


def of(ctx: RunContext) -> NodeStorages:
    """The run's record of the storages of the node ``ctx.host`` is."""
    key = ("phoenix_pve.storages", id(ctx.host))
    pve_etc = settings.of(ctx.config).pve_etc
    return ctx.scope.get(key, lambda: NodeStorages(ctx.host, pve_etc))


def changed(ctx: RunContext) -> None:
    """A manager changed the storages of ``ctx.host``'s node, or what they rest on (added or
    reconfigured a storage, imported a pool, mounted a share): the run reads them again."""
    of(ctx).forget_all()
