"""A Proxmox command line parsed and checked the way the real CLI does, before it runs.

pve-common src/PVE/JSONSchema.pm `get_options` configures Getopt::Long from the method's
schema (prefix `--` or `-`; booleans take an optional value, `-list` formats and arrays
repeat, everything else takes one; `--name=value` only with `--`), then assigns the
positionals to the cmddef's `arg_param` names and turns boolean spellings into 1/0;
src/PVE/RESTHandler.pm `handle` then runs `PVE::JSONSchema::validate` on the result. Getopt's
own rules are from Getopt::Long (sciurius/perl-Getopt-Long lib/Getopt/Long.pm `FindOption`):
case is ignored, a unique prefix names an option (`auto_abbrev`), an unknown or ambiguous
option is a warning and the parse fails. Every failure is the text the real tool prints,
then the short usage line (RESTHandler.pm `cli_handler` adds it to parameter exceptions),
exit 255. Values are checked by fakepve's copy of PVE::JSONSchema (types, ranges,
enumerations, patterns, named formats, property strings) on the schema of cmddef.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from fakepve import formats, schema

from .argv import FALSE, TRUE, Args
from .cmddef import Props, Spec
from .result import CliError


def _schema_of(props: Props, name: str) -> dict[str, Any]:
    if name in props:
        return props[name]
    return props.get(name.rstrip("0123456789") + "[n]", {})


def _repeats(sch: dict[str, Any]) -> bool:
    """`=s@`: a -list format or an array may be given more than once."""
    fmt = sch.get("format")
    return sch.get("type") == "array" or (isinstance(fmt, str) and "-list" in fmt)


def _usage(spec: Spec) -> str:
    words = [spec.prefix]
    for name in spec.command.args:
        optional = _schema_of(spec.properties, name).get("optional")
        words.append(f"[<{name}>]" if optional else f"<{name}>")
    return " ".join(words) + " [OPTIONS]"


def _find(names: dict[str, str], given: str, warnings: list[str]) -> str | None:
    """Getopt::Long FindOption: exact name, else a unique prefix, ignoring case."""
    low = given.lower()
    if low in names:
        return names[low]
    hits = sorted(n for n in names if n.startswith(low))
    if len(hits) == 1:
        return names[hits[0]]
    if hits:
        warnings.append(f"Option {low} is ambiguous ({', '.join(hits)})")
    else:
        warnings.append(f"Unknown option: {given}")
    return None


def _getopt(spec: Spec, argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Options (every value given, in order) and the non-option words."""
    props = spec.properties
    names = spec.option_names
    opts: dict[str, list[str]] = {}
    words: list[str] = []
    warnings: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            words += argv[i:]
            break
        if not token.startswith("-") or token == "-":
            words.append(token)
            continue
        given = token[2:] if token.startswith("--") else token[1:]
        inline = None
        if token.startswith("--") and "=" in given[1:]:
            given, inline = given.split("=", 1)
        name = _find(names, given, warnings)
        if name is None:
            continue
        optional = _schema_of(props, name).get("type") == "boolean" or (
            name in spec.command.interactive
        )
        if inline is not None:
            value = inline
        elif i < len(argv) and not (optional and (argv[i] == "--" or re.match(r"-.", argv[i]))):
            value = argv[i]
            i += 1
        elif optional:
            value = ""
        else:
            warnings.append(f"Option {name.lower()} requires an argument")
            continue
        opts.setdefault(name, []).append(value)
    if warnings:
        raise CliError("\n".join([*warnings, "400 unable to parse option", _usage(spec)]))
    return opts, words


def _positionals(spec: Spec, opts: dict[str, Any], words: list[str]) -> None:
    """JSONSchema.pm get_options: the words fill arg_param in order; extra-args takes the rest."""
    for index, name in enumerate(spec.command.args):
        if name == "extra-args":
            opts[name] = words[index:]
            return
        if index >= len(words):
            for rest in spec.command.args[index:]:
                if rest != "extra-args" and not _schema_of(spec.properties, rest).get("optional"):
                    raise CliError(f"400 not enough arguments\n{_usage(spec)}")
            return
        opts[name] = words[index]
    if len(words) > len(spec.command.args):
        raise CliError(f"400 too many arguments\n{_usage(spec)}")


def _normalise(spec: Spec, given: dict[str, list[str]]) -> dict[str, Any]:
    """Booleans to 1/0 (an empty value is 1), repeated -list values joined with commas, any
    other repeated option its last value."""
    out: dict[str, Any] = {}
    for name, values in given.items():
        sch = _schema_of(spec.properties, name)
        if sch.get("type") == "boolean":
            value = values[-1].lower()
            if value == "":
                out[name] = "1"
            elif value in TRUE | FALSE:
                out[name] = "1" if value in TRUE else "0"
            else:
                raise CliError(f"400 unable to parse boolean option\n{_usage(spec)}")
        elif sch.get("type") == "array":
            out[name] = values
        elif _repeats(sch):
            out[name] = ",".join(values)
        else:
            out[name] = values[-1]
    return out


def _ip_with_ll_iface(value: str) -> str | None:
    """pve-container src/PVE/LXC/Config.pm verify_ip_with_ll_iface: an IP address, or a
    link-local IPv6 address with `%<interface>`."""
    address, percent, iface = value.partition("%")
    if percent and address.startswith("fe80:") and formats.check("pve-iface", iface) is None:
        value = address
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return "value does not look like a valid IP address"
    return None


#: Named formats fakepve does not check, with the checker their module registers.
EXTRA_FORMATS: dict[str, Callable[[str], str | None]] = {
    "lxc-ip-with-ll-iface": _ip_with_ll_iface,
}


def _extra_errors(spec: Spec, values: dict[str, Any], errors: dict[str, str]) -> None:
    for name, value in values.items():
        fmt = _schema_of(spec.properties, name).get("format")
        if name in errors or not isinstance(fmt, str) or not isinstance(value, str):
            continue
        base = fmt.removesuffix("-list")
        checker = EXTRA_FORMATS.get(base)
        items = formats.split_list(value) if fmt.endswith("-list") else [value]
        why = next((w for w in map(checker, items) if w), None) if checker else None
        if why:
            errors[name] = f"invalid format - {why}"


def parse(spec: Spec, argv: list[str], node: str) -> Args:
    """argv (after the tool and verb) as Args, or the CLI's CliError for what a node refuses."""
    given, words = _getopt(spec, argv)
    values = _normalise(spec, given)
    _positionals(spec, values, words)
    fixed = {k: node if v is None else v for k, v in spec.command.fixed.items()}
    # Mapped parameters are file names or prompts the tool reads before validating.
    checked = {k: v for k, v in {**values, **fixed}.items() if k not in spec.command.mapped}
    _, errors = schema.validate({"properties": spec.properties, "additionalProperties": 0}, checked)
    _extra_errors(spec, checked, errors)
    if errors:
        reasons = [f"{k}: {errors[k].rstrip(chr(10))}" for k in sorted(errors)]
        raise CliError("\n".join(["400 Parameter verification failed.", *reasons, _usage(spec)]))
    positional = [values[a] for a in spec.command.args if a in values and a != "extra-args"]
    options = [(k, v) for k, v in values.items() if k not in spec.command.args]
    return Args(
        positional=positional,
        options=[(k, v) for k, v in options if isinstance(v, str)],
        rest=list(values.get("extra-args", [])),
    )
