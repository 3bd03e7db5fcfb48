"""Reading a JSON file with errors that point at the line, and no silent duplicate keys."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from phoenix_core.config.diagnostics import Diagnostics


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def read_json(path: Path, diagnostics: Diagnostics) -> Any | None:
    """Parse ``path``; on failure record an error naming file, line and column, return None.

    JSON itself lets a key appear twice and keeps the last; in a guest file that is a guest
    defined twice with one definition silently lost, so it is an error here.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        diagnostics.error(path, "", f"cannot read: {exc.strerror}")
        return None
    except UnicodeDecodeError as exc:
        diagnostics.error(path, "", f"not UTF-8 text (byte {exc.start})")
        return None
    try:
        return json.loads(text, object_pairs_hook=_pairs)
    except _DuplicateKey as dup:
        lines = _lines_of_key(text, dup.key)
        where = f"line {lines[1]}" if len(lines) > 1 else "an object"
        diagnostics.error(
            path,
            "",
            f'{where}: key "{dup.key}" appears twice in one object (first on line '
            f"{lines[0] if lines else '?'}); JSON would silently keep only the last",
        )
    except json.JSONDecodeError as exc:
        diagnostics.error(
            path, "", f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
        )
    return None


def _lines_of_key(text: str, key: str) -> list[int]:
    pattern = re.compile(r'"' + re.escape(key) + r'"\s*:')
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]
