"""Entry points of the installed distributions, found without importing importlib.metadata.

``phoenix --help`` discovers the plugins (their verbs are part of the help), and importing
``importlib.metadata`` costs as much as a fifth of that start-up: it imports the email package,
zipfile and csv for metadata the help never shows. This scan reads only what discovery needs:
``entry_points.txt`` of each ``*.dist-info`` / ``*.egg-info`` directory on ``sys.path``, with
importlib.metadata's rules (Python 3.11 ``importlib/metadata/__init__.py``: ``entry_points``
keeps the first distribution of each normalized name along ``sys.path``; ``EntryPoint.pattern``
and ``Sectioned`` for the file's syntax). A distribution's name and version are read with
importlib.metadata itself, when first shown (``phoenix plugins``).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from typing import Any

import attrs

#: ``module``, ``module:attr`` or ``module:attr.sub``, optionally followed by ``[extras]``.
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
_SUFFIXES = (".dist-info", ".egg-info")


@attrs.frozen
class EntryPoint:
    """One entry point: ``name = value`` under ``[group]`` of the distribution whose metadata
    directory is ``metadata``."""

    name: str
    value: str
    group: str
    metadata: str

    def load(self) -> Any:
        """Import the module and return the object the value names (ImportError, or
        AttributeError for a name the module lacks, as importlib.metadata raises them)."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ImportError(f"not an entry point value: {self.value!r}")
        found: Any = importlib.import_module(match["module"])
        for attr in match["attr"].split(".") if match["attr"] else []:
            found = getattr(found, attr)
        return found

    def distribution(self) -> tuple[str, str]:
        """The distribution's name and version, from its metadata file."""
        from importlib.metadata import PathDistribution
        from pathlib import Path

        metadata = PathDistribution(Path(self.metadata)).metadata
        return metadata["Name"], metadata["Version"]


def entry_points(group: str, path: Iterable[str] | None = None) -> list[EntryPoint]:
    """The entry points of ``group`` of every distribution on ``path`` (``sys.path``)."""
    seen: set[str] = set()
    found: list[EntryPoint] = []
    for root in sys.path if path is None else path:
        directory = root or "."
        try:
            children = os.listdir(directory)
        except OSError:  # a missing directory, or a zip file: no metadata directory in it
            continue
        for child in children:
            if not child.lower().endswith(_SUFFIXES):
                continue
            name = _normalized(child.rpartition(".")[0].partition("-")[0])
            if name in seen:
                continue
            seen.add(name)
            metadata = os.path.join(directory, child)
            try:
                with open(os.path.join(metadata, "entry_points.txt"), encoding="utf-8") as file:
                    text = file.read()
            except OSError:
                continue
            found.extend(_parse(text, group, metadata))
    return found


def _normalized(name: str) -> str:
    """PEP 503's normalization, as importlib.metadata compares distribution names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _parse(text: str, group: str, metadata: str) -> Iterable[EntryPoint]:
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group:
            name, _, value = line.partition("=")
            yield EntryPoint(name.strip(), value.strip(), group, metadata)
