"""Printing results for people (aligned text) and for programs (``--output json``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from phoenix_core import interrupt
from phoenix_core.outcome import Outcome, RunResult

_LABELS = {
    "ok": "in sync",
    "changed": "changed",
    "planned": "would change",
    "exists": "exists",
    "failed": "FAILED",
    "skipped": "skipped",
}


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def _line(outcome: Outcome) -> str:
    label = _LABELS[outcome.status]
    detail = outcome.error or outcome.note or ""
    if outcome.changes and not outcome.error:
        count = len(outcome.changes)
        detail = f"{count} change{'s' if count != 1 else ''}"
    text = f"{outcome.verb:<8} {outcome.id:>6}  {outcome.kind:<3} {outcome.name:<24} {label}"
    return f"{text}: {detail}" if detail else text


def run_result(result: RunResult, output: str) -> None:
    """Every outcome, the changes under it, then one summary line."""
    if output == "json":
        emit_json(
            {
                "verb": result.verb,
                "dry_run": result.dry_run,
                "exit_code": result.exit_code,
                "outcomes": [o.to_dict() for o in result.outcomes],
            }
        )
        return
    for outcome in result.outcomes:
        click.echo(_line(outcome))
        for step, change in outcome.changes:
            click.echo(f"    [{step}] {change}")
    click.echo(summary(result))


def summary(result: RunResult) -> str:
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    parts = [f"{n} {_LABELS[s]}" for s, n in counts.items()]
    guests = len({o.id for o in result.outcomes})
    text = f"{result.verb}: {guests} guest{'s' if guests != 1 else ''}: " + (
        ", ".join(parts) or "nothing to do"
    )
    if result.dry_run:
        text += " (dry run: nothing was changed)"
    for failed in result.failed:
        text += f"\nfailed: {failed.kind} {failed.id} ({failed.name}): {failed.error}"
    if result.signal is not None:
        text += (
            f"\n{interrupt.describe(result.signal)}: the running command was let finish, "
            "nothing more was started"
        )
    return text
