"""The shell examples of README.md and docs/ run, as written, against a simulated node.

Which examples run: every block fenced as ```` ```sh ````. A block that shows a synopsis, a
placeholder or what needs a real machine (``pip install``, SSH to ``pve1``) is fenced
```` ```text ```` instead. Each runnable block runs in one bash, line by line from the
directory ``work`` (empty), on a fresh simulated node seeded as the old homelab's
(``original-etc``), with:

- ``PATH``: the node's Proxmox tools first, then this environment's ``phoenix`` and ``pve-sim``;
- ``PHOENIX_HOST``: the node, ``sim:DIR`` (every ``phoenix`` runs on it, as ``--host``);
- ``PHOENIX_CONFIG_DIR``: the shipped example configuration (as the demo prepares it:
  ``contrib/demo/demo.py``); ``PHOENIX_LOG_DIR`` in the test's directory;
- the VM templates' cloud images served by the node (the demo's stand-in for the internet);
- what an HTML comment right above the fence sets, ``<!-- example: NAME=VALUE ... -->``
  (``PHOENIX_DISABLE_PLUGINS=vm,hypervisor`` plays an install of ``phoenix-lxc`` alone).

Every line must exit 0, unless its comment says ``(exits N)``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
SEED = REPO / "contrib" / "pve-sim" / "seeds" / "original-etc.json"
_BLOCK = re.compile(
    r"(?:^<!-- example: (?P<env>[^>]*) -->\n)?^```sh\n(?P<body>.*?)^```", re.S | re.M
)
_EXITS = re.compile(r"#.*\(exits (\d+)\)")


@attrs.frozen
class Example:
    document: Path
    line: int
    body: str
    env: dict[str, str]

    def __str__(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"


def examples() -> list[Example]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in _BLOCK.finditer(text):
            env = dict(w.split("=", 1) for w in shlex.split(match["env"] or ""))
            line = text.count("\n", 0, match.start("body"))
            found.append(Example(document, line, match["body"], env))
    return found


def script(example: Example) -> str:
    """The block as one bash script: each line checked for its exit code as it runs."""
    lines = ["set -u"]
    for number, line in enumerate(example.body.splitlines(), example.line + 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        expected = _EXITS.search(line)
        wanted = expected[1] if expected else "0"
        where = shlex.quote(f"{example.document.name}:{number}: {line.split('  #')[0].strip()}")
        lines.append(
            f"{line}\nrc=$?; if [ $rc -ne {wanted} ]; then "
            f"echo {where} exited $rc, not {wanted} >&2; exit 99; fi"
        )
    return "\n".join(lines) + "\n"


def _demo() -> Any:
    """contrib/demo/demo.py, whose config preparation the examples share (a script, not a
    package: loaded by path)."""
    spec = importlib.util.spec_from_file_location("phoenix_demo", REPO / "contrib/demo/demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_runnable_block_is_found() -> None:
    assert len(examples()) >= 3
    assert all(e.body.strip() for e in examples())


@pytest.mark.slow
@pytest.mark.parametrize("example", examples(), ids=str)
def test_the_example_runs(example: Example, pve_node_factory, tmp_path: Path) -> None:
    node = pve_node_factory(seed=SEED)
    demo = _demo()
    etc = demo.prepare_config(tmp_path)
    demo.serve_cloud_images(node.dir, etc)  # the node's stand-in for the internet
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **node.env,
        "PATH": f"{node.bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        # Every phoenix of the example runs against the simulated node, as --host sim:DIR.
        "PHOENIX_HOST": node.host,
        "PHOENIX_CONFIG_DIR": str(etc),
        "PHOENIX_LOG_DIR": str(tmp_path / "logs"),
        **example.env,
    }
    done = subprocess.run(
        ["bash", "-c", script(example)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"{example}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
