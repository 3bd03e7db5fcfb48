"""The container model: the old files load, mistakes are named, defaults merge in order."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lxc_support import EXAMPLE_ETC

from phoenix_core.config import load_config
from phoenix_core.errors import ConfigError
from phoenix_core.plugins import Plugins
from phoenix_lxc import plugin, rawconf, rawkeys
from phoenix_lxc.manager import SHIPPED
from phoenix_lxc.model import IdMap, LxcSpec, with_host_defaults
from phoenix_pve import scripts
from phoenix_pve.settings import ProxmoxDefaults, PveSettings


def _load(directory: Path):
    """Only the LXC plugin registered, as the core loads it (its layout and its manager)."""
    plugins = Plugins()
    plugins.add(plugin, "lxc", "phoenix-lxc")
    return load_config(directory, plugins)


def test_the_old_files_load_with_every_key_typed() -> None:
    config = _load(EXAMPLE_ETC)
    spec: LxcSpec = config.guests[101].spec
    assert spec.memory_mb == 4096 and spec.swap_mb == 512
    assert spec.id_maps == [IdMap("gid", 33, 33, 1)]
    assert spec.mount_points[0].owner_uid == 33
    assert spec.nvidia_driver_version == "580.76.05"  # from the file root
    assert config.guests[103].spec.health_check.retries == 5
    assert config.guests[911].spec.vllm_engine_config["ServerConfig"]["port"] == 8000
    assert config.guests[901].spec.gpu_indices() == [0, 1]


def test_a_typo_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    shutil.copytree(EXAMPLE_ETC, etc)
    path = etc / "phoenix_lxc_configs.json"
    data = json.loads(path.read_text())
    data["lxc_configs"]["101"]["memroy_mb"] = data["lxc_configs"]["101"].pop("memory_mb")
    data["lxc_configs"]["102"]["cores"] = "2"
    data["lxc_configs"]["103"]["gpu_assignment"] = "all"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as info:
        _load(etc)
    problems = "\n".join(info.value.problems)
    assert 'lxc_configs.101.memroy_mb: unknown key (did you mean "memory_mb"?)' in problems
    assert 'lxc_configs.102.cores: expected an integer, got "2"' in problems
    assert "lxc_configs.103.gpu_assignment" in problems


def test_proxmox_defaults_are_the_lowest_layer() -> None:
    config = _load(EXAMPLE_ETC)
    guest = config.guests[101]
    spec = guest.spec
    hyp = PveSettings(
        proxmox_defaults=ProxmoxDefaults(lxc={"cores": 7, "swap_mb": 1024, "features": "nesting=1"})
    )
    merged = with_host_defaults(spec, guest, hyp)
    assert merged.cores == 4  # the container's own value wins
    assert merged.swap_mb == 512
    assert merged.pct_options == ["nesting=1"]  # the string form is not applied
    bare = attrs_without(guest, "cores")
    assert with_host_defaults(bare.spec, bare, hyp).cores == 7


def attrs_without(guest, key):
    import attrs

    raw = {k: v for k, v in guest.raw.items() if k != key}
    return attrs.evolve(guest, raw=raw, spec=attrs.evolve(guest.spec, **{key: None}))


def test_id_maps_cover_the_whole_range_and_map_owners() -> None:
    maps = [IdMap("gid", 33, 33, 1)]
    lines = [v for _, v in rawconf.idmap_lines(maps, unprivileged=True)]
    assert lines == ["u 0 100000 65536", "g 0 100000 33", "g 33 33 1", "g 34 100034 65502"]
    assert rawconf.host_id(maps, "gid", 33, True) == 33
    assert rawconf.host_id(maps, "uid", 33, True) == 100033
    assert rawconf.host_id([], "uid", 0, False) == 0


def test_raw_option_spellings() -> None:
    assert rawconf.split_option("lxc.apparmor.profile=unconfined") == (
        "lxc.apparmor.profile",
        "unconfined",
    )
    assert rawconf.split_option("lxc.mount.auto:sys:rw") == ("lxc.mount.auto", "sys:rw")
    text = "arch: amd64\nlxc.a: 1\n\n[snap]\nlxc.a: 1\n"
    assert rawconf.rewrite(text, [("lxc.b", "2")]) == "arch: amd64\nlxc.b: 2\n\n[snap]\nlxc.a: 1\n"


@pytest.mark.parametrize("name", ["base_setup", "docker", "nvidia"])
def test_shipped_feature_scripts_are_found_and_valid_bash(name: str, tmp_path: Path) -> None:
    places = scripts.SearchPath(tmp_path, "lxc", SHIPPED).features(name)
    found = scripts.find("feature script", name, places)
    assert found.path.parent == SHIPPED
    assert subprocess.run(["bash", "-n", str(found.path)], check=False).returncode == 0


@pytest.mark.parametrize(
    ("option", "fatal"),
    [
        ("lxc.apparmor.profile=unconfined", None),
        ("lxc.mount.auto:sys:rw", None),
        ("lxc.cgroup2.devices.allow: c 195:* rwm", None),
        ("lxc.net.0.type=veth", None),
        ("lxc.aa_profile=unconfined", False),
        ("lxc.cgroup.devices.allow=a", False),
        ("lxc.rootfs.path=/x", True),
        ("lxc.bogus=1", True),
        ("foo.bar=1", True),
        ("LXC.arch=amd64", True),
        ("=x", True),
    ],
)
def test_raw_keys_as_pve_container_reads_them(option: str, fatal: bool | None) -> None:
    problem = rawkeys.key_problem(rawkeys.split_option(option)[0])
    assert (problem[1] if problem else None) is fatal


def test_config_validate_names_every_missing_script_with_its_path(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    shutil.copytree(EXAMPLE_ETC, etc)
    (etc / "features" / "lxc").mkdir(parents=True)
    (etc / "features" / "lxc" / "trusted_ca.sh").write_text("echo ca\n")
    warnings = _load(etc).warnings
    about_101 = [w for w in warnings if "lxc_configs.101." in w]
    assert [w.split(": ")[1] for w in about_101] == [
        "lxc_configs.101.features[2]",  # step_cli; trusted_ca is found, base_setup is shipped
        "lxc_configs.101.application_script",
    ]
    assert "feature script 'step_cli' not found; looked in: " in about_101[0]
    check = next(w for w in warnings if "lxc_configs.103.health_check.command" in w)
    assert "health-check script 'check_step_ca.sh' not found" in check
    (etc / "health_checks").mkdir()
    (etc / "health_checks" / "check_step_ca.sh").write_text('pct status "$1"\n')
    assert not any("lxc_configs.103.health_check" in w for w in _load(etc).warnings)
