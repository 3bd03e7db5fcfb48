"""Guest OS facts Proxmox writes into a container at start, and the tools that read them.

pve-container src/PVE/LXC/Setup/Base.pm `pre_start_hook` (`set_hostname`, `update_etc_hosts`,
`set_dns`, `ct_modify_file`), Debian.pm `setup_network`, Base.pm `setup_systemd_networkd`
(Ubuntu.pm); iproute2 ip/ipaddress.c `print_addrinfo`; glibc nss/getent.c `hosts_keys`;
dnsmasq src/option.c `host-record`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pve_sim.fixture import SimNode

DEFAULT_SEED = Path(__file__).resolve().parents[1] / "seeds" / "default.json"

DEBIAN = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
UBUNTU = "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
NET = "name=eth0,bridge=vmbr0,ip=10.0.0.5/24,gw=10.0.0.1"


def _started(node: SimNode, vmid: int, template: str, *options: str) -> None:
    argv = ["pct", "create", str(vmid), template, "--rootfs", "local-lvm:4", "--unprivileged", "1"]
    created = node.run([*argv, *options])
    assert created.returncode == 0, created.stderr
    assert node.run(["pct", "start", str(vmid)]).returncode == 0


def _in(node: SimNode, vmid: int, *argv: str) -> tuple[int, str, str]:
    proc = node.run(["pct", "exec", str(vmid), "--", *argv])
    return proc.returncode, proc.stdout, proc.stderr


def test_start_writes_hostname_hosts_resolver_and_network(node: SimNode) -> None:
    options = ("--hostname", "web", "--net0", NET, "--nameserver", "10.0.0.1 10.0.0.2")
    _started(node, 510, DEBIAN, *options, "--searchdomain", "lab.example")
    files = {p: node.guest_path(510, p).read_text() for p in ("etc/hostname", "etc/hosts")}
    assert files["etc/hostname"] == "web\n"
    assert files["etc/hosts"] == (
        "# --- BEGIN PVE ---\n127.0.0.1 localhost.localnet localhost\n"
        "::1 localhost.localnet localhost\n10.0.0.5 web.lab.example web\n# --- END PVE ---\n"
    )
    assert node.guest_path(510, "etc/resolv.conf").read_text() == (
        "# --- BEGIN PVE ---\nsearch lab.example\nnameserver 10.0.0.1\nnameserver 10.0.0.2\n"
        "# --- END PVE ---\n"
    )
    assert node.guest_path(510, "etc/network/interfaces").read_text() == (
        "auto eth0\niface eth0 inet static\n\taddress 10.0.0.5/24\n\tgateway 10.0.0.1\n\n"
    )


def test_ubuntu_gets_systemd_networkd_and_the_hosts_resolver(node: SimNode) -> None:
    # No nameserver/searchdomain: the host's /etc/resolv.conf (as pve-installer wrote it).
    _started(node, 511, UBUNTU, "--hostname", "app", "--net0", NET)
    assert node.guest_path(511, "etc/systemd/network/eth0.network").read_text() == (
        "[Match]\nName = eth0\n\n[Network]\nDescription = Interface eth0 autoconfigured by PVE\n"
        "Address = 10.0.0.5/24\nGateway = 10.0.0.1\nDHCP = no\nIPv6AcceptRA = false\n"
    )
    assert "10.0.0.5 app.example.invalid app\n" in node.guest_path(511, "etc/hosts").read_text()
    resolv = node.guest_path(511, "etc/resolv.conf").read_text()
    assert "search example.invalid\nnameserver 192.168.100.1\n" in resolv


def test_ip_addr_shows_the_configured_static_addresses(node: SimNode) -> None:
    _started(node, 512, DEBIAN, "--hostname", "ip", "--net0", NET)
    assert _in(node, 512, "ip", "-o", "-4", "addr", "show", "dev", "eth0") == (
        0,
        "2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft "
        "forever preferred_lft forever\n",
        "",
    )
    rc, out, _ = _in(node, 512, "ip", "-o", "addr")
    assert rc == 0 and out.splitlines()[0].startswith("1: lo    inet 127.0.0.1/8 scope host lo")
    assert _in(node, 512, "ip", "-o", "addr", "show", "dev", "eth9") == (
        1,
        "",
        'Device "eth9" does not exist.\n',
    )


def test_getent_hosts_answers_from_hosts_and_exits_2_when_nothing_is_found(
    node: SimNode,
) -> None:
    _started(node, 513, DEBIAN, "--hostname", "Web", "--net0", NET, "--searchdomain", "lab")
    assert _in(node, 513, "getent", "hosts", "--", "web") == (
        0,
        "10.0.0.5        Web.lab Web\n",
        "",
    )
    assert _in(node, 513, "getent", "hosts", "10.0.0.5")[0] == 0
    # A search domain is not a name: nothing resolves it, and glibc's getent exits 2.
    assert _in(node, 513, "getent", "hosts", "--", "lab") == (2, "", "")
    assert _in(node, 513, "getent", "nosuchdb", "x") == (1, "", "Unknown database: nosuchdb\n")


def test_the_nodes_dnsmasq_answers_containers_that_use_it(pve_node: SimNode) -> None:
    node = pve_node
    assert node.run(["apt-get", "install", "-y", "dnsmasq"]).returncode == 0
    (node.dir / "etc" / "dnsmasq.d" / "lab.conf").write_text(
        "listen-address=10.0.0.1\nhost-record=db.lab.example,10.0.0.9\naddress=/nas.lab/10.0.0.8\n"
    )
    _started(node, 514, DEBIAN, "--hostname", "c", "--net0", NET, "--nameserver", "10.0.0.1")
    _started(node, 515, DEBIAN, "--hostname", "d", "--net0", NET, "--nameserver", "8.8.8.8")
    assert _in(node, 514, "getent", "hosts", "db.lab.example")[:2] == (
        0,
        "10.0.0.9        db.lab.example\n",
    )
    assert _in(node, 514, "getent", "hosts", "nas.lab")[0] == 0
    # Another nameserver (the simulator reaches no other DNS server) does not know the name.
    assert _in(node, 515, "getent", "hosts", "db.lab.example")[0] == 2
    assert node.run(["systemctl", "stop", "dnsmasq.service"]).returncode == 0
    assert _in(node, 514, "getent", "hosts", "db.lab.example")[0] == 2


def test_pve_ignore_files_are_left_alone_and_reboot_rewrites(node: SimNode) -> None:
    _started(node, 516, DEBIAN, "--hostname", "keep", "--net0", NET)
    node.guest_path(516, "etc/.pve-ignore.hosts").write_text("")
    node.guest_path(516, "etc/hosts").write_text("10.9.9.9 mine\n")
    assert node.run(["pct", "set", "516", "--hostname", "renamed"]).returncode == 0
    assert node.run(["pct", "reboot", "516"]).returncode == 0
    assert node.guest_path(516, "etc/hosts").read_text() == "10.9.9.9 mine\n"
    assert node.guest_path(516, "etc/hostname").read_text() == "renamed\n"


def test_gpu_mount_entries_are_devices_only_when_the_node_has_them(node: SimNode) -> None:
    # lxc conf.c mount_entry_on_generic: create=file makes an empty file first; an optional
    # bind of a missing source leaves just that file. lxc-pve-autodev-hook passes devN in.
    _started(node, 517, DEBIAN, "--hostname", "gpu", "--dev0", "/dev/dri/renderD128")
    assert node.run(["pct", "stop", "517"]).returncode == 0
    conf = node.conf(517)
    entries = [
        "lxc.mount.entry: /dev/nvidia0 dev/nvidia0 none bind,optional,create=file",
        "lxc.mount.entry: /dev/dri/card0 dev/dri/card0 none bind,optional,create=file",
    ]
    conf.write_text(conf.read_text() + "".join(f"{line}\n" for line in entries))
    assert node.run(["pct", "start", "517"]).returncode == 0
    # No NVIDIA driver loaded on this node: only the placeholder file is there.
    assert _in(node, 517, "test", "-e", "/dev/nvidia0")[0] == 0
    assert _in(node, 517, "test", "-c", "/dev/nvidia0")[0] == 1
    assert _in(node, 517, "test", "-c", "/dev/dri/card0")[0] == 0
    assert _in(node, 517, "test", "-f", "/dev/dri/card0")[0] == 1
    assert _in(node, 517, "test", "-c", "/dev/dri/renderD128")[0] == 0


def test_a_loaded_nvidia_driver_gives_each_gpu_its_device(
    pve_node_factory: Callable[..., SimNode], tmp_path: Path
) -> None:
    seed = json.loads(DEFAULT_SEED.read_text())
    gpu = {"class": "0300", "vendor": "10de", "device": "2204"}
    seed["host"] = {"pci": [{"slot": "01:00.0", **gpu}], "nvidia": "570.86.15"}
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    node = pve_node_factory(seed=tmp_path / "seed.json")
    _started(node, 518, DEBIAN, "--hostname", "gpu")
    assert node.run(["pct", "stop", "518"]).returncode == 0
    entries = [
        f"/dev/{d} dev/{d} none bind,optional,create=file"
        for d in ("nvidiactl", "nvidia0", "nvidia1")
    ]
    conf = node.conf(518)
    conf.write_text(conf.read_text() + "".join(f"lxc.mount.entry: {e}\n" for e in entries))
    assert node.run(["pct", "start", "518"]).returncode == 0
    assert _in(node, 518, "test", "-c", "/dev/nvidiactl")[0] == 0
    assert _in(node, 518, "test", "-c", "/dev/nvidia0")[0] == 0
    assert _in(node, 518, "test", "-c", "/dev/nvidia1")[0] == 1  # one GPU: nvidia0 only
