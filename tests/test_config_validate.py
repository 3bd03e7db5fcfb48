"""The generic value checks (phoenix_core.config.validate), one by one, and how the converter
and the JSON reader apply them: problem at the field's path, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import attrs
import pytest

from phoenix_core.config import validate as v
from phoenix_core.config.diagnostics import Diagnostics
from phoenix_core.config.jsonfile import MAX_DEPTH, read_json
from phoenix_core.config.schema import model_schema


@pytest.mark.parametrize(
    ("value", "low", "high", "ok"),
    [
        (16, 16, v.MAX_EXACT_INT, True),
        (15, 16, v.MAX_EXACT_INT, False),
        (-1, 0, 10, False),
        (10**30, 1, v.MAX_EXACT_INT, False),
        (4094, 1, 4094, True),
        (4095, 1, 4094, False),
    ],
)
def test_range(value: int, low: int, high: int, ok: bool) -> None:
    assert (v.range_problem(value, low, high) is None) is ok


def test_a_huge_number_is_named_by_its_length() -> None:
    assert "a number of 31 digits" in str(v.range_problem(10**30, 1))


@pytest.mark.parametrize("name", ["web", "nginx-gateway", "Portainer", "a.b-c.d", "x" * 63])
def test_valid_hostnames(name: str) -> None:
    assert v.hostname_problem(name) is None


@pytest.mark.parametrize(
    "name", ["", "my host", "-web", "web-", "a..b", "a_b", "x" * 64, "é", ".".join(["a"] * 128)]
)
def test_invalid_hostnames(name: str) -> None:
    assert v.hostname_problem(name) is not None


def test_a_single_label_has_no_dots() -> None:
    assert v.hostname_problem("pve1", single_label=True) is None
    assert v.hostname_problem("pve1.lan", single_label=True) is not None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("10.0.0.5/24", True),
        ("10.0.0.300/24", False),
        ("10.0.0.5", False),
        ("10.0.0.5/33", False),
        ("10.0.0.5/x", False),
        ("10.0.0.5/٢٤", False),
    ],
)
def test_ipv4_cidr(value: str, ok: bool) -> None:
    assert (v.ipv4_cidr_problem(value) is None) is ok


def test_minimum_prefix() -> None:
    assert v.ipv4_cidr_problem("10.0.0.5/7", min_prefix=8) is not None


def test_gateway_inside_the_subnet() -> None:
    assert v.gateway_problem("10.0.0.1", "10.0.0.5/24") is None
    assert "outside the subnet 10.0.0.0/24" in str(v.gateway_problem("10.0.1.1", "10.0.0.5/24"))
    assert "own address" in str(v.gateway_problem("10.0.0.5", "10.0.0.5/24"))


@pytest.mark.parametrize(
    ("mac", "ok"),
    [
        ("52:54:00:AA:BB:CC", True),
        ("52:54:00:aa:bb:cc", True),
        ("01:00:5e:00:00:01", False),
        ("52-54-00-aa-bb-cc", False),
        ("52:54:00:aa:bb", False),
        ("zz:54:00:aa:bb:cc", False),
    ],
)
def test_mac(mac: str, ok: bool) -> None:
    assert (v.mac_problem(mac) is None) is ok


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/var/log/nginx", True),
        ("/", True),
        ("", False),
        ("var/log", False),
        ("/var/../etc", False),
        ("/var/./log", False),
        ("/a\nb", False),
    ],
)
def test_absolute_path(path: str, ok: bool) -> None:
    assert (v.absolute_path_problem(path) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("app.sh", True),
        ("sub/app.sh", True),
        ("", False),
        ("  ", False),
        ("/etc/passwd", False),
        ("../../x", False),
        ("a/../b", False),
        ("a//b", False),
        ("-x.sh", False),
        ("a\x00b", False),
    ],
)
def test_contained_name(name: str, ok: bool) -> None:
    assert (v.contained_name_problem(name) is None) is ok


def test_option_like_values_and_control_characters() -> None:
    assert v.option_problem("-o") is not None and v.option_problem("o-") is None
    assert "U+000A" in str(v.control_problem("a\nb"))
    assert v.control_problem("tab\tok") is None


def test_interface_names() -> None:
    assert v.ifname_problem("vmbr0") is None
    assert v.ifname_problem("a" * 16) is not None
    assert v.ifname_problem("eth 0") is not None


@attrs.frozen
class _Model:
    size: Annotated[int, v.in_range(1, 10)]
    path: Annotated[str, v.absolute_path()] | None = None
    names: list[Annotated[str, v.contained_name()]] = attrs.Factory(list)


def test_the_converter_reports_a_check_at_the_field_path() -> None:
    diagnostics = Diagnostics()
    data = {"size": 0, "path": "rel", "names": ["ok.sh", "../x"]}
    assert diagnostics.structure("f.json", "root", data, _Model) is None
    assert [str(p) for p in diagnostics.errors] == [
        "f.json: root.size: must be between 1 and 10, got 0",
        "f.json: root.path: must be an absolute path (starting with /): 'rel'",
        "f.json: root.names[1]: must not contain empty, '.' or '..' components (it must stay on the search path): '../x'",
    ]


def test_every_typed_string_refuses_a_newline() -> None:
    diagnostics = Diagnostics()
    diagnostics.structure("f.json", "", {"size": 1, "names": ["a\nb"]}, _Model)
    assert "names[0]: contains the control character U+000A" in str(diagnostics.errors[0])


def test_checks_appear_in_the_schema() -> None:
    schema = model_schema(_Model, {})
    assert schema["properties"]["size"] == {"type": "integer", "minimum": 1, "maximum": 10}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, ' + "9" * 5000 + "]}", "a[1]: an integer of 5000 digits is out of range"),
        ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        ('{"a": ' + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "}", "nested too deeply"),
        ('{"a": "x\\u0000y"}', "a: contains NUL (U+0000) at position 1"),
        ('{"a": {"b\\ud800": 1}}', "a: key 'b\\ud800': contains an unpaired surrogate U+D800"),
        ('{"a": ["\\udc00"]}', "a[0]: contains an unpaired surrogate U+DC00"),
        ('{"a": NaN}', "a: NaN is not a JSON number"),
        ('{"a": 1e999}', "a: number out of range"),
    ],
)
def test_the_reader_refuses_what_no_configuration_holds(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    diagnostics = Diagnostics()
    assert read_json(path, diagnostics) is None
    assert expected in "\n".join(str(p) for p in diagnostics.errors)


def test_a_paired_surrogate_is_a_character(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": "\\ud83d\\ude00"}')
    assert read_json(path, Diagnostics()) == {"a": "\U0001f600"}
