"""`qm`: VM commands (placeholder until written)."""

from __future__ import annotations

from .common import Verb

VERBS: dict[str, Verb] = {}
