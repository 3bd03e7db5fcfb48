"""Which targets a verb takes: its ids narrowed by the selectors ``--tag``, ``--kind`` and
``--exclude`` (DESIGN §6). ``--only`` is carried here and honoured by the engine's order.

Tags are read from the guests' ``tags`` key through :func:`tags_of`, whatever model a
manager parses it into (a list, or Proxmox's own ``a;b`` string in an untyped entry).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs

from phoenix_core.config.types import TargetId, parse_target
from phoenix_core.errors import UsageError

if TYPE_CHECKING:
    from phoenix_core.config.models import Config, TargetConfig
    from phoenix_core.engine import Engine

#: How Proxmox separates tags in a guest's ``tags`` option (``pve-common``'s tag list).
_TAG_SEPARATORS = re.compile(r"[;,\s]+")


@attrs.frozen
class Selector:
    """``--tag`` (any of them), ``--kind`` (any of them), ``--exclude`` and ``--only``."""

    tags: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    exclude: frozenset[TargetId] = frozenset()
    only: bool = False

    @classmethod
    def parse(
        cls,
        tags: Iterable[str] = (),
        kinds: Iterable[str] = (),
        exclude: Iterable[str] = (),
        only: bool = False,
    ) -> Selector:
        """From the command line: ``--exclude`` values are target ids (UsageError if not)."""
        excluded = set()
        for text in exclude:
            try:
                excluded.add(parse_target(text))
            except ValueError:
                raise UsageError(f"--exclude {text!r}: not a target id") from None
        return cls(
            frozenset(t.casefold() for t in tags),
            frozenset(kinds),
            frozenset(excluded),
            only,
        )

    @property
    def narrows(self) -> bool:
        """Whether the selectors choose among targets (``--only`` alone does not)."""
        return bool(self.tags or self.kinds or self.exclude)

    def matches(self, target: TargetConfig) -> bool:
        if target.id in self.exclude:
            return False
        if self.kinds and target.kind not in self.kinds:
            return False
        return not self.tags or bool(self.tags & tags_of(target))

    def describe(self) -> str:
        """The selectors as typed, for messages."""
        words = [f"--tag {t}" for t in sorted(self.tags)]
        words += [f"--kind {k}" for k in sorted(self.kinds)]
        words += [f"--exclude {i}" for i in sorted(self.exclude, key=str)]
        return " ".join(words)


def tags_of(target: TargetConfig) -> frozenset[str]:
    """A guest's tags, lower-cased (Proxmox compares them so): its manager's parsed ``tags``
    when the model has them, else the ``tags`` of its entry or of its file's defaults."""
    value = getattr(target.spec, "tags", None)
    if value is None and not target.is_host:
        value = target.raw.get("tags", target.file_defaults.get("tags"))
    if isinstance(value, str):
        value = _TAG_SEPARATORS.split(value)
    if not isinstance(value, list | tuple | set | frozenset):
        return frozenset()
    return frozenset(str(t).casefold() for t in value if str(t))


def select(
    config: Config,
    asked: Sequence[TargetId],
    everything: Sequence[TargetId],
    selector: Selector,
) -> list[TargetId]:
    """The targets a verb takes: ``asked`` (or ``everything`` when none were asked) that the
    selectors match, in that order; UsageError (exit 2, nothing run) when none does."""
    pool = asked or everything
    chosen = [i for i in pool if selector.matches(config.target(i))]
    if not chosen:
        among = ", ".join(map(str, asked)) if asked else "the configuration"
        raise UsageError(f"no target of {among} matches {selector.describe()}")
    return chosen


def chosen(engine: Engine, ids: Sequence[str | int], selector: Selector) -> list[TargetId]:
    """The targets of a verb given ``ids``: those ids (checked), narrowed by the selectors
    over every target when none was given. Empty: no ids and no selectors, the verb's "all"."""
    asked = engine.resolve(ids)
    for ident in sorted(selector.exclude, key=str):
        if ident not in engine.config:
            raise UsageError(f"--exclude {ident!r}: not a target of the configuration")
    if not selector.narrows:
        return asked
    return select(engine.config, asked, engine.all_ids(), selector)


def known_tags(config: Config) -> list[str]:
    """Every tag a guest of ``config`` carries (shell completion offers them)."""
    return sorted({t for g in config.guests.values() for t in tags_of(g)})
