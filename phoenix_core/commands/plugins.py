"""``phoenix plugins``: what is installed, what each plugin provides, what failed to load."""

from __future__ import annotations

from phoenix_core import __version__
from phoenix_core.plugins import Plugins
from phoenix_core.render import document, emit_json, table


def show_plugins(plugins: Plugins, output: str) -> None:
    records = [
        {
            "name": p.name,
            "distribution": p.distribution,
            "version": p.version,
            "module": p.module,
            "managers": [
                {
                    "name": m.name,
                    "kind": m.kind,
                    "api_version": m.api_version,
                    "description": m.description,
                }
                for m in p.managers
            ],
            "verbs": p.verbs,
            "error": p.error,
            "warnings": p.warnings,
        }
        for p in plugins.plugins
    ]
    if output == "json":
        emit_json(
            document(
                "plugins",
                core={"distribution": "phoenix-core", "version": __version__},
                plugins=records,
            )
        )
        return
    print(f"phoenix-core {__version__}")
    if not records:
        print("no plugins installed (pip install phoenix-lxc phoenix-vm phoenix-hypervisor)")
        return
    rows = [
        (
            r["name"],
            r["distribution"],
            r["version"],
            ", ".join(f"{m['name']} (api {m['api_version']})" for m in r["managers"]) or "-",
            ", ".join(r["verbs"]) or "-",
            f"FAILED: {r['error']}" if r["error"] else "; ".join(r["warnings"]) or "ok",
        )
        for r in records
    ]
    print(table(("PLUGIN", "DISTRIBUTION", "VERSION", "MANAGERS", "VERBS", "STATE"), rows))
