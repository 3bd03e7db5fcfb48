"""Targets beyond the two old guest files: host targets, and kinds that plugins register.

A host manager (``HostTargets``) owns a host target per node and one per part of it; a guest
requires the parts its manager's ``host_needs`` ask for (as the host manager's ``provides``
maps them), and only checks them unless the run applies them. A third party's kind lives in
its own file or in a section of the hypervisor file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from phoenix_core.config import load_config
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.engine import Engine
from phoenix_core.errors import ConfigError, UsageError
from phoenix_core.hookspecs import hookimpl
from phoenix_core.hosts.pool import HostPool
from phoenix_core.layout import NAME_PATTERN, GuestFile, HostTargets
from phoenix_core.manager import (
    API_VERSION,
    MISSING,
    GuestState,
    HostNeed,
    ManagerSpec,
    Resource,
    RunContext,
    VerbOptions,
)
from phoenix_core.plugins import Plugins
from phoenix_core.steps import Change, Step
from tests.conftest import write_guests
from tests.support.fakenode import FakeNode, FakePlugin


@attrs.frozen
class Marker:
    text: str


class MarkerManager:
    """Writes one file per target on its node: ``/markers/<id>`` holding ``text``."""

    def parse(self, target: TargetConfig, diagnostics: Diagnostics) -> Marker | None:
        if target.is_host:
            return Marker(f"node {target.name}")
        skipped = ("name", "dependencies", "id", "share")
        picked = {k: v for k, v in target.raw.items() if k not in skipped}
        return diagnostics.structure(target.file, target.path, picked, Marker)

    def host_needs(self, target: TargetConfig, config: Config) -> list[HostNeed]:
        share = target.raw.get("share")
        return [HostNeed("share", share)] if share else []

    def provides(self, need: HostNeed, host: TargetConfig) -> str | None:
        return "shares" if need.what == "share" else None

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        return GuestState(exists=True) if self._read(target, ctx) is not None else MISSING

    def resources(self, verb: str, target: TargetConfig, config: Config) -> set[Resource]:
        if target.is_host:
            return {Resource.node(target.common.node, shared=False)}
        return {Resource.guest(target.id), Resource.node(target.common.node, shared=True)}

    def _read(self, target: TargetConfig, ctx: RunContext) -> bytes | None:
        try:
            return ctx.host.read_file(f"/markers/{target.id}")
        except FileNotFoundError:
            return None

    def steps(self, verb: str, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        want = target.spec.text.encode()

        def check() -> list[Change]:
            have = self._read(target, ctx)
            return [] if have == want else [Change("marker", have, target.spec.text, data=want)]

        def apply(changes: Sequence[Change]) -> None:
            ctx.host.write_file(f"/markers/{target.id}", changes[0].data)

        return [Step("marker", check, apply)] if verb == "converge" else []


class KindsPlugin:
    """A host manager and two third-party kinds: one with its own file, one in a section."""

    @hookimpl
    def phoenix_register_managers(self, register: Callable[[ManagerSpec], None]) -> None:
        for name, config in (
            ("hypervisor", HostTargets(parts={"disks": (), "shares": ("disks",)})),
            ("dns", GuestFile(file="phoenix_dns_configs.json", key="records", id_key="id")),
            ("motd", GuestFile(key="motd")),
        ):
            register(
                ManagerSpec(
                    name=name,
                    kind=name,
                    factory=MarkerManager,
                    api_version=API_VERSION,
                    config=config,
                )
            )


@pytest.fixture
def plugins() -> Plugins:
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "fake")
    plugins.add(KindsPlugin(), "kinds")
    return plugins


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    directory = write_guests(
        tmp_path / "etc",
        {"900": {"name": "base"}, "901": {"name": "web", "node": "pve2", "dependencies": ["900"]}},
    )
    (directory / "phoenix_vm_configs.json").unlink()
    hypervisor = directory / "phoenix_hypervisor_config.json"
    data = json.loads(hypervisor.read_text())
    del data["core_paths"]["vm_config_file"]
    data["nodes"] = {"pve2": {"address": "10.0.0.2"}}
    data["motd"] = {"500": {"name": "banner", "text": "hello", "dependencies": ["901"]}}
    hypervisor.write_text(json.dumps(data))
    records = {
        "records": [
            {"id": 600, "name": "www", "text": "A 10.0.0.9", "dependencies": [901], "share": "w"}
        ]
    }
    (directory / "phoenix_dns_configs.json").write_text(json.dumps(records))
    return directory


def engine(etc: Path, plugins: Plugins, node: FakeNode) -> Engine:
    pool = HostPool()
    pool._open[pool.default] = node
    pool._open[pool.address_for("pve2")] = node
    return Engine(load_config(etc, plugins), plugins, pool)


def test_hosts_and_their_parts_and_each_guest_requires_only_the_parts_it_needs(
    etc: Path, plugins: Plugins
) -> None:
    config = load_config(etc, plugins)
    assert list(config.hosts) == [
        "host",
        "host:disks",
        "host:shares",
        "host:pve2",
        "host:pve2:disks",
        "host:pve2:shares",
    ]
    assert config.hosts["host"].requires == ["host:disks", "host:shares"]
    assert config.hosts["host:pve2:shares"].requires == ["host:pve2:disks"]
    assert config.guests[900].requires == []
    assert config.guests[901].requires == [900]
    assert config.guests[600].requires == ["host:shares", 901]
    run = Engine(config, plugins, HostPool())
    assert run.order("converge", [600]) == ["host:disks", "host:shares", 900, 901, 600]
    assert run.all_ids()[:2] == ["host", "host:pve2"]


def test_a_part_a_guest_needs_is_checked_and_applied_only_when_asked(
    etc: Path, plugins: Plugins, node: FakeNode
) -> None:
    checking = engine(etc, plugins, node)
    checking.keep_going = True
    checked = checking.run("converge", ["500", "600"])
    assert [(o.id, o.status) for o in checked.outcomes] == [
        (900, "changed"),
        (901, "changed"),
        (500, "changed"),
        ("host:shares", "failed"),
        (600, "skipped"),
    ]
    assert "run phoenix converge host:shares, or pass --with-host" in str(checked.outcomes[3].error)
    assert "/markers/host:shares" not in node.files and "/markers/host:disks" not in node.files
    applying = engine(etc, plugins, node)
    applying.options = VerbOptions(with_host=True)
    run = applying.run("converge", ["600"])
    assert [(o.id, o.status) for o in run.outcomes] == [
        ("host:disks", "changed"),
        ("host:shares", "changed"),
        (900, "ok"),
        (901, "ok"),
        (600, "changed"),
    ]
    assert node.files["/markers/600"] == b"A 10.0.0.9"
    node.journal.clear()
    again = engine(etc, plugins, node).run("converge", ["500", "600"])
    assert ("host:shares", "ok", "checked") in [(o.id, o.status, o.note) for o in again.outcomes]
    assert {o.status for o in again.outcomes} == {"ok"} and node.mutations == []


def test_converge_of_a_host_applies_all_its_parts(
    etc: Path, plugins: Plugins, node: FakeNode
) -> None:
    run = engine(etc, plugins, node).run("converge", ["host"])
    assert [(o.id, o.status) for o in run.outcomes] == [
        ("host:disks", "changed"),
        ("host:shares", "changed"),
        ("host", "changed"),
    ]


def test_host_targets_are_named_on_the_command_line(
    etc: Path, plugins: Plugins, node: FakeNode
) -> None:
    run = engine(etc, plugins, node).run("converge", ["host:pve2"])
    assert [o.id for o in run.outcomes] == ["host:pve2:disks", "host:pve2:shares", "host:pve2"]
    part = engine(etc, plugins, node).run("converge", ["host:pve2:shares"])
    assert [o.id for o in part.outcomes] == ["host:pve2:disks", "host:pve2:shares"]
    with pytest.raises(UsageError, match="host:pve9 is not a node of this configuration"):
        engine(etc, plugins, node).run("converge", ["host:pve9"])
    with pytest.raises(UsageError, match="'host:' is not a target"):
        engine(etc, plugins, node).run("converge", ["host:"])


def test_start_never_pulls_in_a_host_target(etc: Path, plugins: Plugins, node: FakeNode) -> None:
    assert engine(etc, plugins, node).order("start", [901]) == [900, 901]


def test_without_a_host_manager_there_are_no_host_targets(etc: Path, node: FakeNode) -> None:
    hypervisor = etc / "phoenix_hypervisor_config.json"
    data = json.loads(hypervisor.read_text())
    del data["motd"]
    hypervisor.write_text(json.dumps(data))
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "fake")
    config = load_config(etc, plugins)
    assert config.hosts == {} and config.guests[901].requires == [900]
    with pytest.raises(UsageError, match="no installed manager handles host targets"):
        Engine(config, plugins, HostPool()).run("converge", ["host"])


def test_a_section_whose_manager_is_missing_is_a_warning_without_the_files_owner(
    etc: Path,
) -> None:
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "fake")
    config = load_config(etc, plugins)
    assert (
        "phoenix_hypervisor_config.json: no installed manager reads motd "
        "(install phoenix-hypervisor or the manager that does)"
    ) in config.warnings


class HostOnly:
    @hookimpl
    def phoenix_register_managers(self, register: Callable[[ManagerSpec], None]) -> None:
        register(
            ManagerSpec(
                name="hypervisor",
                kind="hypervisor",
                factory=MarkerManager,
                api_version=API_VERSION,
                config=HostTargets(),
                sections={"mood"},
            )
        )


def test_with_the_files_owner_installed_an_unread_section_is_a_typo(etc: Path) -> None:
    """The host manager owns the hypervisor file: a key no installed manager declares is an
    error, with the nearest declared key."""
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "fake")
    plugins.add(HostOnly(), "host")
    with pytest.raises(ConfigError) as error:
        load_config(etc, plugins)
    problems = [str(p) for p in error.value.problems]
    assert problems == ['phoenix_hypervisor_config.json: motd: unknown key (did you mean "mood"?)']


def test_typos_in_a_registered_file_name_file_and_path(etc: Path, plugins: Plugins) -> None:
    records = {"records": [{"id": 600, "name": "www", "txet": "x"}], "record": []}
    (etc / "phoenix_dns_configs.json").write_text(json.dumps(records))
    with pytest.raises(ConfigError) as error:
        load_config(etc, plugins)
    problems = [str(p) for p in error.value.problems]
    assert 'phoenix_dns_configs.json: record: unknown key (did you mean "records"?)' in problems
    assert any(
        p.startswith("phoenix_dns_configs.json: records[0].txet: unknown key") for p in problems
    )


def test_two_plugins_claiming_one_file_are_refused(plugins: Plugins) -> None:
    class Same:
        @hookimpl
        def phoenix_register_managers(self, register: Callable[[ManagerSpec], None]) -> None:
            layout = GuestFile(file="phoenix_dns_configs.json", key="zones")
            register(
                ManagerSpec(
                    name="dns2",
                    kind="dns2",
                    factory=MarkerManager,
                    api_version=API_VERSION,
                    config=layout,
                )
            )

    with pytest.raises(Exception, match=r"file phoenix_dns_configs\.json is registered twice"):
        plugins.add(Same(), "same")


def test_schema_of_a_registered_kind_and_of_a_hypervisor_section(
    cli: Any, plugins: Plugins
) -> None:
    dns = json.loads(cli("config", "schema", "dns", plugins=plugins).stdout)
    assert dns["title"] == "phoenix_dns_configs.json"
    assert dns["properties"]["records"]["type"] == "array"
    hypervisor = json.loads(cli("config", "schema", "hypervisor", plugins=plugins).stdout)
    assert hypervisor["properties"]["motd"]["type"] == "object"
    unknown = cli("config", "schema", "nope", plugins=plugins)
    assert unknown.exit_code == 2 and "expected hypervisor or a kind" in unknown.stderr


class NamedKinds:
    """Two kinds whose targets are named (``id_pattern``), each in its own file."""

    @hookimpl
    def phoenix_register_managers(self, register: Callable[[ManagerSpec], None]) -> None:
        for kind in ("stack", "zone"):
            layout = GuestFile(
                file=f"phoenix_{kind}s_configs.json", key=f"{kind}s", id_pattern=NAME_PATTERN
            )
            register(
                ManagerSpec(
                    name=kind,
                    kind=kind,
                    factory=MarkerManager,
                    api_version=API_VERSION,
                    config=layout,
                )
            )


def named(etc: Path, stacks: dict[str, Any], zones: dict[str, Any] | None = None) -> Plugins:
    (etc / "phoenix_stacks_configs.json").write_text(json.dumps({"stacks": stacks}))
    (etc / "phoenix_zones_configs.json").write_text(json.dumps({"zones": zones or {}}))
    plugins = Plugins(strict=True, disabled=set())
    plugins.add(FakePlugin("lxc"), "fake")
    plugins.add(KindsPlugin(), "kinds")
    plugins.add(NamedKinds(), "named")
    return plugins


def test_a_named_target_is_resolved_ordered_after_a_guest_and_completed(
    etc: Path, node: FakeNode
) -> None:
    from phoenix_core.completion import ids

    plugins = named(etc, {"db": {"text": "d"}, "app": {"text": "a", "dependencies": [901, "db"]}})
    run = engine(etc, plugins, node)
    order = run.order("converge", run.resolve(["app"]))
    assert order.index(901) < order.index("app") and order.index("db") < order.index("app")
    assert not run.config.target("app").is_host and run.config.target("host").is_host
    assert ("app", "stack app") in ids(run.config)
    with pytest.raises(UsageError, match="ap is not defined"):
        run.resolve(["ap"])


def test_one_name_in_two_kinds_is_an_error_naming_both_places(etc: Path) -> None:
    plugins = named(etc, {"web": {"text": "w"}}, {"web": {"text": "z"}})
    with pytest.raises(ConfigError) as error:
        load_config(etc, plugins)
    assert [str(p) for p in error.value.problems] == [
        "phoenix_zones_configs.json: zones.web: id web is already defined as stack in "
        "phoenix_stacks_configs.json: stacks.web"
    ]
