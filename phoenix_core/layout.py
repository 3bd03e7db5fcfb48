"""Where a manager's targets are configured: the layouts a plugin registers in its
:class:`~phoenix_core.manager.ManagerSpec`, read by :mod:`phoenix_core.config.load`."""

from __future__ import annotations

import attrs


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
    """

    key: str
    file: str | None = None
    path_key: str | None = None
    id_key: str | None = None
    defaults_key: str | None = None
    root_defaults: bool = False
    clone_key: str | None = None


@attrs.frozen
class HostTargets:
    """The manager owns the host targets: ``host`` (the default node) and ``host:NODE``.

    Its configuration is the hypervisor file. Once such a manager is installed, every guest
    depends on the host target of its node, so host setup runs before any guest is built.
    """
