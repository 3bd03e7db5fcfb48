"""Checks of single values, as Linux and the network standards define them.

Every check is a function from a value to a problem (``str``) or ``None``, so a manager can call
one directly from its ``parse``; :class:`Check` attaches them to a model field through
``Annotated[int, in_range(1, 8192)]``, where the one converter runs them while structuring
and reports the problem at the field's JSON path. Formats only one hypervisor defines (its
configuration ids, its storage ids) belong to that hypervisor's library, not here.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Iterable
from typing import Any

import attrs

#: The largest integer JSON parsers agree on (RFC 8259 §6: IEEE 754 doubles hold integers
#: exactly up to 2^53 - 1). Fields without a smaller limit of their own stop here, so a value
#: like 10^30 is refused instead of being rounded by whatever reads it next.
MAX_EXACT_INT = 2**53 - 1

#: RFC 1123 §2.1 host name label: letters, digits and inner hyphens, 1 to 63 characters.
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
#: Linux caps interface names at IFNAMSIZ - 1 = 15 bytes (include/uapi/linux/if.h).
IFNAME_MAX = 15

Test = Callable[[Any], "str | None"]


@attrs.frozen(eq=False)
class Check:
    """A field check: ``test`` returns the problem, ``schema`` adds JSON Schema keywords
    (a ``pattern`` given as the compiled regex the test uses keeps its flags in the schema:
    :func:`~phoenix_core.config.schema.ecma_pattern`).

    Compared by identity: the converter caches hooks by type, and ``Annotated`` types hash
    their metadata.
    """

    test: Test
    schema: dict[str, Any] = attrs.Factory(dict)


def problems(value: Any, checks: Iterable[Check]) -> str | None:
    """The first problem one of ``checks`` finds in ``value``, or None."""
    for check in checks:
        problem = check.test(value)
        if problem is not None:
            return problem
    return None


# ----------------------------------------------------------------------------- numbers


def range_problem(value: int, low: int, high: int = MAX_EXACT_INT) -> str | None:
    if low <= value <= high:
        return None
    if high == MAX_EXACT_INT and value > high:  # the bound no field of its own names
        return (
            f"must be at most {high} (2^53 - 1, the largest integer JSON parsers agree on), "
            f"got {_short(value)}"
        )
    if high == MAX_EXACT_INT:
        return f"must be at least {low}, got {_short(value)}"
    return f"must be between {low} and {high}, got {_short(value)}"


def in_range(low: int, high: int = MAX_EXACT_INT) -> Check:
    return Check(lambda v: range_problem(v, low, high), {"minimum": low, "maximum": high})


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"a number of {len(text)} digits"


# ----------------------------------------------------------------------------- text


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


#: Linux's limits for a path (PATH_MAX, with its NUL) and each of its names (NAME_MAX), in
#: bytes (include/uapi/linux/limits.h): longer ones fail every file call with ENAMETOOLONG.
PATH_MAX = 4095
NAME_MAX = 255


def length_problem(value: str) -> str | None:
    """A path or name longer than Linux can look up."""
    size = len(value.encode())
    if size > PATH_MAX:
        return f"is {size} bytes long; a path is at most {PATH_MAX} bytes"
    longest = max((len(part.encode()) for part in value.split("/")), default=0)
    if longest > NAME_MAX:
        return f"has a name of {longest} bytes; a file name is at most {NAME_MAX} bytes"
    return None


def words_problem(value: str) -> str | None:
    """A string phoenix splits into argv words as a shell would (quotes, backslashes)."""
    try:
        shlex.split(value)
    except ValueError as exc:
        return f"cannot be split into words as a shell would ({exc}): {value!r}"
    return None


def shell_words() -> Check:
    """For a field that is a string split like a shell would, or already a list."""
    return Check(lambda v: words_problem(v) if isinstance(v, str) else None)


def control_problem(value: str) -> str | None:
    """A control character (newline, NUL ...) breaks the argv or line-based file it reaches."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    return f"contains the control character U+{ord(found[0]):04X} at position {found.start()}"


#: Marks a text field that may span lines (a guest's description, which Proxmox keeps as
#: ``#`` lines of the conf file and tools receive as one argument): other control characters
#: are still refused. The converter lets such a field's line breaks through.
MULTILINE = Check(lambda value: control_problem(value.replace("\n", " ")))


def option_problem(value: str) -> str | None:
    """A value starting with ``-`` is read as an option by the command it is passed to."""
    return (
        f"must not start with '-' (it would be read as an option): {value!r}"
        if value[:1] == "-"
        else None
    )


def not_option() -> Check:
    return Check(option_problem, {"pattern": "^[^-]"})


def hostname_problem(value: str, *, single_label: bool = False) -> str | None:
    """RFC 1123 §2.1 host name: dot-separated labels, at most 253 characters."""
    labels = [value] if single_label else value.split(".")
    what = "host name label" if single_label else "host name"
    if not value or len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        return (
            f"not a valid {what} (RFC 1123: letters, digits and inner hyphens, "
            f"labels of 1-63 characters{'' if single_label else ' separated by dots'}): {value!r}"
        )
    return None


def hostname(*, single_label: bool = False) -> Check:
    return Check(lambda v: hostname_problem(v, single_label=single_label))


def ifname_problem(value: str) -> str | None:
    """A Linux network interface name: 1-15 bytes, no ``/``, whitespace or ``:``."""
    if (
        not 0 < len(value.encode()) <= IFNAME_MAX
        or re.search(r"[/:\s]", value)
        or value in (".", "..")
    ):
        return f"not a Linux interface name (1-{IFNAME_MAX} characters, no '/', ':' or spaces): {value!r}"
    return None


# ----------------------------------------------------------------------------- addresses


#: Dotted quad, each octet 0-255 without leading zeros (which some parsers read as octal).
_OCTET = r"(25[0-5]|(2[0-4]|1[0-9]|[1-9])?[0-9])"
_IPV4 = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")


def ipv4_problem(value: str) -> str | None:
    return None if _IPV4.match(value) else f"not an IPv4 address: {value!r}"


def _ipv4_int(value: str) -> int:
    a, b, c, d = (int(octet) for octet in value.split("."))
    return a << 24 | b << 16 | c << 8 | d


def ip_problem(value: str) -> str | None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return f"not an IP address: {value!r}"
    return None


def ip_address() -> Check:
    return Check(ip_problem)


def network_client_problem(value: str) -> str | None:
    """Who may use a service, as exports(5) names NFS clients: an IP address or network
    (``10.0.0.0/24``), a host name with ``*``/``?`` wildcards, ``*``, or ``@netgroup``."""
    try:
        ipaddress.ip_network(value, strict=False)
        return None
    except ValueError:
        pass
    name = value[1:] if value.startswith("@") else value
    if name and all(
        re.fullmatch(r"[A-Za-z0-9*?]([A-Za-z0-9*?_-]*[A-Za-z0-9*?])?", p) for p in name.split(".")
    ):
        return None
    return (
        "not a host, network or netgroup (an IP address or network like 10.0.0.0/24, a host "
        f"name with * or ? wildcards, or @netgroup): {value!r}"
    )


def network_client() -> Check:
    return Check(network_client_problem)


def ipv4_cidr_problem(value: str, min_prefix: int = 0) -> str | None:
    """``address/prefix`` with a host address (``10.0.0.5/24``), prefix ``min_prefix``-32."""
    address, slash, prefix = value.partition("/")
    if not slash or ipv4_problem(address) or not prefix.isascii() or not prefix.isdigit():
        return f"not an IPv4 address with a prefix length (like 10.0.0.5/24): {value!r}"
    if not min_prefix <= int(prefix) <= 32:
        return f"prefix length must be between {min_prefix} and 32: {value!r}"
    return None


def gateway_problem(gateway: str, cidr: str) -> str | None:
    """The gateway must be a host of the interface's own subnet (and not the interface)."""
    address, _, prefix = cidr.partition("/")
    mask = (0xFFFFFFFF << (32 - int(prefix))) & 0xFFFFFFFF
    own, gw = _ipv4_int(address), _ipv4_int(gateway)
    if own & mask != gw & mask:
        network = ipaddress.IPv4Network(cidr, strict=False)
        return f"gateway {gateway} is outside the subnet {network} of {cidr}"
    if own == gw:
        return f"gateway {gateway} is the interface's own address"
    return None


#: ``xx:xx:xx:xx:xx:xx`` in hex with the I/G bit (least significant bit of the first octet)
#: clear: a group address cannot be an interface's own address (IEEE 802-2014 §8.2).
_MAC = re.compile(r"^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$", re.IGNORECASE)


def mac_problem(value: str) -> str | None:
    if not _MAC.match(value):
        return f"not a unicast MAC address (six hex pairs like 52:54:00:aa:bb:cc, first octet even): {value!r}"
    return None


# ----------------------------------------------------------------------------- paths


def absolute_path_problem(value: str) -> str | None:
    """An absolute path without ``.``/``..`` components: it names one place, not an escape."""
    if not value.startswith("/"):
        return f"must be an absolute path (starting with /): {value!r}"
    if any(part in (".", "..") for part in value.split("/")):
        return f"must not contain '.' or '..' components: {value!r}"
    return control_problem(value) or length_problem(value)


def absolute_path() -> Check:
    return Check(absolute_path_problem, {"pattern": "^/"})


def contained_name_problem(value: str) -> str | None:
    """A name looked up under a directory: relative, non-empty, no ``..``, so it stays inside."""
    if not value.strip():
        return "must not be empty"
    if value.startswith("/"):
        return f"must be a name on the search path, not an absolute path: {value!r}"
    if any(part in ("", ".", "..") for part in value.split("/")):
        return f"must not contain empty, '.' or '..' components (it must stay on the search path): {value!r}"
    return control_problem(value) or option_problem(value) or length_problem(value)


def contained_name() -> Check:
    return Check(contained_name_problem)
