"""docs/plugins/tutorial.md shows the template as it is: each code block is a piece of it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "docs" / "plugins" / "tutorial.md"
TEMPLATE = REPO / "contrib" / "plugin-template"
#: Blocks in these languages are code of the template; the others are shell sessions,
#: directory trees and output.
CODE = re.compile(r"^```(python|toml|json)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def template_text() -> str:
    files = [p for p in sorted(TEMPLATE.rglob("*")) if p.is_file() and ".egg-info" not in str(p)]
    return "\n".join(p.read_text(errors="replace") for p in files if p.suffix != ".pyc")


def test_every_code_block_of_the_tutorial_is_taken_from_the_template() -> None:
    blocks = [body for _, body in CODE.findall(TUTORIAL.read_text())]
    assert len(blocks) >= 8
    source = template_text()
    missing = [block.splitlines()[0] for block in blocks if block not in source]
    assert missing == []
