"""Loading the old tool's real files unchanged, locating them, and the generated schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.config import config_dir, load_config
from phoenix_core.config.schema import ecma_pattern
from phoenix_core.errors import ConfigError
from phoenix_core.plugins import Plugins
from tests.conftest import EXAMPLE_ETC, original_etc
from tests.support.fakenode import fake_plugins


def test_the_original_files_load_unchanged_with_all_15_guests(fake_plugins: Plugins) -> None:
    config = load_config(original_etc(), fake_plugins)
    assert sorted(config.guests) == [
        101,
        102,
        103,
        801,
        802,
        900,
        901,
        910,
        911,
        912,
        914,
        917,
        1001,
        1002,
        9000,
    ]
    assert all(g.spec is not None for g in config.guests.values())
    assert config.guests[901].requires == [900, 1002]
    assert config.guests[9000].is_template
    # The fake managers read none of the hypervisor file's sections: each is named once as
    # unread, with the distribution whose file it is.
    (unread,) = [w for w in config.warnings if "no installed manager reads" in w]
    assert "proxmox_defaults" in unread and "core_paths.hf_token_file" in unread
    assert "install phoenix-hypervisor" in unread
    assert config.guests[911].file_defaults["nvidia_driver_version"] == "580.76.05"


def test_absolute_core_paths_that_do_not_exist_are_found_beside(etc: Path) -> None:
    config = load_config(etc, fake_plugins())
    assert config.files["phoenix_lxc_configs.json"] == etc / "phoenix_lxc_configs.json"
    assert any(
        "core_paths.lxc_config_file: /usr/local/phoenix_hypervisor/etc/phoenix_lxc_configs.json does not exist; using"
        in w
        for w in config.warnings
    )


def test_relative_core_paths_are_relative_to_the_config_dir(etc: Path) -> None:
    (etc / "guests").mkdir()
    shutil.move(etc / "phoenix_vm_configs.json", etc / "guests" / "vms.json")
    hypervisor = etc / "phoenix_hypervisor_config.json"
    data = json.loads(hypervisor.read_text())
    data["core_paths"]["vm_config_file"] = "guests/vms.json"
    hypervisor.write_text(json.dumps(data))
    assert (
        load_config(etc, fake_plugins()).files["phoenix_vm_configs.json"]
        == etc / "guests" / "vms.json"
    )


def test_config_dir_precedence(tmp_path: Path, etc: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOENIX_CONFIG_DIR", str(tmp_path / "from-env"))
    assert config_dir(etc) == etc
    with pytest.raises(ConfigError, match="from PHOENIX_CONFIG_DIR"):
        config_dir(None)
    monkeypatch.delenv("PHOENIX_CONFIG_DIR")
    with pytest.raises(ConfigError, match="from the default location"):
        config_dir(None)


def test_missing_manager_is_a_warning_at_load_time(etc: Path) -> None:
    warnings = load_config(etc, fake_plugins("lxc")).warnings
    assert (
        "phoenix_vm_configs.json: no installed manager handles vm guests (install phoenix-vm)"
        in warnings
    )


@pytest.mark.parametrize("file", ["hypervisor", "lxc", "vm"])
def test_schema_is_generated_and_accepts_the_original_files(cli: Any, file: str) -> None:
    result = cli("config", "schema", file)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    jsonschema = pytest.importorskip("jsonschema")
    names = {
        "hypervisor": "phoenix_hypervisor_config.json",
        "lxc": "phoenix_lxc_configs.json",
        "vm": "phoenix_vm_configs.json",
    }
    jsonschema.validate(json.loads((original_etc() / names[file]).read_text()), schema)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind, name",
    [
        ("hypervisor", "phoenix_hypervisor_config.json"),
        ("lxc", "phoenix_lxc_configs.json"),
        ("vm", "phoenix_vm_configs.json"),
    ],
)
def test_the_installed_plugins_schemas_accept_the_shipped_example(kind: str, name: str) -> None:
    """With the real managers' models (case-insensitive patterns included), every file the
    loader accepts is valid for its schema: 0 errors."""
    jsonschema = pytest.importorskip("jsonschema")
    out = subprocess.run(
        [sys.executable, "-m", "phoenix_core.cli", "config", "schema", kind],
        capture_output=True,
        text=True,
        check=True,
    )
    validator = jsonschema.Draft202012Validator(json.loads(out.stdout))
    document = json.loads((EXAMPLE_ETC / name).read_text())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(
    "regex, accepted, refused",
    [
        (re.compile(r"^[a-z][a-z0-9_.-]*[a-z0-9]$", re.IGNORECASE), "quickOS-lxc-disks", "-x"),
        (re.compile(r"^(none|\d+[KMG]?)$", re.IGNORECASE), "NONE", "12T"),
        (re.compile(r"^[A-Za-z][\w-]+$"), "Web_1", "1web"),
    ],
)
def test_a_case_insensitive_pattern_keeps_its_meaning_in_the_schema(
    regex: re.Pattern[str], accepted: str, refused: str
) -> None:
    pattern = ecma_pattern(regex)
    for value, expected in ((accepted, True), (refused, False), (accepted.swapcase(), True)):
        assert bool(regex.search(value)) is expected
        assert bool(re.search(pattern, value)) is expected, (pattern, value)


def test_schema_rejects_what_the_loader_rejects(cli: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cli("config", "schema", "hypervisor").stdout)
    # Without the host manager, which owns the file, a key no manager reads is a warning.
    jsonschema.validate({"timezon": "UTC"}, schema)
    owned = json.loads(cli("config", "schema", "hypervisor", plugins=Plugins().discover()).stdout)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"timezon": "UTC"}, owned)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"nodes": {"pve1": {"address": "x", "port": "22"}}}, schema)
