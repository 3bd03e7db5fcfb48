"""docs/plugins/hooks.md cannot drift from the code it documents (as datasette tests its
plugin hook docs): hook names, arguments, firstresult and docstrings, and the Manager methods."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from phoenix_core import hookspecs
from phoenix_core.capacity import NodeInfo
from phoenix_core.checks import HealthChecks
from phoenix_core.manager import GuestDiscovery, Manager

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins" / "hooks.md"
HOOK = re.compile(
    r"^### `(phoenix_\w+)\(([^)]*)\)`\n\nfirstresult: (yes|no)\n\n```text\n(.*?)\n```", re.M | re.S
)


def documented() -> dict[str, tuple[list[str], bool, str]]:
    return {
        name: ([a.strip() for a in args.split(",") if a.strip()], first == "yes", doc)
        for name, args, first, doc in HOOK.findall(DOC.read_text())
    }


def specs() -> dict[str, tuple[list[str], bool, str]]:
    found = {}
    for name, function in vars(hookspecs).items():
        if name.startswith("phoenix_") and hasattr(function, "phoenix_spec"):
            args = list(inspect.signature(function).parameters)
            found[name] = (args, function.phoenix_spec["firstresult"], inspect.getdoc(function))
    return found


def test_every_hook_is_documented_and_nothing_else() -> None:
    assert sorted(documented()) == sorted(specs())


def test_arguments_firstresult_and_docstrings_match() -> None:
    docs = documented()
    for name, spec in specs().items():
        assert docs[name] == spec, f"docs/plugins/hooks.md disagrees with hookspecs.{name}"


def test_the_manager_contract_table_lists_every_method_with_its_arguments() -> None:
    rows = dict(re.findall(r"^\| `(\w+)\(([^)]*)\)` \|", DOC.read_text(), re.M))
    assert rows == _methods(Manager)


def _methods(protocol: type) -> dict[str, str]:
    return {
        name: ", ".join(list(inspect.signature(function).parameters)[1:])
        for name, function in vars(protocol).items()
        if not name.startswith("_") and callable(function)
    }


def test_the_optional_methods_tables_list_the_optional_protocols() -> None:
    rows = dict(re.findall(r"^\| `(\w+)\(([^)]*)\)` \(optional\) \|", DOC.read_text(), re.M))
    assert rows == {**_methods(HealthChecks), **_methods(GuestDiscovery), **_methods(NodeInfo)}
