"""What a booted cloud image answers about itself: cloud-init's status and the guest agent's
network interfaces, as they are on an Ubuntu cloud image that Proxmox's cloud-init drive
configured (a NoCloud seed on the drive's CD-ROM)."""

from __future__ import annotations

import ipaddress
import zlib

from .result import Result

#: canonical/cloud-init cloudinit/cmd/status.py TABULAR_LONG_TMPL (cloud-init >= 23.4), for a
#: boot that finished without errors: translate_status gives "done"/"done", get_bootstatus
#: "enabled-by-generator", get_description the datasource, DataSourceNoCloud.__str__ with
#: its seed (the cloud-init drive) and no [dsmode=] for the default "net". No last_update line:
#: print_status leaves it out when no event time is known, and the simulator keeps none.
CLOUD_INIT_LONG = """\
status: done
extended_status: done
boot_status_code: enabled-by-generator
detail: DataSourceNoCloud [seed=/dev/sr0]
errors: []
recoverable_errors: {}
"""


def cloud_init_status(argv: list[str]) -> Result | None:
    """`cloud-init status [--wait] [--long]` of a boot that is done (exit 0, handle_status_args),
    None for any other command."""
    if argv[:2] != ["cloud-init", "status"] or not set(argv[2:]) <= {"--wait", "--long", "-w"}:
        return None
    return Result(0, CLOUD_INIT_LONG if "--long" in argv else "status: done\n")


def _props(value: object) -> dict[str, str]:
    return dict(p.split("=", 1) for p in str(value or "").split(",") if "=" in p)


def dhcp_address(vmid: int, mac: str) -> ipaddress.IPv4Interface:
    """The lease a DHCP server on 192.0.2.0/24 (documentation range) would hand this NIC:
    stable for a MAC, distinct between VMs."""
    host = 10 + zlib.crc32(f"{vmid}-{mac}".encode()) % 240
    return ipaddress.IPv4Interface(f"192.0.2.{host}/24")


def _link_local(mac: str) -> str:
    """The EUI-64 IPv6 link-local address the kernel gives a NIC with this MAC."""
    octets = [int(x, 16) for x in mac.split(":")] if mac.count(":") == 5 else [0] * 6
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)


def interfaces(vmid: int, config: dict[str, object]) -> list[dict[str, object]]:
    """The guest agent's guest-network-get-interfaces of a cloud-init configured guest, in
    the shape qemu-server's `qm guest cmd` prints it (src/PVE/CLI/qm.pm $print_agent_result):
    `lo`, then `ethN` per `netN` with its MAC, ipconfigN's static address (or a DHCP lease),
    and the IPv6 link-local address Linux gives every NIC (kernel behaviour, not read in
    source here; the real-node review notes qemu-ga reports it, and phoenix skips it)."""
    found: list[dict[str, object]] = [
        {
            "name": "lo",
            "hardware-address": "00:00:00:00:00:00",
            "ip-addresses": [
                {"ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8},
                {"ip-address": "::1", "ip-address-type": "ipv6", "prefix": 128},
            ],
        }
    ]
    for index in sorted(int(k[3:]) for k in config if k.startswith("net") and k[3:].isdigit()):
        net = str(config[f"net{index}"])
        model = net.split(",")[0]
        mac = model.partition("=")[2].lower()
        ip = _props(config.get(f"ipconfig{index}")).get("ip", "")
        if ip == "dhcp":
            address = dhcp_address(vmid, mac)
        elif "/" in ip:
            address = ipaddress.IPv4Interface(ip)
        else:
            address = None
        entries: list[dict[str, object]] = []
        if address is not None:
            entries.append(
                {
                    "ip-address": str(address.ip),
                    "ip-address-type": "ipv4",
                    "prefix": address.network.prefixlen,
                }
            )
        entries.append({"ip-address": _link_local(mac), "ip-address-type": "ipv6", "prefix": 64})
        found.append({"name": f"eth{index}", "hardware-address": mac, "ip-addresses": entries})
    return found
