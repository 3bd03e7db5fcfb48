"""Each stack is a compose file on the node, ``<root>/<name>/compose.yaml``; its published
ports are claimed, so two stacks (or any targets) publishing one port are a config error."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Annotated

import attrs

from phoenix_core.config.models import Config, TargetConfig
from phoenix_core.config.validate import MULTILINE, absolute_path, in_range
from phoenix_core.hosts.base import node_path
from phoenix_core.manager import MISSING, BaseManager, Claim, GuestState, RunContext, StepVerb
from phoenix_core.steps import Change, Step


@attrs.frozen
class StackSpec:
    #: The compose file's text: lines are its nature (other control characters are refused).
    compose: Annotated[str, MULTILINE]
    ports: list[Annotated[int, in_range(1, 65535)]] = attrs.Factory(list)


@attrs.frozen
class StacksSection:
    """``docker_stacks`` of the hypervisor file."""

    root: Annotated[str, absolute_path()] = "/srv/stacks"


@attrs.frozen
class Settings:
    """The sections the spec declares, by their keys."""

    docker_stacks: StacksSection = attrs.Factory(StacksSection)


class StacksManager(BaseManager):
    config_model = StackSpec
    settings_model = Settings

    def claims(self, target: TargetConfig) -> Sequence[Claim]:
        spec: StackSpec | None = target.spec
        ports = spec.ports if spec is not None else []
        return [Claim("port", str(p), f"{target.path}.ports[{i}]") for i, p in enumerate(ports)]

    def _file(self, target: TargetConfig, config: Config) -> str:
        settings: Settings = config.settings.get(target.kind) or Settings()
        return f"{settings.docker_stacks.root}/{target.id}/compose.yaml"

    def _read(self, target: TargetConfig, ctx: RunContext) -> bytes | None:
        try:
            return ctx.host.read_file(self._file(target, ctx.config))
        except FileNotFoundError:
            return None

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        found = self._read(target, ctx) is not None
        return GuestState(exists=True, name=target.name) if found else MISSING

    def steps(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        if verb != "converge":
            return []
        spec: StackSpec = target.spec
        path = self._file(target, ctx.config)
        directory = posixpath.dirname(path)
        wanted = spec.compose.encode()

        def missing_directory() -> list[Change]:
            there = ctx.host.query(["test", "-d", node_path(ctx.host, directory)]).ok
            return [] if there else [Change("directory", None, directory)]

        def make_directory(_: Sequence[Change]) -> None:
            ctx.host.change(["mkdir", "-p", "--", node_path(ctx.host, directory)]).check()

        def compose() -> list[Change]:
            have = self._read(target, ctx)
            return (
                [] if have == wanted else [Change("compose", have and have.decode(), spec.compose)]
            )

        def write(_: Sequence[Change]) -> None:
            ctx.host.write_file(path, wanted)

        return [
            Step("directory", missing_directory, make_directory),
            Step("compose", compose, write),
        ]
