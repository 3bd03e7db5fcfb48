"""Adding one entry to a guest file's text without reformatting the rest (``import --write``).

The file is not re-serialised: the new member goes in just before the closing bracket of the
top-level ``key``'s object or list, indented like that container's first member, so every other
line (its spacing, key order, a hand-aligned block) stays byte for byte as it was. The result is
parsed back and must equal the old data plus the entry, else nothing is written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from phoenix_core.errors import PhoenixError

_WS = " \t\r\n"


def _string_end(text: str, start: int) -> int:
    """The index after the JSON string starting at ``start`` (a ``"``)."""
    i = start + 1
    while text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _value_end(text: str, start: int) -> int:
    """The index after the JSON value starting at ``start``."""
    if text[start] == '"':
        return _string_end(text, start)
    if text[start] not in "[{":
        match = re.compile(r"[^,\]}\s]+").match(text, start)
        assert match is not None
        return match.end()
    depth, i = 0, start
    while True:
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _member(text: str, key: str) -> tuple[int, int] | None:
    """(start, end) of the value of top-level member ``key``, None when absent."""
    i = _skip(text, 0)
    if text[i] != "{":
        raise PhoenixError("the file's top level is not a JSON object")
    i = _skip(text, i + 1)
    while text[i] != "}":
        end = _string_end(text, i)
        name = json.loads(text[i:end])
        value = _skip(text, _skip(text, end) + 1)  # past the ':'
        value_end = _value_end(text, value)
        if name == key:
            return value, value_end
        i = _skip(text, value_end)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return None


def _indent(text: str, inner_start: int, fallback: str) -> str:
    """The indentation of the first member inside a container, or ``fallback``."""
    match = re.compile(r"[ \t]*\n([ \t]*)\S").match(text, inner_start)
    return match.group(1) if match else fallback


def _line_indent(text: str, at: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    return re.match(r"[ \t]*", text[line_start:]).group(0)  # type: ignore[union-attr]


def _render(member: str, value: Any, indent: str, step: str) -> str:
    """``"key": value`` (or the value alone) indented at ``indent``, nested by ``step``."""
    body = json.dumps(value, indent=len(step) or 2, ensure_ascii=False)
    body = body.replace("\n", "\n" + indent)
    return f"{indent}{member}{body}"


def with_entry(text: str, key: str, entry: Any, member_key: str | None) -> str:
    """``text`` with ``entry`` added to the top-level ``key`` container: as member
    ``member_key`` of an object, or appended to a list when ``member_key`` is None."""
    span = _member(text, key)
    outer = _line_indent(text, text.index("{")) + "  "
    if span is None:
        # No such key yet: add it as the last top-level member.
        close = text.rindex("}")
        before = text[:close].rstrip(_WS)
        container = {member_key: entry} if member_key is not None else [entry]
        sep = "," if not before.endswith("{") else ""
        block = _render(f"{json.dumps(key)}: ", container, outer, "  ")
        return f"{before}{sep}\n{block}\n{text[close:]}"
    start, end = span
    close = end - 1
    inside = text[start + 1 : close]
    own = _line_indent(text, start)
    indent = _indent(text, start + 1, own + "  ")
    step = indent[len(own) :] if indent.startswith(own) and len(indent) > len(own) else "  "
    member = f"{json.dumps(member_key)}: " if member_key is not None else ""
    block = _render(member, entry, indent, step)
    if not inside.strip():
        return f"{text[: start + 1]}\n{block}\n{own}{text[close:]}"
    last = start + 1 + len(inside.rstrip(_WS))
    return f"{text[:last]},\n{block}{text[last:]}"


def append_entry(path: Path, key: str, entry: Any, member_key: str | None) -> None:
    """Write ``entry`` into the file at ``path`` (created when missing), checked and atomic."""
    old_text = path.read_text() if path.exists() else "{}\n"
    before = json.loads(old_text)
    new_text = with_entry(old_text, key, entry, member_key)
    expected = dict(before)
    container = expected.get(key, {} if member_key is not None else [])
    if member_key is not None:
        expected[key] = {**container, member_key: entry}
    else:
        expected[key] = [*container, entry]
    if json.loads(new_text) != expected:
        raise PhoenixError(f"{path}: could not add the entry without changing others (unchanged)")
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    tmp.write_text(new_text)
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)
