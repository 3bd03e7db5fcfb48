"""The entry point: registers the ``stack`` kind. Imports only phoenix_core at import time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phoenix_core.hookspecs import hookimpl
from phoenix_core.layout import NAME_PATTERN, GuestFile
from phoenix_core.manager import ManagerSpec

if TYPE_CHECKING:
    from phoenix_core.manager import Manager

#: ``{"stacks": {"web": {...}}}``: keyed by name, never by a number.
LAYOUT = GuestFile(file="phoenix_stacks_configs.json", key="stacks", id_pattern=NAME_PATTERN)
#: The hypervisor-file section this manager owns (where the node keeps the stacks).
SECTION = "docker_stacks"


def _factory() -> Manager:
    from phoenix_stacks.manager import StacksManager

    return StacksManager()


@hookimpl
def phoenix_register_managers(register: Any) -> None:
    register(
        ManagerSpec(
            name="stacks",
            kind="stack",
            factory=_factory,
            api_version=2,
            config=LAYOUT,
            description="Docker Compose stacks on the node",
            sections={SECTION},
        )
    )
