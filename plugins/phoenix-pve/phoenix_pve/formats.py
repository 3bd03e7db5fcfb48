"""Value formats Proxmox VE itself defines, checked at load time as Proxmox would check them.

Each check follows the Proxmox source named beside it (snapshots of the public repositories:
pve-common f665029e, pve-container 94f55852, pve-storage 0c56bad8, pve-firewall 6f1311f3), so a
value phoenix accepts is one ``pct``, ``pvesh`` and ``pve-firewall`` accept too, and a value
they would refuse halfway through a run is refused before anything runs. Generic checks
(ranges, host names, addresses, paths) are :mod:`phoenix_core.config.validate`.
"""

from __future__ import annotations

import ipaddress
import re

from phoenix_core.config.validate import Check, ip_problem, ipv4_cidr_problem

# pve-common src/PVE/JSONSchema.pm: $CONFIGID_RE = qr/[a-z][a-z0-9_-]+/i (format pve-configid),
# and the standard option pve-snapshot-name adds maxLength => 40.
_CONFIGID = re.compile(r"^[a-z][a-z0-9_-]+$", re.IGNORECASE)
SNAPSHOT_NAME_MAX = 40


def snapshot_name_problem(value: str) -> str | None:
    # pve-container src/PVE/API2/LXC/Snapshot.pm: "unable to use snapshot name 'current'
    # (reserved name)": `current` is the live state in every snapshot listing.
    if value == "current":
        return "'current' is reserved by Proxmox for the live state"
    if len(value) > SNAPSHOT_NAME_MAX or not _CONFIGID.match(value):
        return (
            "not a Proxmox snapshot name (pve-configid: a letter, then letters, digits, '_' "
            f"or '-'; 2-{SNAPSHOT_NAME_MAX} characters): {value!r}"
        )
    return None


def snapshot_name() -> Check:
    return Check(snapshot_name_problem, {"pattern": _CONFIGID, "maxLength": 40})


# pve-common src/PVE/JSONSchema.pm parse_id (format pve-storage-id): at least 2 characters,
# m/^[a-z][a-z0-9\-\_\.]*[a-z0-9]$/i.
_STORAGE_ID = re.compile(r"^[a-z][a-z0-9_.-]*[a-z0-9]$", re.IGNORECASE)


def storage_id_problem(value: str) -> str | None:
    if not _STORAGE_ID.match(value):
        return (
            "not a Proxmox storage id (pve-storage-id: a letter, then letters, digits, "
            f"'-', '_' or '.', ending in a letter or digit): {value!r}"
        )
    return None


def storage_id() -> Check:
    return Check(storage_id_problem, {"pattern": _STORAGE_ID})


# pve-container src/PVE/LXC/Config.pm $netconf_desc: `bridge` and `name` both have
# pattern => '[-_.\w\d]+'.
_NET_NAME = re.compile(r"^[-_.\w]+$", re.ASCII)


def net_name_problem(value: str) -> str | None:
    if not _NET_NAME.match(value):
        return f"not a Proxmox interface or bridge name (letters, digits, '-', '_', '.'): {value!r}"
    return None


def net_name() -> Check:
    return Check(net_name_problem, {"pattern": _NET_NAME})


def ipv4_config_problem(value: str) -> str | None:
    """pve-common JSONSchema.pm pve-ipv4-config: ``dhcp``, ``manual`` or CIDRv4, whose prefix
    must be 8-32 (pve_verify_cidrv4: ``$1 > 7 && $1 <= 32``)."""
    if value in ("dhcp", "manual"):
        return None
    problem = ipv4_cidr_problem(value, min_prefix=8)
    return f"{problem} (or dhcp, manual)" if problem else None


def ipv4_config() -> Check:
    return Check(ipv4_config_problem)


def nameservers_problem(value: str) -> str | None:
    """pve-container Config.pm ``nameserver`` (lxc-ip-with-ll-iface-list): IP addresses,
    an IPv6 link-local one may carry ``%iface``; phoenix's key separates them by spaces."""
    names = value.split()
    if not names:
        return "must name at least one server"
    for name in names:
        problem = ip_problem(name.split("%", 1)[0] if name.lower().startswith("fe80:") else name)
        if problem:
            return problem
    return None


def nameservers() -> Check:
    return Check(nameservers_problem)


# pve-storage src/PVE/Storage/Plugin.pm: a template volume is vztmpl/<file> where the file
# has no '/' and ends in $VZTMPL_EXT_RE_1 (.tar, .tar.gz, .tar.xz, .tar.zst, .tar.bz2).
_TEMPLATE_FILE = re.compile(r"^[^/]+\.tar(\.(gz|xz|zst|bz2))?$", re.IGNORECASE)


def template_problem(value: str) -> str | None:
    """A volid ``storage:vztmpl/file``, a file name, or a path whose last part is the file."""
    if value.startswith("-"):
        return f"must not start with '-' (it would be read as an option): {value!r}"
    if ":" in value:
        storage, _, volume = value.partition(":")
        if storage_id_problem(storage):
            return storage_id_problem(storage)
        if not volume.startswith("vztmpl/") or not _TEMPLATE_FILE.match(volume[7:]):
            return (
                f"not a template volume (storage:vztmpl/<name>.tar[.gz|.xz|.zst|.bz2]): {value!r}"
            )
        return None
    parts = value.rstrip("/").split("/")
    if ".." in parts or not _TEMPLATE_FILE.match(parts[-1]):
        return f"not a template file (<name>.tar[.gz|.xz|.zst|.bz2], no '..'): {value!r}"
    return None


def template() -> Check:
    return Check(template_problem, {"pattern": "^[^-]"})


# ----------------------------------------------------------------------------- firewall

# pve-firewall src/PVE/Firewall.pm $pve_fw_macros: the macro names, matched case-insensitively
# ($pve_fw_preferred_macro_names is keyed by lc($name)).
FIREWALL_MACROS = frozenset(
    name.lower()
    for name in [
        "Amanda",
        "Auth",
        "BGP",
        "BitTorrent",
        "BitTorrent32",
        "Ceph",
        "CVS",
        "Citrix",
        "DAAP",
        "DCC",
        "DHCPfwd",
        "DNS",
        "Distcc",
        "FTP",
        "Finger",
        "GNUnet",
        "GRE",
        "Git",
        "HKP",
        "HTTP",
        "HTTPS",
        "ICPV2",
        "ICQ",
        "IMAP",
        "IMAPS",
        "IPIP",
        "IPsec",
        "IPsecah",
        "IPsecnat",
        "IRC",
        "Jetdirect",
        "L2TP",
        "LDAP",
        "LDAPS",
        "MSNP",
        "MSSQL",
        "Mail",
        "MDNS",
        "Munin",
        "MySQL",
        "NNTP",
        "NNTPS",
        "NTP",
        "OSPF",
        "OpenVPN",
        "PCA",
        "PMG",
        "POP3",
        "POP3S",
        "PPtP",
        "Ping",
        "PostgreSQL",
        "Printer",
        "RDP",
        "RIP",
        "RNDC",
        "Razor",
        "Rdate",
        "Rsync",
        "SANE",
        "SMB",
        "SMBswat",
        "SMTP",
        "SMTPS",
        "SNMP",
        "SPAMD",
        "SSH",
        "SVN",
        "SixXS",
        "SPICEproxy",
        "Squid",
        "Submission",
        "Syslog",
        "TFTP",
        "Telnet",
        "Telnets",
        "Time",
        "Trcrt",
        "VNC",
        "VNCL",
        "Web",
        "Webcache",
        "Webmin",
        "Whois",
    ]
)
# pve-firewall Firewall.pm: standard option pve-fw-loglevel, and the policy_in/policy_out
# enum of the guest options ($vm_option_properties).
LOG_LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog")
POLICIES = ("ACCEPT", "REJECT", "DROP")
# Firewall.pm verify_rule: in/out rules take ACCEPT, DROP or REJECT; a `group` rule's action
# is a security group name ($security_group_name_pattern, at most 18 characters).
RULE_ACTIONS = ("ACCEPT", "DROP", "REJECT")
_GROUP = re.compile(r"^[A-Za-z][A-Za-z0-9_-]+$")
GROUP_NAME_MAX = 18
# Firewall.pm: $ip_alias_pattern (optionally dc/ or guest/ scoped) and +ipset references.
_ALIAS = re.compile(r"^(dc/|guest/)?[A-Za-z][A-Za-z0-9_-]+$")
_IPSET = re.compile(r"^\+(dc/|guest/)?[A-Za-z][A-Za-z0-9_-]+$")
# pve_fw_verify_protocol_spec: a protocol name from /etc/protocols or a number 0-255.
_PROTO = re.compile(r"^([a-z][a-z0-9-]*|[0-9]{1,3})$", re.IGNORECASE)
# Port names come from the node's /etc/services, which phoenix cannot read at load time.
_SERVICE = re.compile(r"^[a-z][a-z0-9_+.-]*$", re.IGNORECASE)
#: parse_port_name_number_or_range: "too many entries in port list (> 15 numbers)".
PORT_LIST_MAX = 15


def enum(*values: str) -> Check:
    def test(value: str) -> str | None:
        return None if value in values else f"expected one of {', '.join(values)}, got {value!r}"

    return Check(test, {"enum": list(values)})


def macro_problem(value: str) -> str | None:
    if value.lower() not in FIREWALL_MACROS:
        return f"unknown firewall macro {value!r} (pve-firewall knows e.g. SSH, HTTP, DNS, Ping)"
    return None


def macro() -> Check:
    return Check(macro_problem)


def ports_problem(value: str) -> str | None:
    """pve-firewall parse_port_name_number_or_range: ``80``, ``8000:8100``, service names,
    comma-separated, each number at most 65535, ranges ascending, at most 15 numbers."""
    count = 0
    for item in value.split(","):
        low, colon, high = item.partition(":")
        if not colon and _SERVICE.match(item):
            continue
        numbers = [low, high] if colon else [low]
        if not all(n.isascii() and n.isdigit() and int(n) <= 65535 for n in numbers):
            return f"invalid port {item!r} (a number 0-65535, a range a:b or a service name)"
        if colon and int(low) > int(high):
            return f"backwards range {item!r} not allowed, did you mean '{high}:{low}'?"
        count += len(numbers)
    if count > PORT_LIST_MAX:
        return f"too many entries in port list (> {PORT_LIST_MAX} numbers)"
    return None


def ports() -> Check:
    return Check(ports_problem)


def address_problem(value: str) -> str | None:
    """pve-firewall parse_address_list: an +ipset, an alias, or a comma-separated list of
    addresses, CIDRs and ranges ``a-b``."""
    if _IPSET.match(value) or _ALIAS.match(value):
        return None
    for item in value.split(","):
        for end in item.split("-", 1):
            address = end.split("/", 1)[0]
            if ip_problem(address):
                return f"not an address, CIDR, range, alias or +ipset: {item!r}"
    return None


def address() -> Check:
    return Check(address_problem)


def proto() -> Check:
    def test(value: str) -> str | None:
        if not _PROTO.match(value) or (value.isdigit() and int(value) > 255):
            return f"not a protocol name or number 0-255: {value!r}"
        return None

    return Check(test)


def firewall_iface() -> Check:
    # Firewall.pm verify_rule: on a guest "value does not match the regex pattern 'net\d+'".
    def test(value: str) -> str | None:
        return (
            None
            if re.match(r"^net\d+$", value)
            else f"expected netN (net0, net1 ...), got {value!r}"
        )

    return Check(test, {"pattern": r"^net\d+$"})


def rule_action_problem(kind: str, action: str) -> str | None:
    """The action a rule of ``kind`` may take (pve-firewall Firewall.pm verify_rule)."""
    if kind == "group":
        if len(action) > GROUP_NAME_MAX or not _GROUP.match(action):
            return f"not a security group name (a letter, then letters, digits, '-', '_'; at most {GROUP_NAME_MAX}): {action!r}"
        return None
    if action not in RULE_ACTIONS:
        return (
            f"unknown action {action!r} for an {kind!r} rule (expected {', '.join(RULE_ACTIONS)})"
        )
    return None


def ipv6_config_problem(value: str) -> str | None:
    """pve-common JSONSchema.pm pve-ipv6-config: ``auto``, ``dhcp``, ``manual`` or CIDRv6,
    whose prefix must be 8-128 (pve_verify_cidrv6: ``$1 > 7 && $1 <= 128``)."""
    if value in ("auto", "dhcp", "manual"):
        return None
    address, slash, prefix = value.partition("/")
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return f"not an IPv6 address with a prefix length (like fd00::5/64), auto, dhcp or manual: {value!r}"
    if not slash or not prefix.isdigit() or not 8 <= int(prefix) <= 128:
        return f"IPv6 prefix length must be between 8 and 128: {value!r}"
    return None


def ipv6_config() -> Check:
    return Check(ipv6_config_problem)


def ipv6_problem(value: str) -> str | None:
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return f"not an IPv6 address: {value!r}"
    return None


def ipv6() -> Check:
    return Check(ipv6_problem)


# pve-common JSONSchema.pm: $PVE_TAG_RE = qr/[a-z0-9_][a-z0-9_\-\+\.]*/i, format pve-tag.
_TAG = re.compile(r"^[a-z0-9_][a-z0-9_+.-]*$", re.IGNORECASE)


def tag_problem(value: str) -> str | None:
    if value.lower().startswith("phoenix-built-"):
        return f"phoenix-built-<id> is the tag phoenix marks a finished build with: {value!r}"
    if not _TAG.match(value):
        return (
            "not a Proxmox tag (pve-tag: a letter, digit or '_', then letters, digits, "
            f"'_', '-', '+' or '.'): {value!r}"
        )
    return None


def tag() -> Check:
    return Check(tag_problem, {"pattern": _TAG.pattern})


# pve-common JSONSchema.pm pve_verify_dns_name (format dns-name, and dns-name-list for a
# container's searchdomain): dot-separated labels of letters, digits and inner '-'.
_DNS_NAME = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$"
)


def dns_names_problem(value: str) -> str | None:
    """A space-separated list of DNS names (phoenix's spelling of dns-name-list)."""
    names = value.split()
    if not names:
        return "must name at least one domain"
    bad = [name for name in names if not _DNS_NAME.match(name)]
    return f"not a DNS name: {bad[0]!r}" if bad else None


def dns_names() -> Check:
    return Check(dns_names_problem)


# pve-container LXC/Config.pm verify_ct_timezone: `host`, else pve_verify_timezone (`UTC` or a
# zone of the node's /usr/share/zoneinfo/zone.tab, which only the node can answer): the shape
# of a zone name is checked here, its existence by pct.
_ZONE = re.compile(r"^(host|UTC|[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)+)$")


def timezone_problem(value: str) -> str | None:
    if not _ZONE.match(value):
        return f"not a time zone (host, UTC or an Area/Location name like Europe/Berlin): {value!r}"
    return None


def timezone() -> Check:
    return Check(timezone_problem, {"pattern": _ZONE.pattern})


#: pve-container LXC/Config.pm and qemu-server QemuServer.pm $confdesc: ``description``
#: maxLength 8 KiB (Proxmox keeps it as ``#`` lines of the conf file).
DESCRIPTION_MAX = 8192


def description_problem(value: str) -> str | None:
    if len(value.encode()) > DESCRIPTION_MAX:
        return f"longer than the {DESCRIPTION_MAX} bytes Proxmox keeps"
    return None


def description() -> Check:
    return Check(description_problem)
