"""The one cattrs converter every model is structured with, and its error messages.

cattrs is lenient by default (``int("16")``, ``bool("false") is True``); configuration must
not be, so the primitive hooks here accept only the JSON type the model declares. Errors are
flattened into ``json.path: expected an integer, got "2G"`` lines, with a suggestion for
unknown keys that look like a typo of a known one.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_mapping_structure_fn, override

from phoenix_core.config.types import Id, TargetId, parse_id, parse_ref
from phoenix_core.config.validate import MULTILINE, Check, control_problem, problems

_NAMES = {int: "an integer", str: "a string", bool: "a boolean (true or false)", float: "a number"}


class ValueProblem(ValueError):
    """A value of the wrong JSON type; the message is already user-facing."""


def show(value: Any) -> str:
    """A value as it looks in the JSON file, shortened for one line."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _strict(kind: type) -> Any:
    def structure(value: Any, _: type) -> Any:
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            raise ValueProblem(f"expected {_NAMES[kind]}, got {show(value)}")
        # A typed string reaches an argv, a conf file or a log line: a newline there starts
        # a new line of the file, so no model field may hold one.
        problem = control_problem(value) if kind is str else None
        if problem is not None:
            raise ValueProblem(problem)
        return value

    return structure


def _text(value: Any, _: type) -> str:
    """A :data:`MULTILINE` string: line breaks pass, its check refuses other control bytes."""
    if not isinstance(value, str):
        raise ValueProblem(f"expected {_NAMES[str]}, got {show(value)}")
    return value


def _parsed(parse: Callable[[Any], Any], expected: str) -> Any:
    """A structure hook of ``parse`` (ValueError: the value is not ``expected``)."""

    def structure(value: Any, _: type) -> Any:
        try:
            return parse(value)
        except ValueError:
            raise ValueProblem(f"expected {expected}, got {show(value)}") from None

    return structure


def _structure_any(value: Any, _: type) -> Any:
    return value


def checks_of(tp: Any) -> tuple[Any, list[Check]]:
    """``Annotated[int, in_range(1, 10)]`` -> ``(int, [check])``; other types have no checks."""
    if typing.get_origin(tp) is not typing.Annotated:
        return tp, []
    base, *meta = typing.get_args(tp)
    return base, [m for m in meta if isinstance(m, Check)]


def _checked(converter: cattrs.Converter) -> Any:
    """Structure the annotated base type, then run the field's checks on the result."""

    def factory(tp: Any) -> Any:
        base, checks = checks_of(tp)
        inner = _text if MULTILINE in checks else converter.get_structure_hook(base)

        def structure(value: Any, _: type) -> Any:
            result = inner(value, base)
            problem = problems(result, checks)
            if problem is not None:
                raise ValueProblem(problem)
            return result

        return structure

    return factory


def _require(kind: type, name: str, structure: Any) -> Any:
    """Wrap a structure function so a value of the wrong JSON container type is named plainly.

    Without it cattrs iterates a string given for a list (one error per character) and
    reports ``'list' object has no attribute 'keys'`` for a list given for an object.
    """

    def checked(value: Any, cls: type) -> Any:
        if not isinstance(value, kind):
            raise ValueProblem(f"expected {name}, got {show(value)}")
        return structure(value, cls)

    return checked


def _forbid_extra_keys(converter: cattrs.Converter, cls: type) -> Any:
    """Attrs classes reject unknown keys; ``renames`` metadata maps JSON names like ``$schema``."""
    overrides = {
        f.name: override(rename=f.metadata["json"])
        for f in attrs.fields(cls)
        if "json" in f.metadata
    }
    structure = make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True, **overrides)
    return _require(dict, "an object", structure)


def _list(converter: cattrs.Converter) -> Any:
    """A list must be a JSON array before cattrs looks inside it."""
    return lambda cls: _require(list, "a list", list_structure_factory(cls, converter))


def _dict(converter: cattrs.Converter) -> Any:
    """A dict must be a JSON object before cattrs looks inside it."""
    return lambda cls: _require(dict, "an object", make_mapping_structure_fn(cls, converter))


def make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    for kind in (int, str, bool, float):
        converter.register_structure_hook(kind, _strict(kind))
    guest_id = "a guest id (a whole number like 101)"
    converter.register_structure_hook(Id, _parsed(parse_id, guest_id))
    # A reference to a target (a dependency): a guest id, or a target's name.
    references = _parsed(parse_ref, f"{guest_id} or a target name")
    converter.register_structure_hook_func(lambda t: t == TargetId, references)
    converter.register_structure_hook(Any, _structure_any)
    converter.register_structure_hook_factory(
        attrs.has, lambda cls: _forbid_extra_keys(converter, cls)
    )
    converter.register_structure_hook_factory(
        lambda c: typing.get_origin(c) is list, _list(converter)
    )
    converter.register_structure_hook_factory(
        lambda c: typing.get_origin(c) is dict, _dict(converter)
    )
    converter.register_structure_hook_factory(lambda c: bool(checks_of(c)[1]), _checked(converter))
    return converter


converter = make_converter()


def json_name(cls: type, name: str) -> str:
    for f in attrs.fields(cls):
        if f.name == name:
            return f.metadata.get("json", name)
    return name


def known_keys(cls: type) -> list[str]:
    return [f.metadata.get("json", f.name) for f in attrs.fields(cls)]


def suggest(key: str, candidates: list[str]) -> str:
    """`` (did you mean "memory_mb"?)`` when a close known key exists, else ``""``."""
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.75)
    return f' (did you mean "{close[0]}"?)' if close else ""


def join_path(base: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{base}[{part}]"
    return f"{base}.{part}" if base else str(part)


def describe(exc: BaseException, path: str, cls: type | None = None) -> Iterator[tuple[str, str]]:
    """Walk a cattrs error tree and yield ``(json path, problem)`` pairs."""
    if isinstance(exc, ForbiddenExtraKeysError):
        keys = known_keys(exc.cl) if attrs.has(exc.cl) else []
        for key in sorted(exc.extra_fields):
            yield join_path(path, key), "unknown key" + suggest(key, keys)
        return
    if isinstance(exc, ClassValidationError | IterableValidationError):
        for inner in exc.exceptions:
            notes = getattr(inner, "__notes__", [])
            note = next((n for n in notes if hasattr(n, "name") or hasattr(n, "index")), None)
            sub = path
            if note is not None and hasattr(note, "name"):
                owner = getattr(exc, "cl", None)
                key = json_name(owner, note.name) if owner and attrs.has(owner) else note.name
                sub = join_path(path, key)
            elif note is not None:
                sub = join_path(path, note.index)
            yield from describe(inner, sub)
        return
    if isinstance(exc, KeyError):
        yield path, "required key is missing"
        return
    if isinstance(exc, ValueProblem):
        yield path, str(exc)
        return
    yield path, str(exc) or type(exc).__name__
