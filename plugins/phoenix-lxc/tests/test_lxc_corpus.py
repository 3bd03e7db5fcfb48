"""A corpus of containers with values Proxmox would refuse or that escape where they point.

Every case copies the old tool's real configuration, breaks one value the way a user (or an
attacker editing the file) would, and runs the real ``phoenix converge`` against a simulated
node: exit 2, the file and JSON path in the message, no traceback, and not one command in the
node's journal. The values are those of issue 9; each check's Proxmox source is cited in
phoenix_pve.formats, phoenix_lxc.model and phoenix_lxc.rawkeys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxc_support import Cli, copy_original

LXC = "phoenix_lxc_configs.json"
Mutate = Callable[[Path], None]


def ct(ident: str, **values: Any) -> Mutate:
    """Set keys of container ``ident``."""
    return edit(lambda d: d["lxc_configs"][ident].update(values))


def net(ident: str, **values: Any) -> Mutate:
    return edit(lambda d: d["lxc_configs"][ident]["network_config"].update(values))


def rule(ident: str, index: int, **values: Any) -> Mutate:
    return edit(lambda d: d["lxc_configs"][ident]["firewall"]["rules"][index].update(values))


def mount(ident: str, index: int, **values: Any) -> Mutate:
    return edit(lambda d: d["lxc_configs"][ident]["mount_points"][index].update(values))


def edit(change: Callable[[Any], None]) -> Mutate:
    def apply(directory: Path) -> None:
        path = directory / LXC
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data, indent=2))

    return apply


def raw(replace: str, by: str) -> Mutate:
    """Edit the file's text: for what json.dumps cannot write (escapes, huge numbers)."""

    def apply(directory: Path) -> None:
        path = directory / LXC
        text = path.read_text()
        assert replace in text
        path.write_text(text.replace(replace, by, 1))

    return apply


P = "lxc_configs"
CASES: list[tuple[str, Mutate, list[str]]] = [
    # ranges (pve-container Config.pm)
    ("cores-negative", ct("103", cores=-1), [f"{P}.103.cores: must be between 1 and 8192, got -1"]),
    ("cores-zero", ct("103", cores=0), [f"{P}.103.cores: must be between 1 and 8192"]),
    ("cores-too-many", ct("103", cores=8193), [f"{P}.103.cores: must be between 1 and 8192"]),
    ("memory-below-16", ct("103", memory_mb=8), [f"{P}.103.memory_mb: must be at least 16"]),
    (
        "memory-10e30",
        ct("103", memory_mb=10**30),
        [f"{P}.103.memory_mb: must be at most 9007199254740991"],
    ),
    ("swap-negative", ct("103", swap_mb=-512), [f"{P}.103.swap_mb: must be at least 0"]),
    (
        "rootfs-zero",
        ct("103", storage_size_gb=0),
        [f"{P}.103.storage_size_gb: must be at least 1, got 0"],
    ),
    (
        "volume-size-zero",
        edit(lambda d: d[P]["801"]["zfs_volumes"][0].update(size_gb=0)),
        [f"{P}.801.zfs_volumes[0].size_gb: must be at least 1"],
    ),
    ("boot-order-negative", ct("101", boot_order=-1), [f"{P}.101.boot_order: must be at least 0"]),
    ("boot-delay-negative", ct("101", boot_delay=-5), [f"{P}.101.boot_delay: must be at least 0"]),
    (
        "ready-timeout-zero",
        ct("101", ready_timeout=0),
        [f"{P}.101.ready_timeout: must be at least 1"],
    ),
    # network (pve-common JSONSchema.pm formats, pve-container $netconf_desc)
    (
        "ip-octet-300",
        net("103", ip="10.0.0.300/24"),
        [f"{P}.103.network_config.ip: not an IPv4 address with a prefix length"],
    ),
    (
        "ip-prefix-7",
        net("103", ip="10.0.0.10/7"),
        [f"{P}.103.network_config.ip: prefix length must be between 8 and 32"],
    ),
    ("ip-auto", net("103", ip="auto"), [f"{P}.103.network_config.ip: not an IPv4 address"]),
    (
        "gw-outside-subnet",
        net("103", gw="10.0.1.1"),
        [f"{P}.103.network_config.gw: gateway 10.0.1.1 is outside the subnet 10.0.0.0/24"],
    ),
    (
        "gw-not-an-address",
        net("103", gw="router"),
        [f"{P}.103.network_config.gw: not an IPv4 address"],
    ),
    (
        "tag-zero",
        net("103", tag=0),
        [f"{P}.103.network_config.tag: must be between 1 and 4094, got 0"],
    ),
    ("tag-4095", net("103", tag=4095), [f"{P}.103.network_config.tag: must be between 1 and 4094"]),
    (
        "mtu-10e30",
        net("103", mtu=10**30),
        [f"{P}.103.network_config.mtu: must be between 64 and 65535"],
    ),
    (
        "bridge-with-space",
        net("103", bridge="vmbr 0"),
        [f"{P}.103.network_config.bridge: not a Proxmox interface or bridge name"],
    ),
    (
        "nameserver-a-name",
        net("103", nameservers="dns.lan"),
        [f"{P}.103.network_config.nameservers: not an IP address"],
    ),
    (
        "mac-multicast",
        ct("103", mac_address="01:00:5e:00:00:01"),
        [f"{P}.103.mac_address: not a unicast MAC address"],
    ),
    (
        "mac-dashes",
        ct("103", mac_address="52-54-00-aa-bb-ca"),
        [f"{P}.103.mac_address: not a unicast MAC address"],
    ),
    ("name-with-space", ct("103", name="step ca"), [f"{P}.103.name: not a valid host name"]),
    ("name-underscore", ct("103", name="step_ca"), [f"{P}.103.name: not a valid host name"]),
    # firewall (pve-firewall Firewall.pm verify_rule)
    (
        "fw-port-70000",
        rule("103", 0, port="70000"),
        [f"{P}.103.firewall.rules[0].port: invalid port '70000'"],
    ),
    (
        "fw-port-backwards",
        rule("103", 0, port="443:80"),
        [f"{P}.103.firewall.rules[0].port: backwards range"],
    ),
    (
        "fw-action-permit",
        rule("103", 0, action="PERMIT"),
        [f"{P}.103.firewall.rules[0].action: unknown action 'PERMIT'"],
    ),
    (
        "fw-macro-unknown",
        rule("103", 0, macro="Telnetz"),
        [f"{P}.103.firewall.rules[0].macro: unknown firewall macro"],
    ),
    (
        "fw-source-bad",
        rule("103", 4, source="10.0.0.300"),
        [f"{P}.103.firewall.rules[4].source: not an address"],
    ),
    (
        "fw-policy",
        edit(lambda d: d[P]["103"]["firewall"].update(policy_in="ALLOW")),
        [f"{P}.103.firewall.policy_in: expected one of ACCEPT, REJECT, DROP"],
    ),
    # storage and ids (pve-common parse_id, pve-storage vztmpl names)
    (
        "storage-pool-option",
        ct("103", storage_pool="-x"),
        [f"{P}.103.storage_pool: not a Proxmox storage id"],
    ),
    (
        "template-option",
        ct("900", template="--force.tar.zst"),
        [f"{P}.900.template: must not start with '-'"],
    ),
    (
        "template-not-vztmpl",
        ct("900", template="local:iso/ubuntu.iso"),
        [f"{P}.900.template: not a template volume"],
    ),
    (
        "template-storage-bad",
        ct("900", template_storage="a"),
        [f"{P}.900.template_storage: not a Proxmox storage id"],
    ),
    ("gpu-all", ct("901", gpu_assignment="all"), [f"{P}.901.gpu_assignment"]),
    (
        "id-map-container-id",
        edit(lambda d: d[P]["101"]["id_maps"][0].update(container_id=70000)),
        [f"{P}.101.id_maps[0].container_id: must be between 0 and 65535"],
    ),
    (
        "id-map-size-overflow",
        edit(lambda d: d[P]["101"]["id_maps"][0].update(container_id=65535, size=2)),
        [f"{P}.101.id_maps[0].size: container ids 65535+2 pass 65535"],
    ),
    (
        "owner-uid-negative",
        mount("101", 0, owner_uid=-1),
        [f"{P}.101.mount_points[0].owner_uid: must be between 0 and 65535"],
    ),
    (
        "pct-options-bad",
        ct("101", pct_options=["nesting=2"]),
        [f"{P}.101.pct_options[0]: not a container feature"],
    ),
    # snapshot names (pve-configid, 'current' reserved)
    (
        "snapshot-current",
        ct("900", template_snapshot_name="current"),
        [f"{P}.900.template_snapshot_name: 'current' is reserved"],
    ),
    (
        "snapshot-option",
        ct("900", template_snapshot_name="-x"),
        [f"{P}.900.template_snapshot_name: not a Proxmox snapshot name"],
    ),
    (
        "snapshot-too-long",
        ct("900", template_snapshot_name="s" * 41),
        [f"{P}.900.template_snapshot_name: not a Proxmox snapshot name"],
    ),
    # paths and names that escape
    (
        "app-script-absolute",
        ct("101", application_script="/etc/passwd"),
        [f"{P}.101.application_script: must be a name on the search path, not an absolute path"],
    ),
    (
        "app-script-dotdot",
        ct("101", application_script="../../x"),
        [f"{P}.101.application_script: must not contain empty, '.' or '..' components"],
    ),
    (
        "app-script-empty",
        ct("101", application_script=""),
        [f"{P}.101.application_script: must not be empty"],
    ),
    ("feature-dotdot", ct("101", features=["base_setup", "../evil"]), [f"{P}.101.features[1]"]),
    (
        "health-script-absolute",
        ct("101", health_checks=[{"script": "/etc/shadow"}]),
        [f"{P}.101.health_checks[0].script: must be a name on the search path"],
    ),
    (
        "mount-empty",
        mount("101", 0, container_path=""),
        [f"{P}.101.mount_points[0].container_path: must be an absolute path"],
    ),
    (
        "mount-relative",
        mount("101", 0, container_path="var/log"),
        [f"{P}.101.mount_points[0].container_path: must be an absolute path"],
    ),
    (
        "mount-dotdot",
        mount("101", 0, container_path="/var/../etc"),
        [f"{P}.101.mount_points[0].container_path: must not contain '.' or '..'"],
    ),
    (
        "mount-root",
        mount("101", 0, container_path="/"),
        [f"{P}.101.mount_points[0].container_path: cannot mount over the container's root"],
    ),
    (
        "mount-host-relative",
        mount("101", 0, host_path="persist/101"),
        [f"{P}.101.mount_points[0].host_path: must be an absolute path"],
    ),
    (
        "volume-mount-empty",
        edit(lambda d: d[P]["801"]["zfs_volumes"][0].update(mount_point="")),
        [f"{P}.801.zfs_volumes[0].mount_point: must be an absolute path"],
    ),
    # raw lxc.* keys (pve-container parse_pct_config / is_valid_lxc_conf_key)
    (
        "lxc-key-not-lxc",
        ct("101", lxc_options=["foo.bar=1"]),
        [f"{P}.101.lxc_options[0]: 'foo.bar' is not a raw LXC key"],
    ),
    (
        "lxc-key-unknown",
        ct("101", lxc_options=["lxc.bogus=1"]),
        [f"{P}.101.lxc_options[0]: pct drops 'lxc.bogus'"],
    ),
    (
        "lxc-key-rootfs",
        ct("101", lxc_options=["lxc.rootfs.path=/x"]),
        [f"{P}.101.lxc_options[0]: lxc.rootfs.path is auto generated"],
    ),
    (
        "lxc-option-newline",
        ct("101", lxc_options=["lxc.mount.auto=sys:rw\nlxc.cap.drop="]),
        [f"{P}.101.lxc_options[0]: contains the control character U+000A"],
    ),
    # encodings (the JSON reader)
    (
        "nul-in-name",
        raw('"name": "Nginx-Phoenix"', '"name": "Nginx\\u0000Phoenix"'),
        [f"{P}.101.name: contains NUL (U+0000)"],
    ),
    (
        "lone-surrogate",
        raw('"name": "Nginx-Phoenix"', '"name": "Nginx\\udc80"'),
        [f"{P}.101.name: contains an unpaired surrogate U+DC80"],
    ),
    (
        "huge-integer",
        raw('"memory_mb": 4096', '"memory_mb": ' + "9" * 5000),
        [f"{P}.101.memory_mb: an integer of 5000 digits is out of range"],
    ),
    (
        "deep-nesting",
        raw('"memory_mb": 4096', '"memory_mb": ' + "[" * 50_000 + "]" * 50_000),
        [LXC, "nested too deeply"],
    ),
    (
        "nan",
        raw('"memory_mb": 4096', '"memory_mb": NaN'),
        [f"{P}.101.memory_mb: NaN is not a JSON number"],
    ),
]


@pytest.fixture
def original_on_session_node(tmp_path: Path, pve_node_session: Any) -> Path:
    return copy_original(tmp_path)


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_value_exits_2_naming_file_and_path_and_runs_nothing(
    pve_node_session: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    original_on_session_node: Path,
    mutate: Mutate,
    expected: list[str],
) -> None:
    cli = Cli(pve_node_session, monkeypatch, tmp_path)
    mutate(original_on_session_node)
    mark = pve_node_session.mark()
    result = cli("--config-dir", str(original_on_session_node), "converge")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for fragment in [LXC, *expected]:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    assert pve_node_session.since(mark) == [], "a command ran on the node"


def test_the_corpus_covers_at_least_30_value_path_and_encoding_cases() -> None:
    assert len(CASES) >= 30


def test_the_original_configuration_converges_its_plan_without_a_config_error(
    pve_node_session: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    original_on_session_node: Path,
) -> None:
    """The control: the unbroken copy passes every check (it plans; nothing is refused)."""
    cli = Cli(pve_node_session, monkeypatch, tmp_path)
    result = cli("--config-dir", str(original_on_session_node), "config", "validate")
    assert result.exit_code == 0, result.output
