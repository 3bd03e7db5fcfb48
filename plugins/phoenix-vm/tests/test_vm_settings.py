# ruff: noqa: F811 - pytest fixtures imported from vm_support are used as arguments
"""A VM's tags, description, protection and IPv6 address: set, shown by ``qm config``, and
their drift repaired by one ``qm set``."""

from __future__ import annotations

from pathlib import Path

from vm_support import Cli, cli, edit_vm, mutations, original, vm_node  # noqa: F401


def test_vm_settings_are_set_and_kept(cli: Cli, original: Path) -> None:
    edit_vm(
        original,
        1001,
        dependencies=[],
        tags=["docker", "Prod"],
        description="Docker host\nowned by ops",
        protection=True,
        network_config={
            "ip": "10.0.0.111/24",
            "gw": "10.0.0.1",
            "ip6": "fd00::111/64",
            "gw6": "fd00::1",
        },
    )
    result = cli("--config-dir", str(original), "converge", "9000", "1001")
    assert result.exit_code == 0, result.output
    config = cli.node.run(["qm", "config", "1001"]).stdout.splitlines()
    assert "tags: docker;phoenix-built-1001;prod" in config, "|".join(config)
    assert "description: Docker host%0Aowned by ops" in config
    assert "protection: 1" in config
    assert "ipconfig0: ip=10.0.0.111/24,gw=10.0.0.1,ip6=fd00::111/64,gw6=fd00::1" in config
    mark = cli.node.mark()
    assert cli("--config-dir", str(original), "converge", "1001").exit_code == 0
    assert mutations(cli.node.since(mark)) == []
    cli.node.run(["qm", "set", "1001", "--tags", "docker", "--delete", "protection"], check=True)
    mark = cli.node.mark()
    result = cli("--config-dir", str(original), "converge", "1001")
    assert result.exit_code == 0, result.output
    changed = mutations(cli.node.since(mark))
    assert changed[0][:3] == ["qm", "set", "1001"] and "--protection" in changed[0]
    assert "tags: docker;phoenix-built-1001;prod" in cli.node.run(["qm", "config", "1001"]).stdout
