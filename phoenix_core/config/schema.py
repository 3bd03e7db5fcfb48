"""JSON Schema for the configuration files, generated from the attrs models.

Generated, not hand-written, so the schema an editor validates against can never drift from
what phoenix actually loads.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

import attrs

from phoenix_core.config.convert import checks_of
from phoenix_core.config.types import MAX_ID, MIN_ID, Id

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_PRIMITIVES = {int: "integer", str: "string", bool: "boolean", float: "number"}
ID_SCHEMA = {
    "description": "a guest id, as a number or a string of digits",
    "anyOf": [
        {"type": "integer", "minimum": MIN_ID, "maximum": MAX_ID},
        {"type": "string", "pattern": "^[0-9]+$"},
    ],
}


def ecma_pattern(regex: re.Pattern[str]) -> str:
    """A compiled regex as a JSON Schema ``pattern`` (ECMA-262, which has no flags): a
    case-insensitive one spells out both cases of every letter, so the schema accepts what
    phoenix accepts (``quickOS-lxc-disks`` as a storage id)."""
    if not regex.flags & re.IGNORECASE:
        return regex.pattern
    text, out, i, in_class = regex.pattern, [], 0, False
    while i < len(text):
        char = text[i]
        if char == "\\":  # an escape (\d, \.) is copied whole
            out.append(text[i : i + 2])
            i += 2
            continue
        if in_class and char == "]":
            in_class = False
        elif not in_class and char == "[":
            in_class = True
        elif in_class and text[i + 1 : i + 2] == "-" and text[i + 2 : i + 3].isalpha():
            low, high = char, text[i + 2]
            out.append(f"{low}-{high}{low.swapcase()}-{high.swapcase()}")
            i += 3
            continue
        elif char.isalpha():
            out.append(char + char.swapcase() if in_class else f"[{char}{char.swapcase()}]")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of one annotation; attrs classes go to ``$defs`` and are referenced."""
    base, checks = checks_of(tp)
    if checks:
        schema = type_schema(base, defs)
        for check in checks:
            schema.update(
                (k, ecma_pattern(v) if isinstance(v, re.Pattern) else v)
                for k, v in check.schema.items()
            )
        return schema
    if tp is Id:
        return dict(ID_SCHEMA)
    if tp is Any:
        return {}
    if tp in _PRIMITIVES:
        return {"type": _PRIMITIVES[tp]}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [type_schema(a, defs) for a in args if a is not type(None)]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {"anyOf": [schema, {"type": "null"}]} if type(None) in args else schema
    if origin in (list, tuple):
        return {"type": "array", "items": type_schema(args[0], defs) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1], defs)}
    if typing.get_origin(tp) is typing.Literal:
        return {"enum": list(args)}
    if attrs.has(tp):
        if tp.__name__ not in defs:
            defs[tp.__name__] = {}
            defs[tp.__name__] = model_schema(tp, defs)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    raise TypeError(f"no JSON Schema for {tp!r}")


def model_schema(cls: type, defs: dict[str, Any], *, extra_allowed: bool = False) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        name = field.metadata.get("json", field.name)
        schema = type_schema(hints[field.name], defs)
        if field.metadata.get("doc"):
            schema = {**schema, "description": field.metadata["doc"]}
        properties[name] = schema
        if field.default is attrs.NOTHING:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if cls.__doc__:
        schema["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        schema["required"] = required
    if not extra_allowed:
        schema["additionalProperties"] = False
    return schema


def document(title: str, root: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    doc = {"$schema": DRAFT, "title": title, **root}
    if defs:
        doc["$defs"] = defs
    return doc
