"""The hello manager: each target is a file on the node that holds a greeting.

Imported only when a verb needs it (see ``plugin._factory``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import attrs

from phoenix_core.checks import Attempt, Check
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.models import TargetConfig
from phoenix_core.manager import MISSING, BaseManager, GuestState, RunContext, StepVerb
from phoenix_core.steps import Change, Step


@attrs.frozen
class HelloSpec:
    """A greeting's own keys. Unknown keys are errors, with the nearest known key suggested."""

    path: str
    message: str


@attrs.frozen
class Write:
    """What the ``message`` step's apply writes: the typed ``Change.data`` it hands over."""

    path: str
    content: bytes


@attrs.frozen
class HelloSection:
    """``hello`` of the hypervisor file: what every greeting shares."""

    signature: str | None = None


@attrs.frozen
class HelloSettings:
    """The hypervisor-file sections the spec declares, one field each."""

    hello: HelloSection = attrs.Factory(HelloSection)


class HelloManager(BaseManager):
    """Keeps each greeting's file on the node holding its message.

    :class:`~phoenix_core.manager.BaseManager` gives the rest: ``resources`` (the target and
    its node, shared) and no ``verify`` steps.
    """

    #: The base manager structures a target's own keys (those every guest has excepted) with
    #: it; ``phoenix config schema hello`` describes it.
    config_model = HelloSpec
    #: The base manager structures the declared sections of the hypervisor file with it, once
    #: per load; the result is ``config.settings["hello"]``.
    settings_model = HelloSettings

    def parse(self, target: TargetConfig, diagnostics: Diagnostics) -> HelloSpec | None:
        spec = super().parse(target, diagnostics)
        # Absolute and without "..": the path is passed to `test`, which has no "--".
        if spec is not None and (not spec.path.startswith("/") or ".." in spec.path.split("/")):
            diagnostics.error(
                target.file, f"{target.path}.path", f"expected an absolute path, got {spec.path!r}"
            )
        return spec

    def observe(self, target: TargetConfig, ctx: RunContext) -> GuestState:
        spec: HelloSpec = target.spec
        try:
            ctx.host.read_file(spec.path)
        except FileNotFoundError:
            return MISSING
        return GuestState(exists=True, name=target.name)

    def steps(self, verb: StepVerb, target: TargetConfig, ctx: RunContext) -> Sequence[Step]:
        spec: HelloSpec = target.spec
        host = ctx.host
        directory = os.path.dirname(spec.path)

        def missing_directory() -> list[Change]:
            if host.query(["test", "-d", directory]).ok:
                return []
            return [Change("directory", None, directory, data=directory)]

        def make_directory(changes: Sequence[Change]) -> None:
            host.change(["mkdir", "-p", "--", changes[0].data]).check()

        settings: HelloSettings = ctx.config.settings.get(target.kind) or HelloSettings()
        signature = settings.hello.signature

        def message() -> list[Change]:
            text = spec.message if signature is None else f"{spec.message}\n{signature}"
            wanted = (text + "\n").encode()
            try:
                current: bytes | None = host.read_file(spec.path)
            except FileNotFoundError:
                current = None
            if current == wanted:
                return []
            before = None if current is None else current.decode(errors="replace").rstrip("\n")
            return [Change("message", before, text, data=Write(spec.path, wanted))]

        def write(changes: Sequence[Change]) -> None:
            for change in changes:
                data: Write = change.data
                host.write_file(data.path, data.content)

        def present() -> list[Change]:
            return [Change("file", spec.path, None)] if self.observe(target, ctx).exists else []

        def remove(_: Sequence[Change]) -> None:
            host.change(["rm", "-f", "--", spec.path]).check()

        if verb == "converge":
            return [
                Step("directory", missing_directory, make_directory),
                Step("message", message, write),
            ]
        if verb == "delete":
            return [Step("removed", present, remove)]
        return []  # a greeting has no power state: start, stop and restart have nothing to do

    def checks(self, target: TargetConfig, ctx: RunContext) -> Sequence[Check]:
        """What ``phoenix health-check`` runs (optional): the file greets as configured."""
        spec: HelloSpec = target.spec
        host = ctx.host

        def greets() -> Attempt:
            try:
                text = host.read_file(spec.path).decode(errors="replace").rstrip("\n")
            except FileNotFoundError:
                return Attempt(False, reason=f"{spec.path} is missing")
            return Attempt(text == spec.message, text, f"{spec.path} says {text!r}")

        return [Check(name="greets", attempt=greets, where=f"host {host.name}")]
