"""Where a manager's targets are configured: the layouts a plugin registers in its
:class:`~phoenix_core.manager.ManagerSpec`, read by :mod:`phoenix_core.config.load`."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

#: Target names when a layout names its targets (``id_pattern``): an RFC 1123 label starting
#: with a letter (``web``, ``db-1``), at most 63 characters.
NAME_PATTERN = r"[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


@attrs.frozen(kw_only=True)
class GuestFile:
    """Where the guests of a kind are configured, and how their JSON is laid out.

    ``file`` is the default file name in the configuration directory (``path_key`` names the
    ``core_paths`` key of the hypervisor file that may move it); ``None`` puts the guests in
    the section ``key`` of the hypervisor file itself. The guests sit under the top-level
    ``key``, either as an object keyed by id (``id_key`` None, the LXC file) or as a list of
    objects each holding its id under ``id_key`` (the VM file's ``vmid``).

    File-wide defaults: the object under ``defaults_key`` (``vm_defaults``), or with
    ``root_defaults`` every other top-level key (the LXC file's ``nvidia_driver_version``).
    ``clone_key`` is the guest key naming its clone source (a build-time dependency).
    ``id_pattern`` says how ids are written (guest ids, or names).
    """

    key: str
    file: str | None = None
    path_key: str | None = None
    id_key: str | None = None
    defaults_key: str | None = None
    root_defaults: bool = False
    clone_key: str | None = None
    #: The shape of the ids. None: guest ids (whole numbers 100-999999999, as Proxmox numbers
    #: guests). A regular expression (:data:`NAME_PATTERN`): the targets are named (``web``,
    #: ``db``), each name matching it in full. A name is never all digits, ``host`` nor holds
    #: ``:``, so it never reads as a guest id or a host target; one defined twice is an error.
    id_pattern: str | None = None


@attrs.frozen(kw_only=True)
class HostTargets:
    """The manager owns the host targets of each node: ``host`` (the default node) and
    ``host:NODE``, and one target per part of a host (``host:zfs``, ``host:NODE:zfs``).

    Its configuration is the hypervisor file. ``parts`` names each part (a feature of host
    setup) with the parts it needs first, in the order they run; a host target requires all
    its parts. A guest requires only the parts its configuration needs (its manager's
    ``host_needs``, which the host manager's ``provides`` maps to parts); a part pulled in
    by a guest is only checked, and when it is out of sync the guest fails with
    ``apply_hint`` (``{part}``, ``{target}``, and ``{parts}``: the part after those it needs,
    filled in), unless the run applies it (``--with-host``, or the part or its host asked
    for).
    """

    parts: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    apply_hint: str = "phoenix converge {target}"
