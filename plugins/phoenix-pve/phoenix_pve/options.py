"""Option drift: the ``pct``/``qm`` keys a manager owns, compared after normalising Proxmox's
formats, and repaired by one ``set`` carrying exactly the keys that differ.

A guest in sync costs nothing, a drift of one key is repaired by one command naming one key, and
a key wanted absent goes to ``--delete``. How each key compares is the manager's to say
(:class:`Comparison`): which keys are property strings, which are partly managed, what Proxmox
assumes for a key it leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import unquote

import attrs

from phoenix_core.steps import Change, Step
from phoenix_pve import built
from phoenix_pve.live import Live
from phoenix_pve.parse import format_props, normalize_props, normalize_value, parse_props


@attrs.frozen
class Partial:
    """A property string of which only the wanted properties are managed (``net0``: a MAC that
    Proxmox generated stays); ``defaults`` are what Proxmox assumes for a property left out."""

    order: tuple[str, ...] = ()
    defaults: Mapping[str, str] = attrs.Factory(dict)


@attrs.frozen
class Comparison:
    """How a manager's keys compare: anything not named is a scalar compared normalised."""

    #: What Proxmox assumes when a key is absent from the config (``memory: 512``).
    absent: Mapping[str, str] = attrs.Factory(dict)
    #: Whole property strings, compared whatever the order and spelling of their properties.
    props: frozenset[str] = frozenset()
    #: Property strings of which only the wanted properties are compared.
    partial: Mapping[str, Partial] = attrs.Factory(dict)
    #: Whitespace-separated lists (``nameserver``).
    words: frozenset[str] = frozenset()
    #: Property strings with a default key, by key prefix (``dev`` -> ``path``: ``devN`` values
    #: are stored as given, ``/dev/x,gid=44`` or ``path=/dev/x,gid=44``).
    default_keys: Mapping[str, str] = attrs.Factory(dict)

    def same(self, key: str, want: str, have: str | None) -> bool:
        """Does ``have`` (None: absent) already satisfy ``want`` (``""``: must be absent)?"""
        if key in self.partial:
            live = {**self.partial[key].defaults, **normalize_props(have or "")}
            return all(live.get(k) == v for k, v in normalize_props(want).items())
        default_key = self.default_keys.get(key.rstrip("0123456789"))
        if key in self.props or default_key is not None:
            return normalize_props(want, default_key) == normalize_props(have or "", default_key)
        if key in self.words:
            return want.split() == (have or "").split()
        if key == "tags":
            return tag_set(want) == tag_set(have or "")
        if key == "description":
            # pct/qm config print it through PVE::Tools::encode_text (%0A for a newline).
            return want.rstrip("\n") == unquote(have or "").rstrip("\n")
        if have is None:
            have = self.absent.get(key)
        if want == "":
            return have in (None, "")
        return have is not None and normalize_value(want) == normalize_value(have)

    def repaired(self, key: str, want: str, have: str | None) -> str:
        """The value to set: for a partly managed key, the live properties with ours over them."""
        if key not in self.partial or not have:
            return want
        merged = parse_props(have)
        merged.update(parse_props(want))
        return format_props(merged, self.partial[key].order)


def tag_set(value: str) -> frozenset[str]:
    """Tags as Proxmox keeps them (pve-guest-common GuestHelpers.pm get_unique_tags, default
    tag style): split on ``;``, ``,`` or spaces, lower-cased, each once, order not kept."""
    return frozenset(t.lower() for t in re.split(r"[;, ]+", value) if t)


def wanted_tags(tags: Sequence[str], have: Mapping[str, str] | None) -> str:
    """The ``tags`` to hold: the configured ones, plus the build marks (:mod:`phoenix_pve.built`)
    the guest carries, which no configuration lists and a repair must not remove."""
    marks = sorted(t for t in tag_set((have or {}).get("tags", "")) if t.startswith(built.PREFIX))
    return ";".join([*tags, *marks])


@attrs.frozen
class OptionValue:
    """Change data: set ``key`` to ``value``, or delete it when ``value`` is None."""

    key: str
    value: str | None


def drift(want: Mapping[str, str], have: Mapping[str, str], rules: Comparison) -> list[Change]:
    """The keys whose live value differs from the wanted one (``""`` wanted: absent)."""
    changes = []
    for key, value in want.items():
        current = have.get(key)
        if not rules.same(key, value, current):
            target = rules.repaired(key, value, current) or None
            changes.append(Change(key, current, target, data=OptionValue(key, target)))
    return changes


def option_args(key: str, value: str) -> list[str]:
    """``--key value``; ``--key=value`` when the value could be read as an option (a
    description starting with ``-``): Getopt::Long then takes it whole."""
    return [f"--{key}={value}"] if value.startswith("-") else [f"--{key}", value]


def set_argv(live: Live, changes: Sequence[Change]) -> list[str]:
    """One ``set`` for all changed keys; keys wanted absent go to ``--delete``."""
    argv = live.tool("set")
    values = [c.data for c in changes if isinstance(c.data, OptionValue)]
    for option in values:
        if option.value is not None:
            argv += option_args(option.key, option.value)
    deletes = [o.key for o in values if o.value is None]
    if deletes:
        argv += ["--delete", ",".join(deletes)]
    return argv


def step(
    live: Live,
    want: Mapping[str, str] | Callable[[Mapping[str, str]], Mapping[str, str]],
    rules: Comparison,
    *,
    guard: Callable[[], None] = lambda: None,
) -> Step:
    """The ``options`` step. ``want`` is the wanted keys, or makes them from the live ones
    (which extra ``devN`` slots to empty). ``guard`` runs before comparing an existing guest
    and raises for what ``set`` cannot repair (a container's ``unprivileged``)."""

    def check() -> list[Change]:
        if live.exists:
            guard()
        have = live.config().options
        return drift(want(have) if callable(want) else want, have, rules)

    def apply(changes: Sequence[Change]) -> None:
        live.change(set_argv(live, changes))

    return Step("options", check, apply)
