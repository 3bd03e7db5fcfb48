"""What the core must not become: a Proxmox library, or a knot of modules importing each other.

DESIGN §1: phoenix_core knows no Proxmox tool; the shared Proxmox code is phoenix-pve, which
only the managers import. Import cycles (TYPE_CHECKING imports included, since they are the
same dependency written lazily) make a module impossible to read or test on its own.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import phoenix_core

CORE = Path(phoenix_core.__file__).parent
#: The Proxmox command-line tools (reference/pve-cli.md); none may appear in the core.
TOOLS = re.compile(r"\b(pct|qm|pvesm|pvesh|pveam|pveum|pvenode|pveversion|vzdump)\b")
#: Distributions the core must never import: the shared Proxmox library and the managers.
FORBIDDEN = ("phoenix_pve", "phoenix_lxc", "phoenix_vm", "phoenix_hypervisor")


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), str(path))
    return found


def imports(name: str, tree: ast.Module) -> set[str]:
    """Every module ``tree`` imports, with the packages whose ``__init__`` that runs."""
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: the core imports absolutely"
            base = node.module or ""
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    closed = set()
    for target in targets:
        parts = target.split(".")
        closed.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return closed


def test_the_core_names_no_proxmox_tool() -> None:
    hits = []
    for path in sorted(CORE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TOOLS.search(line):
                hits.append(f"{path.relative_to(CORE.parent)}:{number}: {line.strip()}")
    assert hits == []


def test_the_core_imports_no_manager_and_not_phoenix_pve() -> None:
    bad = {
        name: sorted(t for t in imports(name, tree) if t.split(".")[0] in FORBIDDEN)
        for name, tree in modules().items()
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_core_modules_import_each_other_without_cycles() -> None:
    trees = modules()
    # A package's __init__ importing its own submodules (config re-exporting load_config) is
    # how packages work, so those edges are left out; every other loop is a cycle.
    graph = {
        name: sorted(
            t
            for t in imports(name, tree)
            if t in trees and t != name and not t.startswith(name + ".")
        )
        for name, tree in trees.items()
    }
    assert _cycles(graph) == []


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in graph[node]:
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_help_imports_no_engine_config_or_logging() -> None:
    """``phoenix --help`` runs on every completion and typo (150 ms budget, performance.md):
    the engine, its executor, the config loader, cattrs and loguru load when a verb needs them,
    the hosts (``subprocess``) when a command first runs, and importlib.metadata (with the
    email package) only when a distribution's name or version is shown."""
    code = (
        "import sys\n"
        "from phoenix_core.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('phoenix_core.engine', 'phoenix_core.executor', 'phoenix_core.config.load',\n"
        "         'email', 'importlib.metadata', 'phoenix_core.hosts.local', 'subprocess',\n"
        "         'cattrs', 'loguru', 'paramiko')\n"
        "sys.stderr.write('loaded:' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "Usage: phoenix" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "loaded:"
