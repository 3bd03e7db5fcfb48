"""Configuration: locating the directory, loading the files, validating them as a whole."""

from phoenix_core.config.diagnostics import Diagnostics, Problem
from phoenix_core.config.load import load_config
from phoenix_core.config.locate import config_dir
from phoenix_core.config.models import Config, GuestCommon, HypervisorConfig, TargetConfig
from phoenix_core.config.types import Id

__all__ = [
    "Config",
    "Diagnostics",
    "GuestCommon",
    "HypervisorConfig",
    "Id",
    "Problem",
    "TargetConfig",
    "config_dir",
    "load_config",
]
