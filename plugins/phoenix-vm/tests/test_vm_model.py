# ruff: noqa: F811 - pytest fixtures imported from vm_support are used as arguments
"""Every key of the old ``phoenix_vm_configs.json`` loads; a bad value exits 2 naming the file
and its JSON path, before anything runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from vm_support import Cli, cli, copy_original, original, vm_node  # noqa: F401 - fixtures

VM = "phoenix_vm_configs.json"


def vm(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["vms"][index].update(values)


def net(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["vms"][index]["network_config"].update(values)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("memory-too-small", vm(1, memory_mb=8), "vms[1].memory_mb: must be at least 16, got 8"),
    ("cores-string", vm(1, cores="four"), 'vms[1].cores: expected an integer, got "four"'),
    (
        "default-typo",
        lambda d: d["vm_defaults"].update(memroy_mb=1),
        'vm_defaults.memroy_mb: unknown key (did you mean "memory_mb"?)',
    ),
    ("gateway-outside", net(1, gw="10.1.0.1"), "vms[1].network_config.gw: "),
    (
        "static-without-gw",
        lambda d: d["vms"][2]["network_config"].pop("gw"),
        "vms[2].network_config.gw: a static ip needs a gateway",
    ),
    ("bad-ip", net(1, ip="10.0.0.300/24"), "vms[1].network_config.ip"),
    ("vlan-range", net(1, vlan_tag=5000), "vms[1].network_config.vlan_tag"),
    ("bad-mac", net(1, mac_address="52:54:00:zz:00:01"), "vms[1].network_config.mac_address"),
    ("hostpci", vm(2, hostpci=["gpu0"]), "vms[2].hostpci[0]: not a PCI address"),
    ("checksum", vm(0, template_image_checksum="sha256:abc"), "vms[0].template_image_checksum"),
    ("image-path", vm(0, template_image="../x.img"), "vms[0].template_image: not an image file"),
    (
        "ssh-key",
        lambda d: d["vms"][1]["user_config"].update(ssh_keys=["hello"]),
        "vms[1].user_config.ssh_keys[0]",
    ),
    (
        "user-name",
        lambda d: d["vms"][1]["user_config"].update(username="-root"),
        "vms[1].user_config.username",
    ),
    (
        "volume-type",
        lambda d: d["vms"][1]["volumes"][0].update(type="cifs"),
        "vms[1].volumes[0].type",
    ),
    ("snapshot-name", vm(1, snapshots={"pre-features": "1bad"}), "vms[1].snapshots.pre-features"),
    ("feature-name", vm(1, features=["../x"]), "vms[1].features[0]"),
    ("no-agent", vm(1, agent=False), "vms[1].agent: phoenix needs the guest agent"),
    ("user-data", vm(1, user_data="local:iso/u.yaml"), "vms[1].user_data: not a snippet volume"),
    (
        "test-type",
        vm(1, tests={"smoke": [{"path": "smoke/a.sh", "type": "http"}]}),
        "vms[1].tests.smoke[0].type",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_value_exits_2_naming_file_and_path(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    from click.testing import CliRunner

    from phoenix_core.cli import build
    from phoenix_core.plugins import Plugins

    etc = copy_original(tmp_path)
    data = json.loads((etc / VM).read_text())
    mutate(data)
    (etc / VM).write_text(json.dumps(data, indent=2))
    plugins = Plugins().discover()
    result = CliRunner().invoke(
        build(plugins), ["--config-dir", str(etc), "config", "validate"], obj=plugins
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{VM}: {expected}" in result.stderr, result.stderr


def test_a_bad_value_runs_nothing_on_the_node(cli: Cli, original: Path) -> None:
    data = json.loads((original / VM).read_text())
    data["vms"][1]["memory_mb"] = 8
    (original / VM).write_text(json.dumps(data))
    mark = cli.node.mark()
    result = cli.subprocess("--config-dir", str(original), "converge", "1001")
    assert result.returncode == 2
    assert f"{VM}: vms[1].memory_mb" in result.stderr
    assert cli.node.since(mark) == []


def test_keys_for_other_tools_load_with_a_warning_naming_them(tmp_path: Path) -> None:
    etc = copy_original(tmp_path)
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("phoenix")
    result = subprocess.run(
        [str(exe), "--config-dir", str(etc), "config", "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"{VM}: vms[2]: docker_stacks, portainer_role, portainer_environment_name, "
        "portainer_agent_hostname, traefik_service, dns_records, trigger_sync_on_completion: "
        "kept for scripts (in the guest JSON), not acted on by phoenix-vm"
    ) in result.stdout  # config validate lists every warning with its result
    assert f"{VM}: vm_defaults.template: not used for VMs" in result.stdout


def test_a_missing_check_or_test_script_of_a_vm_is_a_warning_naming_its_path(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from phoenix_core.cli import build
    from phoenix_core.plugins import Plugins

    etc = copy_original(tmp_path)
    data = json.loads((etc / VM).read_text())
    vm(1, health_checks=[{"script": "nowhere.sh"}], tests={"smoke": [{"path": "smoke/no.sh"}]})(
        data
    )
    (etc / VM).write_text(json.dumps(data, indent=2))
    plugins = Plugins().discover()
    result = CliRunner().invoke(
        build(plugins), ["--config-dir", str(etc), "config", "validate"], obj=plugins
    )
    assert result.exit_code == 0, result.output
    assert f"{VM}: vms[1].health_checks[0]: " in result.stdout
    assert f"{VM}: vms[1].tests.smoke[0]: " in result.stdout
