"""Reading a JSON file with errors that point at the line, and no silent duplicate keys.

What Python's json module accepts but no configuration may hold is refused here too, with its
JSON path: numbers no range check could compare (thousands of digits, ``NaN``, ``1e999``),
nesting deeper than anything that walks the data later can follow, and strings that cannot
reach a command line or a file (NUL, unpaired UTF-16 surrogates from ``\\ud800`` escapes).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from phoenix_core.config.convert import join_path
from phoenix_core.config.diagnostics import Diagnostics

#: Far deeper than any configuration needs and far inside Python's recursion limit, so the
#: converter and ``json.dumps`` of a guest never overflow the stack on what was read.
MAX_DEPTH = 64
#: Longer integers are not converted at all: Python refuses more than 4300 digits with a
#: ValueError, and nothing in a configuration has more than a few.
MAX_DIGITS = 40


@attrs.frozen
class _Unreadable:
    """A number parsed into a marker that :func:`_walk` reports with its JSON path."""

    problem: str


def _int(text: str) -> int | _Unreadable:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        return _Unreadable(f"an integer of {digits} digits is out of range")
    return int(text)


def _constant(name: str) -> _Unreadable:
    return _Unreadable(f"{name} is not a JSON number")


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
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_constant=_constant)
    except RecursionError:
        diagnostics.error(path, "", f"nested too deeply (at most {MAX_DEPTH} levels are read)")
        return None
    except _DuplicateKey as dup:
        lines = _lines_of_key(text, dup.key)
        where = f"line {lines[1]}" if len(lines) > 1 else "an object"
        diagnostics.error(
            path,
            "",
            f'{where}: key "{dup.key}" appears twice in one object (first on line '
            f"{lines[0] if lines else '?'}); JSON would silently keep only the last",
        )
        return None
    except json.JSONDecodeError as exc:
        diagnostics.error(
            path, "", f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
        )
        return None
    found = list(_walk(data, _ESCAPE.search(text) is not None))
    for where, problem in found:
        diagnostics.error(path, where, problem)
    return None if found else data


def _walk(data: Any, strings: bool) -> Iterator[tuple[str, str]]:
    """(JSON path, problem) for every value no configuration may hold.

    Iterative, so a deep document cannot overflow the stack here either; strings are searched
    only when the text has a ``\\u`` escape (the only way NUL or a lone surrogate gets in), and
    a path is only spelled out for a problem, so a large file costs little.
    """
    stack: list[tuple[tuple[str | int, ...], int, Any]] = [((), 0, [data])]
    while stack:
        parts, depth, value = stack.pop()
        if depth > MAX_DEPTH:
            yield _path(parts), f"nested too deeply (at most {MAX_DEPTH} levels are read)"
            continue
        # A value's path is built only for a container or a problem: most values are neither.
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            if strings and isinstance(key, str) and (problem := _string_problem(key)):
                yield _path(parts), f"key {key!r}: {problem}"
            elif isinstance(item, dict | list):
                if item:
                    stack.append(((*parts, key) if depth else (), depth + 1, item))
            elif isinstance(item, str):
                if strings and (problem := _string_problem(item)):
                    yield _path((*parts, key) if depth else ()), problem
            elif isinstance(item, _Unreadable):
                yield _path((*parts, key) if depth else ()), item.problem
            elif isinstance(item, float) and not math.isfinite(item):
                yield _path((*parts, key) if depth else ()), "number out of range"


def _path(parts: tuple[str | int, ...]) -> str:
    where = ""
    for part in parts:
        where = join_path(where, part)
    return where


#: A ``\\u0000`` or ``\\ud800``-``\\udfff`` escape: raw NUL is not valid JSON text and raw
#: surrogates are not valid UTF-8, so escapes are the only way in.
_ESCAPE = re.compile(r"\\u(0000|d[89a-f])", re.IGNORECASE)
_UNWRITABLE = re.compile("[\x00\ud800-\udfff]")


def _string_problem(text: str) -> str | None:
    """NUL ends a C string (an argv, a path); a lone surrogate has no UTF-8 encoding."""
    found = _UNWRITABLE.search(text)
    if found is None:
        return None
    if found[0] == "\0":
        return f"contains NUL (U+0000) at position {found.start()}"
    return f"contains an unpaired surrogate U+{ord(found[0]):04X} at position {found.start()} (not valid Unicode)"


def _lines_of_key(text: str, key: str) -> list[int]:
    pattern = re.compile(r'"' + re.escape(key) + r'"\s*:')
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]
