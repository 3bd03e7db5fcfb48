"""Observers are called through pluggy: ordering, wrappers, isolation, misspelt hooks."""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from phoenix_core.engine import Engine
from phoenix_core.errors import PluginError
from phoenix_core.hookspecs import hookimpl
from phoenix_core.logs import logger
from phoenix_core.plugins import Plugins
from tests.conftest import write_guests


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    return write_guests(tmp_path / "etc", {"900": {"name": "base"}})


def test_tryfirst_runs_before_plain_and_trylast_after(
    make_engine: Callable[..., Engine], fake_plugins: Plugins, chain: Path
) -> None:
    calls: list[str] = []

    class Plain:
        @hookimpl
        def phoenix_action_started(self, verb: str, target: Any, dry_run: bool) -> None:
            calls.append("plain")

    class Last:
        @hookimpl(trylast=True)
        def phoenix_action_started(self, verb: str, target: Any, dry_run: bool) -> None:
            calls.append("last")

    class First:
        @hookimpl(tryfirst=True)
        def phoenix_action_started(self, verb: str, target: Any, dry_run: bool) -> None:
            calls.append("first")

    # Registered in the worst order: the markers, not registration order, decide.
    for name, plugin in (("last", Last()), ("plain", Plain()), ("first", First())):
        fake_plugins.add(plugin, name)
    make_engine(chain).run("converge", ["900"])
    assert calls == ["first", "plain", "last"]


def test_a_wrapper_sees_the_call_and_the_others_inside_it(
    make_engine: Callable[..., Engine], fake_plugins: Plugins, chain: Path
) -> None:
    calls: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def phoenix_action_finished(
            self, verb: str, target: Any, outcome: Any
        ) -> Generator[None, Any, Any]:
            calls.append(f"before {target.id} {outcome.status}")
            result = yield
            calls.append("after")
            return result

    class Plain:
        @hookimpl
        def phoenix_action_finished(self, verb: str, target: Any, outcome: Any) -> None:
            calls.append("plain")

    fake_plugins.add(Wrapper(), "wrapper")
    fake_plugins.add(Plain(), "plain")
    make_engine(chain).run("converge", ["900"])
    assert calls == ["before 900 changed", "plain", "after"]


def test_an_observer_that_raises_is_logged_with_its_plugin_and_the_others_run(
    make_engine: Callable[..., Engine], fake_plugins: Plugins, chain: Path
) -> None:
    seen: list[int] = []
    messages: list[str] = []

    class Broken:
        @hookimpl(tryfirst=True)
        def phoenix_action_finished(self, verb: str, target: Any, outcome: Any) -> None:
            raise RuntimeError("observer bug")

    class After:
        @hookimpl
        def phoenix_action_finished(self, verb: str, target: Any, outcome: Any) -> None:
            seen.append(target.id)

    fake_plugins.add(Broken(), "broken-observer")
    fake_plugins.add(After(), "after")
    sink = logger.add(messages.append, format="{message}", level="WARNING")
    try:
        result = make_engine(chain).run("converge", ["900"])
    finally:
        logger.remove(sink)
    assert result.exit_code == 0 and seen == [900]
    assert any(
        "observer broken-observer of phoenix_action_finished raised RuntimeError: observer bug" in m
        for m in messages
    )


def test_a_misspelt_hook_marked_or_not_is_reported() -> None:
    class Typos:
        @hookimpl
        def phoenix_action_finshed(self, verb: str, target: Any, outcome: Any) -> None:
            pass

        def phoenix_register_manager(self, register: Any) -> None:
            pass

    plugins = Plugins(strict=False, disabled=set())
    plugins.add(Typos(), "typos")
    assert plugins.plugins[0].warnings == [
        "implements phoenix_action_finshed, which is not a phoenix hook "
        "(did you mean phoenix_action_finished?)",
        "implements phoenix_register_manager, which is not a phoenix hook "
        "(did you mean phoenix_register_managers?)",
    ]
    with pytest.raises(PluginError, match=r"typos .*implements phoenix_action_finshed"):
        Plugins(strict=True, disabled=set()).add(Typos(), "typos")
