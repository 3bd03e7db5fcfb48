"""``phoenix setup [FEATURE...]``: converge the host targets, all features or the named ones.

The verb is ``converge`` of the host targets with setup's switches passed to the manager in
:class:`~phoenix_core.manager.VerbOptions` (``flags``, ``only``); ``--dry-run`` runs the
checks only. A pending reboot is printed at the end, and done only with ``--allow-reboot``.
"""

from __future__ import annotations

import click

from phoenix_core.manager import VerbOptions
from phoenix_hypervisor.order import ORDER


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
    from phoenix_hypervisor.features import ALLOW_DESTRUCTIVE, ALLOW_NETWORK_CHANGE, ALLOW_REBOOT

    context = click.get_current_context()
    app = context.obj
    flags = {
        ALLOW_DESTRUCTIVE: allow_destructive,
        ALLOW_REBOOT: allow_reboot,
        ALLOW_NETWORK_CHANGE: allow_network_change,
    }
    options = VerbOptions(flags=frozenset(k for k, on in flags.items() if on), only=features)
    hosts = list(app.config.hosts)
    with app.progress() as progress:
        engine = app.engine(dry_run=dry_run, keep_going=True, options=options, progress=progress)
        result = engine.run("converge", hosts)
    manager = app.plugins.manager("hypervisor")
    last = getattr(manager, "last", None)
    if last is not None and last.reboot and not allow_reboot:
        reasons = "; ".join(f"{name}: {why}" for name, why in last.reboot.items())
        click.echo(
            f"reboot required ({reasons}); phoenix reboots only with --allow-reboot", err=True
        )
    render.run_result(result, output, color=app.color)
    context.exit(result.exit_code)
