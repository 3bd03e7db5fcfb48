"""``phoenix setup [FEATURE...]``: converge the host targets, all features or the named ones.

The verb is ``converge`` of the host targets (``host``, ``host:NODE``: every feature) or of
the named features' targets alone (``host:zfs``, ``host:NODE:zfs``), with setup's switches
passed to the manager in :class:`~phoenix_core.manager.VerbOptions` ``flags``; ``--dry-run``
runs the checks only. The reboot reasons the outcomes carry are printed at the end; a node is
rebooted only with ``--allow-reboot`` and when every feature succeeded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from phoenix_core.manager import VerbOptions
from phoenix_hypervisor.order import ORDER

if TYPE_CHECKING:
    from phoenix_core.config.models import Config
    from phoenix_core.outcome import RunResult


def _features(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    unknown = [v for v in value if v not in ORDER]
    if unknown:
        raise click.BadParameter(
            f"unknown feature {', '.join(unknown)} (features: {', '.join(ORDER)})"
        )
    return value


@click.command()
@click.argument("features", nargs=-1, metavar="[FEATURE]...", callback=_features)
@click.option("--dry-run", is_flag=True, help="Run the checks only; change nothing.")
@click.option(
    "--allow-destructive",
    is_flag=True,
    help="Create configured ZFS pools on blank disks (a disk holding data is never touched).",
)
@click.option(
    "--allow-reboot", is_flag=True, help="Reboot the node when a step needs it (the driver)."
)
@click.option(
    "--allow-network-change",
    is_flag=True,
    help="Over SSH, change the datacenter firewall anyway, undone after 120 s unless the "
    "node still answers.",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Print results as aligned text or as JSON.",
)
def setup(
    features: tuple[str, ...],
    dry_run: bool,
    allow_destructive: bool,
    allow_reboot: bool,
    allow_network_change: bool,
    output: str,
) -> None:
    """Converge the Proxmox node itself: every feature, or the FEATUREs named, in this order:
    apt, packages, time, hosts, zfs, storage, nfs, samba, users, firewall, nvidia, vfio, apparmor, dns, cron.

    Only drift is changed; a second setup runs no mutating command.
    """
    from phoenix_core import render
    from phoenix_core.config.types import host_target
    from phoenix_hypervisor.features import ALLOW_DESTRUCTIVE, ALLOW_NETWORK_CHANGE

    context = click.get_current_context()
    app = context.obj
    flags = {ALLOW_DESTRUCTIVE: allow_destructive, ALLOW_NETWORK_CHANGE: allow_network_change}
    options = VerbOptions(flags=frozenset(k for k, on in flags.items() if on))
    nodes = [t.common.node for t in app.config.hosts.values() if t.part is None]
    targets = [host_target(node, part) for node in nodes for part in features or [None]]
    with app.progress() as progress:
        engine = app.engine(dry_run=dry_run, keep_going=True, options=options, progress=progress)
        # The named features alone, in setup's order (none of those they need).
        result = engine.run("converge", targets, only=bool(features))
    for node, reasons in reboots(app.config, result).items():
        shown = "; ".join(f"{name}: {why}" for name, why in reasons.items())
        where = "" if node is None else f" {node}"
        if allow_reboot and not result.dry_run and not result.failed:
            click.echo(f"rebooting{where} ({shown})", err=True)
            app.hosts.for_node(node).change(["systemctl", "reboot"]).check()
        else:
            click.echo(
                f"reboot required{where} ({shown}); phoenix reboots only with --allow-reboot "
                "and when every feature succeeded",
                err=True,
            )
    render.run_result(result, output, color=app.color)
    context.exit(result.exit_code)


def reboots(config: Config, result: RunResult) -> dict[str | None, dict[str, str]]:
    """Why each node needs a reboot, by feature, from the run's outcomes."""
    found: dict[str | None, dict[str, str]] = {}
    for outcome in result.outcomes:
        if outcome.reboot and outcome.id in config:
            node = config.target(outcome.id).common.node
            found.setdefault(node, {}).update(outcome.reboot)
    return found
