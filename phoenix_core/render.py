"""Printing results for people (aligned text) and for programs (``--output json``).

Every JSON document phoenix prints is an object whose ``schema`` names its shape and version
(``phoenix/run/v1``); docs/json.md describes each shape and docs/json/ holds its JSON Schema.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from typing import Any

import click

from phoenix_core import interrupt
from phoenix_core.config.types import is_host_target
from phoenix_core.outcome import LABELS, Outcome, RunResult
from phoenix_core.steps import Change


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def document(shape: str, version: int = 1, **data: Any) -> dict[str, Any]:
    """A versioned JSON document: ``schema`` first, so a reader can check it before the rest.

    A version of a shape only ever gains keys; removing or changing one makes the next.
    """
    return {"schema": f"phoenix/{shape}/v{version}", **data}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


#: The colour of each status that deserves one, in text output and progress lines.
STATUS_COLORS = {"failed": "red", "changed": "yellow", "planned": "yellow"}


def status_label(status: str, color: bool) -> str:
    label = LABELS[status]
    if color and status in STATUS_COLORS:
        return click.style(label, fg=STATUS_COLORS[status], bold=status == "failed" or None)
    return label


def marker(change: Change) -> tuple[str, str]:
    """A plan diff's sign and colour, as Terraform shows them: ``+`` something is added
    (nothing was there), ``-`` removed (nothing will be), ``~`` changed in place."""
    if change.before is None:
        return "+", "green"
    if change.after is None:
        return "-", "red"
    return "~", "yellow"


def target_label(outcome: Outcome) -> str:
    """``lxc 101 (Nginx)`` for a guest; a host target by its own name (``host``,
    ``host:pve2``)."""
    if is_host_target(outcome.id):
        return outcome.id
    return f"{outcome.kind} {outcome.id} ({outcome.name})"


def _line(outcome: Outcome, color: bool) -> str:
    detail = outcome.error or outcome.note or ""
    if outcome.changes and not outcome.error:
        count = len(outcome.changes)
        detail = f"{count} change{'s' if count != 1 else ''}"
        detail += f" ({outcome.note})" if outcome.note else ""
    text = f"{outcome.verb:<8} {outcome.id:>6}  {outcome.kind:<3} {outcome.name:<24} "
    text += status_label(outcome.status, color)
    return f"{text}: {detail}" if detail else text


def _change(step: str, change: Change, color: bool) -> str:
    sign, colour = marker(change)
    return f"    {click.style(sign, fg=colour) if color else sign} [{step}] {change}"


def run_json(result: RunResult) -> dict[str, Any]:
    """The ``phoenix/run/v1`` document of every verb that acts on targets."""
    return document(
        "run",
        verb=result.verb,
        dry_run=result.dry_run,
        exit_code=result.exit_code,
        changes_pending=result.changes_pending,
        signal=None if result.signal is None else signal.Signals(result.signal).name,
        counts=result.counts(),
        targets=result.target_counts(),
        outcomes=[o.to_dict() for o in result.outcomes],
    )


def run_result(result: RunResult, output: str, *, color: bool = False, verbose: int = 0) -> None:
    """Every outcome in plan order, the changes under it, then the summary; with
    ``verbose`` (``-v``), ``plan`` also shows its schedule."""
    if output == "json":
        emit_json(run_json(result))
        return
    for outcome in result.outcomes:
        click.echo(_line(outcome, color), color=color)
        for step, change in outcome.changes:
            click.echo(_change(step, change, color), color=color)
    if verbose > 0 and result.verb == "plan" and result.plan is not None and len(result.plan) > 1:
        click.echo("schedule (each action after what it waits for, never two holding one thing):")
        for line in result.plan.describe():
            click.echo(f"  {line}")
    click.echo(summary(result))


def summary(result: RunResult) -> str:
    """``converge: 16 targets: 2 changed, 14 in sync``: targets, each counted once with the
    status that stands for all its actions; then each failure, named."""
    counts = result.target_counts()
    parts = [f"{n} {LABELS[s]}" for s, n in counts.items()]
    total = sum(counts.values())
    text = f"{result.verb}: {total} target{'s' if total != 1 else ''}: " + (
        ", ".join(parts) or "nothing to do"
    )
    if result.dry_run:
        text += " (dry run: nothing was changed)"
    for failed in result.failed:
        text += f"\nfailed: {target_label(failed)}: {failed.error}"
    if result.signal is not None:
        text += (
            f"\n{interrupt.describe(result.signal)}: the running command was let finish, "
            "nothing more was started"
        )
    return text
