"""`pvesh get|create|set|delete <path>`: the API passed through, JSON or text output."""

from __future__ import annotations

import json
from typing import Any

from .argv import Args
from .common import Verb, call
from .node import Node
from .result import Result

METHODS = {"get": "GET", "ls": "GET", "create": "POST", "set": "PUT", "delete": "DELETE"}
OUTPUT_OPTS = ("output-format", "noborder", "noheader", "quiet", "human-readable")


def is_write(argv: list[str]) -> bool:
    """pvesh create/set/delete change state; get/ls do not."""
    return len(argv) > 1 and argv[1] in ("create", "set", "delete")


def _text(data: Any) -> str:
    if data is None:
        return ""
    if isinstance(data, (str, int, float)):
        return f"{data}\n"
    return json.dumps(data, indent=4, sort_keys=True) + "\n"


def _verb(method: str):
    async def run(node: Node, args: Args) -> Result:
        path = args.positional[0]
        parts = path.strip("/").split("/")
        if len(parts) > 1 and parts[0] == "nodes" and parts[1] == "localhost":
            parts[1] = node.name
        params = [(k, v) for k, v in args.params() if k not in OUTPUT_OPTS]
        data = await call(node, method, "/" + "/".join(parts), params)
        fmt = args.get("output-format", "text")
        if fmt == "json":
            return Result(0, json.dumps(data, separators=(",", ":")) + "\n")
        if fmt == "json-pretty":
            return Result(0, json.dumps(data, indent=4, sort_keys=True) + "\n")
        return Result(0, _text(data))

    run.__doc__ = f"pvesh verb mapped to HTTP {method}."
    return run


VERBS: dict[str, Verb] = {
    name: Verb(_verb(method), False, ("api_path",)) for name, method in METHODS.items()
}
