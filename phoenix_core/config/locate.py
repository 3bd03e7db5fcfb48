"""Finding the configuration directory and the files in it.

The directory comes from ``--config-dir``, then ``PHOENIX_CONFIG_DIR``, then the old tool's
``/usr/local/phoenix_hypervisor/etc``. ``core_paths`` in the hypervisor file name the guest
files; an absolute path that does not exist (a directory copied from another machine) is
looked up by file name beside the hypervisor file, with a warning.
"""

from __future__ import annotations

import os
from pathlib import Path

from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.errors import ConfigError
from phoenix_core.names import HYPERVISOR_FILE

DEFAULT_CONFIG_DIR = Path("/usr/local/phoenix_hypervisor/etc")
ENV_CONFIG_DIR = "PHOENIX_CONFIG_DIR"


def config_dir(option: str | os.PathLike[str] | None) -> Path:
    """The configuration directory, checked to exist; ConfigError names where it came from."""
    if option:
        path, source = Path(option), "--config-dir"
    elif os.environ.get(ENV_CONFIG_DIR):
        path, source = Path(os.environ[ENV_CONFIG_DIR]), ENV_CONFIG_DIR
    else:
        path, source = DEFAULT_CONFIG_DIR, "the default location"
    if not path.is_dir():
        raise ConfigError(
            f"configuration directory {path} (from {source}) does not exist; "
            f"pass --config-dir or set {ENV_CONFIG_DIR}"
        )
    if not (path / HYPERVISOR_FILE).is_file():
        raise ConfigError(f"{path}: no {HYPERVISOR_FILE} in the configuration directory")
    return path


def guest_file(
    directory: Path, key: str, named: str | None, default_name: str, diagnostics: Diagnostics
) -> Path | None:
    """Where a guest file named by ``core_paths.<key>`` really is, or None if there is none.

    Relative names are relative to the configuration directory. A named file that cannot
    be found anywhere is an error; an unnamed one that is absent means no guests of that kind.
    """
    if not named:
        candidate = directory / default_name
        return candidate if candidate.is_file() else None
    path = Path(named) if os.path.isabs(named) else directory / named
    if path.is_file():
        return path
    beside = directory / path.name
    if beside.is_file():
        diagnostics.warn(
            HYPERVISOR_FILE,
            f"core_paths.{key}",
            f"{named} does not exist; using {beside} found beside {HYPERVISOR_FILE}",
        )
        return beside
    diagnostics.error(
        HYPERVISOR_FILE, f"core_paths.{key}", f"{named} does not exist (nor {beside})"
    )
    return None
