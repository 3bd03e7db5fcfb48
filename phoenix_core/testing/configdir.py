"""Writing configuration directories for tests: the hypervisor file and any guest files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from phoenix_core.names import HYPERVISOR_FILE

#: The smallest hypervisor file phoenix loads: every key has a default.
MINIMAL_HYPERVISOR: Mapping[str, Any] = {}


def write_config_dir(
    directory: Path,
    hypervisor: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``phoenix_hypervisor_config.json`` (``hypervisor``, default minimal) and each
    guest file of ``files`` (file name -> JSON value, or text written as it is, so a test can
    also write a file that is not valid JSON) into ``directory``; return ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    content: dict[str, Any] = {HYPERVISOR_FILE: dict(hypervisor or MINIMAL_HYPERVISOR)}
    content.update(files or {})
    for name, data in content.items():
        text = data if isinstance(data, str) else json.dumps(data, indent=2)
        (directory / name).write_text(text, encoding="utf-8")
    return directory
