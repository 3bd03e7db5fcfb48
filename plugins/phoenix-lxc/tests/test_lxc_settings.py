# ruff: noqa: F811 - pytest fixtures imported from lxc_support are used as arguments
"""The settings real containers carry (tags, description, time zone, devices, IPv6, search
domain, protection, root's keys and password): created with the container, shown by
``pct config``, and their drift repaired by one ``pct set``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from lxc_support import SEED, Cli, base_ct, cli, mutations, write_lxc  # noqa: F401

pytestmark = pytest.mark.pve_sim(seed=str(SEED))

PASSWORD = "correct-horse-battery"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2VrZXlmb3J0ZXN0cw admin@laptop"


def _settings(tmp_path: Path) -> dict[str, Any]:
    secret = tmp_path / "root.pw"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    keys = tmp_path / "id.pub"
    keys.write_text(KEY + "\n")
    return {
        "tags": ["web", "Media"],
        "description": "Jellyfin\n-- managed by phoenix",
        "timezone": "Europe/Berlin",
        "devices": [{"path": "/dev/dri/renderD128", "gid": 44, "mode": "0660"}],
        "protection": True,
        "root_password_file": str(secret),
        "ssh_public_keys_file": str(keys),
    }


def _etc(cli: Cli, tmp_path: Path, **extra: Any) -> Path:
    ct = base_ct("media", "10.0.9.1/24", "52:54:00:00:09:01", **extra)
    ct["network_config"].update(ip6="fd00:9::1/64", gw6="fd00:9::fffe", searchdomain="lan.example")
    return write_lxc(tmp_path / "etc", {"809": ct})


def _converge(cli: Cli, etc: Path) -> list[list[str]]:
    mark = cli.node.mark()
    result = cli("--config-dir", str(etc), "converge", "809")
    assert result.exit_code == 0, result.output
    return mutations(cli.node.since(mark))


def test_settings_are_created_shown_and_kept(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(cli, tmp_path, **_settings(tmp_path))
    created = _converge(cli, etc)
    create = next(argv for argv in created if argv[:2] == ["pct", "create"])
    assert create[-1] == "--password"  # the value comes on stdin
    assert "--ssh-public-keys" in create
    config = cli.node.run(["pct", "config", "809"]).stdout.splitlines()
    assert "tags: media;phoenix-built-809;web" in config  # with the build mark (built.py)
    assert "timezone: Europe/Berlin" in config
    assert "dev0: /dev/dri/renderD128,gid=44,mode=0660" in config
    assert "description: Jellyfin%0A-- managed by phoenix" in config
    assert "protection: 1" in config
    assert "searchdomain: lan.example" in config
    net0 = next(line for line in config if line.startswith("net0:"))
    assert "ip6=fd00:9::1/64" in net0 and "gw6=fd00:9::fffe" in net0
    shadow = cli.node.guest_path(809, "/etc/shadow").read_text()
    assert hashlib.sha256(PASSWORD.encode()).hexdigest() in shadow
    assert cli.node.guest_path(809, "/root/.ssh/authorized_keys").read_text() == KEY + "\n"
    # The password is on no command line, in no log and in no JSON document.
    assert PASSWORD not in json.dumps(cli.node.journal())
    assert all(PASSWORD not in p.read_text() for p in cli.log_dir.rglob("*") if p.is_file())
    plan = cli("--config-dir", str(etc), "plan", "809", "-o", "json")
    assert PASSWORD not in plan.output
    assert _converge(cli, etc) == []


def test_drift_in_each_setting_is_one_set(cli: Cli, tmp_path: Path) -> None:
    etc = _etc(cli, tmp_path, **_settings(tmp_path))
    _converge(cli, etc)
    for argv in (
        [
            "pct",
            "set",
            "809",
            "--tags",
            "other;phoenix-built-809",
            "--timezone",
            "UTC",
            "--protection",
            "0",
        ],
        ["pct", "set", "809", "--description", "edited by hand", "--searchdomain", "x.example"],
        ["pct", "set", "809", "--dev0", "/dev/dri/card0", "--dev1", "/dev/fuse"],
    ):
        assert cli.node.run(argv).returncode == 0
    repaired = _converge(cli, etc)
    assert len(repaired) == 1 and repaired[0][:3] == ["pct", "set", "809"], repaired
    assert repaired[0][-2:] == ["--delete", "dev1"]
    config = cli.node.run(["pct", "config", "809"]).stdout
    for line in ("tags: media;phoenix-built-809;web", "timezone: Europe/Berlin", "protection: 1"):
        assert line in config.splitlines()
    assert "dev1" not in config
    assert _converge(cli, etc) == []


def test_an_open_password_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    Path(settings["root_password_file"]).chmod(0o644)
    etc = _etc(cli, tmp_path, root_password_file=settings["root_password_file"])
    mark = cli.node.mark()
    result = cli("--config-dir", str(etc), "converge", "809")
    assert result.exit_code == 1
    assert "mode 0644" in result.output and "chmod 600" in result.output
    assert mutations(cli.node.since(mark)) == []


@pytest.mark.parametrize(
    ("extra", "where", "message"),
    [
        ({"tags": ["ok", "bad tag"]}, "tags[1]", "not a Proxmox tag"),
        ({"timezone": "Berlin"}, "timezone", "not a time zone"),
        ({"devices": [{"path": "/srv/x"}]}, "devices[0].path", "not a device under /dev"),
        ({"devices": [{"path": "/dev/fuse", "mode": "666"}]}, "devices[0].mode", "octal"),
    ],
)
def test_bad_settings_are_config_errors(
    cli: Cli, tmp_path: Path, extra: dict[str, Any], where: str, message: str
) -> None:
    etc = _etc(cli, tmp_path, **extra)
    mark = cli.node.mark()
    result = cli.subprocess("--config-dir", str(etc), "plan", "809")
    assert result.returncode == 2, result.stderr
    assert f"lxc_configs.809.{where}" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.node.since(mark) == []
