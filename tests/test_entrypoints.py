"""Plugin discovery reads entry points as importlib.metadata does, without importing it."""

from __future__ import annotations

import sys
from importlib.metadata import PathDistribution
from pathlib import Path

import pytest

from phoenix_core.entrypoints import entry_points

GROUP = "phoenix.managers"


def _dist(root: Path, dirname: str, entry_points_txt: str | None, name: str = "x") -> Path:
    metadata = root / dirname
    metadata.mkdir(parents=True)
    (metadata / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2\n")
    if entry_points_txt is not None:
        (metadata / "entry_points.txt").write_text(entry_points_txt)
    return metadata


def test_the_first_distribution_of_a_name_on_the_path_wins_as_in_importlib_metadata(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(first, "phoenix_demo-1.0.dist-info", f"[{GROUP}]\ndemo = demo_a\n", "phoenix-demo")
    _dist(second, "Phoenix.Demo-2.0.dist-info", f"[{GROUP}]\ndemo = demo_b\n")
    _dist(
        second,
        "other-0.1.egg-info",
        f"# comment\n[console_scripts]\nx = y\n\n[{GROUP}]\n  other = other.plugin:hooks.impl [extra] \n",
    )
    _dist(second, "bare-1.0.dist-info", None)
    (tmp_path / "a.zip").write_bytes(b"")
    path = [str(first), str(tmp_path / "missing"), str(tmp_path / "a.zip"), str(second)]

    found = entry_points(GROUP, path)

    assert sorted((ep.name, ep.value) for ep in found) == [
        ("demo", "demo_a"),
        ("other", "other.plugin:hooks.impl [extra]"),
    ]
    expected = {
        (ep.name, ep.value)
        for path_entry in path
        for dist in PathDistribution.discover(path=[path_entry])
        for ep in dist.entry_points.select(group=GROUP)
    }
    assert {(ep.name, ep.value) for ep in found} <= expected
    demo = next(ep for ep in found if ep.name == "demo")
    assert demo.distribution() == ("phoenix-demo", "1.2")


def test_load_returns_the_named_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "src" / "ep_probe_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("class hooks:\n    impl = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    _dist(
        tmp_path / "site",
        "ep_probe-1.0.dist-info",
        f"[{GROUP}]\np = ep_probe_pkg:hooks.impl [x]\nm = ep_probe_pkg\nbad = not a value!\n",
    )
    found = {ep.name: ep for ep in entry_points(GROUP, [str(tmp_path / "site")])}
    assert found["p"].load() == 42
    assert found["m"].load() is sys.modules["ep_probe_pkg"]
    with pytest.raises(ImportError):
        found["bad"].load()
