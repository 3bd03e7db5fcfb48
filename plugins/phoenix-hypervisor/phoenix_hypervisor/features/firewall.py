"""``firewall``: the datacenter firewall (``cluster.fw``): its options and the configuration's
global rules, reconciled rule by rule through ``pvesh`` with phoenix_pve's guest-firewall
logic pointed at ``/cluster/firewall``.

Guest rules stay with their guests (the old tool copied every guest's rules into
``cluster.fw`` as well, so a guest rule applied to the whole datacenter).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from phoenix_core.hosts.base import CommandResult
from phoenix_core.steps import Step
from phoenix_hypervisor.features import HostContext
from phoenix_pve import errors, firewall


class Datacenter:
    """What phoenix_pve.firewall reads and writes through, for the datacenter scope."""

    api_path = "/cluster"

    def __init__(self, ctx: HostContext) -> None:
        self.ctx = ctx

    def pvesh_json(self, path: str) -> Any:
        result = errors.check(self.ctx.query(["pvesh", "get", path, "--output-format", "json"]))
        return json.loads(result.stdout or "null")

    def change(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        return errors.change_retrying(self.ctx.host, list(argv), timeout=timeout)


def steps(ctx: HostContext) -> list[Step]:
    if ctx.spec.firewall is None:
        return []
    inner = firewall.step(ctx.spec.firewall, Datacenter(ctx))  # type: ignore[arg-type]
    return [Step("firewall: datacenter", inner.check, inner.apply)]
