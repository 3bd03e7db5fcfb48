"""``firewall``: the datacenter firewall (``cluster.fw``): its options and the configuration's
global rules, reconciled rule by rule through ``pvesh`` with phoenix_pve's guest-firewall
logic pointed at ``/cluster/firewall``.

Guest rules stay with their guests (the old tool copied every guest's rules into
``cluster.fw`` as well, so a guest rule applied to the whole datacenter).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from phoenix_core import runlock
from phoenix_core.errors import PhoenixError
from phoenix_core.hosts.base import CommandResult, Host, Reconnecting
from phoenix_core.steps import Change, Step
from phoenix_hypervisor.features import (
    ALLOW_NETWORK_CHANGE,
    NETWORK_REVERT_AFTER,
    FeatureFailed,
    HostContext,
)
from phoenix_pve import errors, etcpve, firewall

REVERT_UNIT = "phoenix-firewall-revert"
#: The datacenter firewall: options, aliases, IP sets, rules, groups (pve-firewall
#: ``src/PVE/Firewall.pm`` ``$clusterfw_conf_filename``).
CLUSTER_FW = "/etc/pve/firewall/cluster.fw"
#: The file's copy for the revert, in the run lock's directory (phoenix's own, 0700).
SAVED = "cluster.fw.before"


class Datacenter:
    """What phoenix_pve.firewall reads and writes through, for the datacenter scope."""

    api_path = "/cluster"

    def __init__(self, ctx: HostContext) -> None:
        self.ctx = ctx

    def pvesh_json(self, path: str) -> Any:
        """The options and rules from ``cluster.fw`` itself (a file read, no Perl start-up);
        the API for another path or a file :mod:`phoenix_pve.etcpve` does not parse."""
        part = path.removeprefix("/cluster/firewall/")
        if part in ("options", "rules"):
            try:
                parsed = etcpve.parse_firewall(self.ctx.files.read(CLUSTER_FW) or "")
            except etcpve.FileFormatError:
                pass
            else:
                return parsed.options if part == "options" else parsed.rules
        result = errors.check(self.ctx.query(["pvesh", "get", path, "--output-format", "json"]))
        return json.loads(result.stdout or "null")

    def change(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        return errors.change_retrying(self.ctx.host, list(argv), timeout=timeout)


def guarded(
    ctx: HostContext, apply: Callable[[Sequence[Change]], None]
) -> Callable[[Sequence[Change]], None]:
    """Over SSH, a firewall change can cut phoenix and the operator off the node: refused
    unless ``--allow-network-change``, and then made under a dead man's switch.

    The whole datacenter firewall file (options, aliases, IP sets, rules and groups: pve-
    firewall ``src/PVE/Firewall.pm`` ``save_clusterfw_conf`` writes them all to
    ``/etc/pve/firewall/cluster.fw``, and unlinks it when empty) is saved on the node first, and a
    transient systemd timer puts it back (or removes it) after :data:`NETWORK_REVERT_AFTER`
    seconds. phoenix disarms the timer only once the node accepts a **new** SSH connection:
    the one already open survives a firewall that drops new ones (conntrack keeps it
    ESTABLISHED), so it proves nothing."""

    def apply_guarded(changes: Sequence[Change]) -> None:
        if not ctx.remote:
            apply(changes)
            return
        if not ctx.allowed(ALLOW_NETWORK_CHANGE):
            raise FeatureFailed(
                "the datacenter firewall decides who reaches this node, and phoenix reaches it "
                "over SSH: refused. Run setup on the node, or pass --allow-network-change "
                f"(the change is undone after {NETWORK_REVERT_AFTER} s unless the node still "
                "accepts new SSH connections)"
            )
        before = ctx.files.read(CLUSTER_FW)
        if before is None:
            restore = ["rm", "-f", "--", ctx.files.path(CLUSTER_FW)]
        else:
            saved = f"{runlock.lock_dir()}/{SAVED}"
            ctx.files.write(saved, before, mode=0o600)
            restore = ["cp", "--", ctx.files.path(saved), ctx.files.path(CLUSTER_FW)]
        ctx.change(
            ["systemd-run", f"--unit={REVERT_UNIT}", f"--on-active={NETWORK_REVERT_AFTER}",
             "--", *restore]
        )  # fmt: skip
        apply(changes)
        try:
            new_connection(ctx.host)
        except PhoenixError as exc:
            raise FeatureFailed(
                f"after the firewall change the node refused a new SSH connection ({exc}); "
                f"the change is undone within {NETWORK_REVERT_AFTER} s by {REVERT_UNIT}"
            ) from None
        ctx.change(["systemctl", "stop", f"{REVERT_UNIT}.timer"])

    return apply_guarded


def new_connection(host: Host) -> None:
    """Prove the node accepts a new connection: a host that can open one does (SSH), any
    other answers one command."""
    inner = getattr(host, "inner", host)
    if isinstance(inner, Reconnecting):
        inner.check_new_connection()
    else:
        host.query(["true"]).check()


def steps(ctx: HostContext) -> list[Step]:
    if ctx.spec.firewall is None:
        return []
    inner = firewall.step(ctx.spec.firewall, Datacenter(ctx))  # type: ignore[arg-type]
    return [Step("firewall: datacenter", inner.check, guarded(ctx, inner.apply))]
