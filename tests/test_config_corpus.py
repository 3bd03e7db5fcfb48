"""A corpus of broken configuration directories: each exits 2, names file and path, no traceback.

Every case starts from a copy of the old tool's real files and breaks one thing, the way a
user would: a typo, a wrong type, a dangling reference, a cycle, a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HV, LXC, VM = (
    "phoenix_hypervisor_config.json",
    "phoenix_lxc_configs.json",
    "phoenix_vm_configs.json",
)


def edit(file: str, change: Callable[[Any], Any]) -> Callable[[Path], None]:
    def apply(directory: Path) -> None:
        path = directory / file
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data, indent=2))

    return apply


def text(file: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(directory: Path) -> None:
        path = directory / file
        path.write_text(change(path.read_text()))

    return apply


def ct(ident: str, **values: Any) -> Callable[[Path], None]:
    return edit(LXC, lambda d: d["lxc_configs"][ident].update(values))


def vm(index: int, **values: Any) -> Callable[[Path], None]:
    return edit(VM, lambda d: d["vms"][index].update(values))


CASES: list[tuple[str, Callable[[Path], None], list[str]]] = [
    (
        "json-trailing-comma",
        text(
            LXC,
            lambda t: t.replace(
                '"cores": 2,\n            "template"', '"cores": 2,,\n            "template"', 1
            ),
        ),
        [LXC, "line 13", "invalid JSON"],
    ),
    ("json-truncated", text(VM, lambda t: t[: len(t) // 2]), [VM, "invalid JSON"]),
    ("json-empty-file", text(HV, lambda t: ""), [HV, "line 1 column 1", "invalid JSON"]),
    (
        "json-not-utf8",
        lambda d: (d / LXC).write_bytes(b'{"lxc_configs": {"900": {"name": "\xff"}}}'),
        [LXC, "not UTF-8"],
    ),
    (
        "duplicate-ctid-key",
        text(LXC, lambda t: t.replace('"901": {', '"900": {', 1)),
        [LXC, 'key "900" appears twice'],
    ),
    ("top-level-list", text(LXC, lambda t: "[]"), [LXC, "expected a JSON object at the top"]),
    (
        "lxc-configs-missing",
        edit(LXC, lambda d: d.pop("lxc_configs")),
        [LXC, "lxc_configs: required key is missing"],
    ),
    (
        "lxc-configs-list",
        edit(LXC, lambda d: d.update(lxc_configs=[])),
        [LXC, "lxc_configs: expected an object keyed by id"],
    ),
    (
        "ctid-not-a-number",
        edit(LXC, lambda d: d["lxc_configs"].update(web=d["lxc_configs"]["103"])),
        [LXC, "lxc_configs.web", "expected a guest id"],
    ),
    (
        "ctid-out-of-range",
        edit(LXC, lambda d: d["lxc_configs"].update({"42": {"name": "x"}})),
        [LXC, "lxc_configs.42", "expected a guest id"],
    ),
    (
        "guest-not-object",
        edit(LXC, lambda d: d["lxc_configs"].update({"555": "web"})),
        [LXC, "lxc_configs.555: expected an object"],
    ),
    (
        "name-missing",
        edit(LXC, lambda d: d["lxc_configs"]["103"].pop("name")),
        [LXC, "lxc_configs.103.name: required key is missing"],
    ),
    (
        "name-wrong-type",
        ct("103", name=103),
        [LXC, "lxc_configs.103.name: expected a string, got 103"],
    ),
    (
        "memory-as-string",
        ct("103", memory_mb="2G"),
        [LXC, 'lxc_configs.103.memory_mb: expected an integer, got "2G"'],
    ),
    (
        "cores-as-float",
        ct("103", cores=1.5),
        [LXC, "lxc_configs.103.cores: expected an integer, got 1.5"],
    ),
    (
        "boot-order-string",
        ct("101", boot_order="2"),
        [LXC, 'lxc_configs.101.boot_order: expected an integer, got "2"'],
    ),
    (
        "start-at-boot-yes",
        ct("101", start_at_boot="yes"),
        [LXC, "lxc_configs.101.start_at_boot: expected a boolean"],
    ),
    (
        "dependencies-not-list",
        ct("101", dependencies="103"),
        [LXC, 'lxc_configs.101.dependencies: expected a list, got "103"'],
    ),
    (
        # A name may be a dependency (a target a manager names): this one is not defined.
        "dependency-unknown-name",
        ct("101", dependencies=["nginx"]),
        [LXC, "lxc_configs.101.dependencies[0]: nginx is not defined in any guest file"],
    ),
    (
        "dependency-bad-id",
        ct("101", dependencies=["nginx proxy"]),
        [
            LXC,
            "lxc_configs.101.dependencies[0]: expected a guest id (a whole number like 101) "
            'or a target name, got "nginx proxy"',
        ],
    ),
    (
        "dependency-on-host",
        ct("101", dependencies=["host"]),
        [
            LXC,
            'lxc_configs.101.dependencies[0]: expected a guest id (a whole number like 101) or a target name, got "host"',
        ],
    ),
    (
        "dangling-dependency",
        ct("101", dependencies=["104"]),
        [LXC, "lxc_configs.101.dependencies[0]: 104 is not defined in any guest file"],
    ),
    (
        "dangling-clone",
        ct("101", clone_from_ctid="899"),
        [LXC, "lxc_configs.101.clone_from_ctid: 899 is not defined"],
    ),
    (
        "clone-from-a-vm",
        ct("101", clone_from_ctid="9000"),
        [LXC, "lxc_configs.101.clone_from_ctid: 9000 is a vm"],
    ),
    (
        "self-dependency",
        ct("101", dependencies=["101"]),
        [LXC, "lxc_configs.101.dependencies[0]: a guest cannot depend on itself"],
    ),
    (
        "cycle-two",
        lambda d: (ct("101", dependencies=["102"])(d), ct("102", dependencies=["101"])(d)),
        ["dependency cycle: 101 -> 102 -> 101"],
    ),
    (
        "cycle-across-kinds",
        ct("103", dependencies=["1001"]),
        ["dependency cycle:", "102 -> 103 -> 1001 -> 102"],
    ),
    (
        "id-in-both-files",
        vm(2, vmid=103),
        [
            VM,
            "vms[2]: id 103 is already defined as lxc in phoenix_lxc_configs.json: lxc_configs.103",
        ],
    ),
    ("duplicate-vmid", vm(2, vmid=1001), [VM, "vms[2]: id 1001 is already defined as vm"]),
    (
        "vmid-missing",
        edit(VM, lambda d: d["vms"][1].pop("vmid")),
        [VM, "vms[1].vmid: required key is missing"],
    ),
    ("vmid-bool", vm(1, vmid=True), [VM, "vms[1].vmid: expected a guest id"]),
    (
        "vms-not-list",
        edit(VM, lambda d: d.update(vms={"9000": {}})),
        [VM, "vms: expected a list, got"],
    ),
    (
        "vm-root-typo",
        edit(VM, lambda d: d.update(vm_default=d.pop("vm_defaults"))),
        [VM, 'vm_default: unknown key (did you mean "vm_defaults"?)'],
    ),
    (
        "duplicate-ip",
        ct(
            "102",
            network_config={
                "name": "eth0",
                "bridge": "vmbr0",
                "ip": "10.0.0.153/24",
                "gw": "10.0.0.1",
            },
        ),
        [LXC, "network_config.ip: IP 10.0.0.153 is also used by lxc 101"],
    ),
    (
        "duplicate-ip-lxc-vm",
        vm(1, network_config={"ip": "10.0.0.10/24"}),
        [VM, "vms[1].network_config.ip: IP 10.0.0.10 is also used by lxc 103"],
    ),
    (
        "duplicate-mac-case",
        ct("102", mac_address="52:54:00:aa:bb:cc"),
        [LXC, "mac_address: MAC 52:54:00:aa:bb:cc is also used by lxc 900"],
    ),
    (
        "gpu-without-nvidia",
        ct("103", gpu_assignment="0"),
        [LXC, 'lxc_configs.103.gpu_assignment: GPU "0" is assigned but neither'],
    ),
    (
        "hypervisor-typo",
        edit(HV, lambda d: d.update(timezon=d.pop("timezone"))),
        [HV, 'timezon: unknown key (did you mean "timezone"?)'],
    ),
    (
        "core-paths-typo",
        edit(HV, lambda d: d["core_paths"].update(lxc_config_fle="x")),
        [HV, 'core_paths.lxc_config_fle: unknown key (did you mean "lxc_config_file"?)'],
    ),
    (
        "core-paths-wrong-type",
        edit(HV, lambda d: d.update(core_paths=["a"])),
        [HV, 'core_paths: expected an object, got ["a"]'],
    ),
    (
        "nodes-not-object",
        edit(HV, lambda d: d.update(nodes=[])),
        [HV, "nodes: expected an object, got []"],
    ),
    (
        "core-path-missing-everywhere",
        edit(HV, lambda d: d["core_paths"].update(vm_config_file="/nowhere/vms.json")),
        [HV, "core_paths.vm_config_file: /nowhere/vms.json does not exist"],
    ),
    (
        "nodes-port-string",
        edit(HV, lambda d: d.update(nodes={"pve1": {"address": "10.0.0.13", "port": "22"}})),
        [HV, 'nodes.pve1.port: expected an integer, got "22"'],
    ),
    (
        "nodes-address-missing",
        edit(HV, lambda d: d.update(nodes={"pve1": {"user": "root"}})),
        [HV, "nodes.pve1.address: required key is missing"],
    ),
    (
        "users-sudo-string",
        edit(HV, lambda d: d["users"].update(sudo_access="true")),
        [HV, 'users.sudo_access: expected a boolean (true or false), got "true"'],
    ),
    ("hypervisor-file-missing", lambda d: (d / HV).unlink(), ["no phoenix_hypervisor_config.json"]),
    # Values the core itself reads (the guest keys every kind shares, the hypervisor file).
    (
        "pve-etc-relative",
        edit(HV, lambda d: d.update(pve_etc="etc/pve")),
        [HV, "pve_etc: must be an absolute path"],
    ),
    (
        "pve-etc-dotdot",
        edit(HV, lambda d: d.update(pve_etc="/etc/pve/../..")),
        [HV, "pve_etc: must not contain '.' or '..'"],
    ),
    (
        "mount-point-base-relative",
        edit(HV, lambda d: d.update(mount_point_base="mnt")),
        [HV, "mount_point_base: must be an absolute path"],
    ),
    (
        "node-address-option",
        edit(HV, lambda d: d.update(nodes={"pve1": {"address": "-oProxyCommand=x"}})),
        [HV, "nodes.pve1.address: must not start with '-'"],
    ),
    (
        "node-port-zero",
        edit(HV, lambda d: d.update(nodes={"pve1": {"address": "10.0.0.13", "port": 0}})),
        [HV, "nodes.pve1.port: must be between 1 and 65535"],
    ),
    ("vm-name-space", vm(1, name="my vm"), [VM, "vms[1].name: not a valid host name"]),
    ("vm-boot-order-negative", vm(1, boot_order=-4), [VM, "vms[1].boot_order: must be at least 0"]),
    (
        "guest-node-dotted",
        ct("101", node="pve1.lan"),
        [LXC, "lxc_configs.101.node: not a valid host name label"],
    ),
    # Encodings: what Python's json reads but no configuration may hold.
    (
        "hv-huge-integer",
        text(HV, lambda t: t.replace("{", '{"huge": ' + "1" * 5000 + ",", 1)),
        [HV, "huge: an integer of 5000 digits is out of range"],
    ),
    (
        "hv-deep-nesting",
        text(HV, lambda t: t.replace("{", '{"tests": ' + "[" * 50_000 + "]" * 50_000 + ",", 1)),
        [HV, "nested too deeply"],
    ),
    (
        "vm-nul",
        text(VM, lambda t: t.replace('"Portainer"', '"Port\\u0000ainer"', 1)),
        [VM, "vms[1].name: contains NUL (U+0000)"],
    ),
    (
        "vm-lone-surrogate",
        text(VM, lambda t: t.replace('"Portainer"', '"Port\\ud800"', 1)),
        [VM, "vms[1].name: contains an unpaired surrogate U+D800"],
    ),
    (
        "vm-infinity",
        text(VM, lambda t: t.replace('"Portainer"', "Infinity", 1)),
        [VM, "vms[1].name: Infinity is not a JSON number"],
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_configuration_exits_2_naming_file_and_path(
    etc: Path,
    cli: Callable[..., Any],
    node: Any,
    monkeypatch: pytest.MonkeyPatch,
    mutate: Callable[[Path], None],
    expected: list[str],
) -> None:
    """``config validate`` names the problem; ``converge`` on a node runs not one command.

    With the installed managers: what each owns (an address two guests claim, a GPU without
    its driver, the hypervisor file's sections) only its manager checks."""
    from phoenix_core.hosts.pool import HostPool
    from phoenix_core.plugins import Plugins

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)
    mutate(etc)
    plugins = Plugins().discover()
    for verb in ("config validate", "converge"):
        result = cli("--config-dir", str(etc), *verb.split(), plugins=plugins)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and "internal error" not in result.output
        for fragment in expected:
            assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert node.journal == []


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_every_error_is_reported_in_one_run(etc: Path, cli: Callable[..., Any]) -> None:
    ct("103", memory_mb="2G", cores="two")(etc)
    ct("101", dependencies=["104"])(etc)
    result = cli("--config-dir", str(etc), "config", "validate")
    assert result.exit_code == 2
    for fragment in (
        "lxc_configs.103.memory_mb",
        "lxc_configs.103.cores",
        "lxc_configs.101.dependencies[0]",
    ):
        assert fragment in result.stderr


def test_a_broken_config_runs_nothing(
    etc: Path, cli: Callable[..., Any], node: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phoenix_core.hosts.pool import HostPool

    monkeypatch.setattr(HostPool, "_connect", lambda self, address: node)
    ct("101", dependencies=["102"])(etc)
    ct("102", dependencies=["101"])(etc)
    result = cli("--config-dir", str(etc), "converge", "900")
    assert result.exit_code == 2
    assert node.journal == []
