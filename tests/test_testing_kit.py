"""phoenix_core.testing, the kit for plugin authors: the recording host, configuration
directories, the in-process CLI, and its fixtures as a third party meets them (pytest11)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from phoenix_core.config import load_config
from phoenix_core.errors import HostError
from phoenix_core.hosts.base import CommandResult, Host
from phoenix_core.names import HYPERVISOR_FILE
from phoenix_core.testing import Command, RecordingHost, Reply, make_plugins
from phoenix_core.testing.plugin import PhoenixCli
from tests.support.fakenode import LAYOUTS, FakeNode, FakePlugin

pytest_plugins = ["pytester"]


def test_the_recording_host_is_a_host() -> None:
    assert isinstance(RecordingHost(), Host)


def test_unscripted_commands_get_the_default_answer() -> None:
    host = RecordingHost(default=Reply(127, stderr="not found"))
    result = host.query(["uname", "-r"])
    assert (result.argv, result.returncode, result.stderr) == (("uname", "-r"), 127, "not found")


def test_rules_match_a_prefix_or_a_predicate_and_the_latest_wins() -> None:
    host = RecordingHost()
    host.on(["systemctl"], stdout="inactive").on(["systemctl", "is-active", "ssh"], stdout="active")
    host.on(lambda argv: "--fail" in argv, returncode=3)
    assert host.query(["systemctl", "is-active", "ssh"]).stdout == "active"
    assert host.query(["systemctl", "is-active", "cron"]).stdout == "inactive"
    assert host.change(["systemctl", "restart", "--fail"]).returncode == 3


def test_an_answer_may_be_a_function_of_the_argv_and_may_raise() -> None:
    def echo(argv: tuple[str, ...]) -> CommandResult:
        return CommandResult(argv, 0, " ".join(argv[1:]))

    def lost(argv: tuple[str, ...]) -> Reply:
        raise HostError("connection lost")

    host = RecordingHost().on(["echo"], echo).on(["reboot"], lost)
    assert host.query(["echo", "a", 1]).stdout == "a 1"
    with pytest.raises(HostError, match="connection lost"):
        host.change(["reboot"])


def test_the_journal_says_what_ran_and_what_mutated() -> None:
    host = RecordingHost(files={"/etc/motd": "hi\n"})
    assert host.read_file("/etc/motd") == b"hi\n"
    host.query(["cat", "/etc/hostname"])
    host.change(["hostname", "pve"])
    host.write_file("/etc/motd", b"hello\n", mode=0o600)
    assert host.journal == [
        Command(("cat", "/etc/hostname"), False),
        Command(("hostname", "pve"), True),
        Command(("write", "/etc/motd"), True),
    ]
    assert host.mutations == [("hostname", "pve"), ("write", "/etc/motd")]
    assert host.queries == [("cat", "/etc/hostname")]
    assert (host.files["/etc/motd"], host.modes["/etc/motd"]) == (b"hello\n", 0o600)
    with pytest.raises(FileNotFoundError):
        host.read_file("/nowhere")


def test_a_sequence_of_replies_is_used_in_order_and_the_last_repeats() -> None:
    host = RecordingHost().on(["apt-get"], [Reply(100, stderr="locked"), Reply(1), Reply()])
    host.on(["systemctl"], [Reply(stdout="inactive")])
    codes = [host.change(["apt-get", "install", "-y", "nginx"]).returncode for _ in range(5)]
    assert codes == [100, 1, 0, 0, 0]
    assert [host.query(["systemctl", "is-active", u]).stdout for u in "ab"] == ["inactive"] * 2
    with pytest.raises(ValueError, match="at least one Reply"):
        host.on(["true"], [])


def test_the_journal_records_the_input_and_timeout_of_each_command() -> None:
    host = RecordingHost()
    host.change(["tee", "/etc/motd"], input="hello\n", timeout=30)
    host.query(["cat", "/etc/motd"], timeout=2.5)
    host.query(["true"])
    host.write_file("/etc/issue", b"x")
    assert host.journal == [
        Command(("tee", "/etc/motd"), True, input="hello\n", timeout=30),
        Command(("cat", "/etc/motd"), False, timeout=2.5),
        Command(("true",), False),
        Command(("write", "/etc/issue"), True),
    ]
    assert [(c.input, c.timeout) for c in host.journal] == [
        ("hello\n", 30),
        (None, 2.5),
        (None, None),
        (None, None),
    ]
    assert host.mutations == [("tee", "/etc/motd"), ("write", "/etc/issue")]


def test_the_config_dir_builder_writes_loadable_files(
    phoenix_config_dir: Callable[..., Path],
) -> None:
    directory = phoenix_config_dir(
        {"nodes": {"pve2": {"address": "10.0.0.2"}}},
        {"phoenix_lxc_configs.json": {"lxc_configs": {"101": {"name": "one"}}}},
    )
    assert (directory / HYPERVISOR_FILE).is_file()
    config = load_config(directory, make_plugins([FakePlugin("lxc")]))
    assert config.hypervisor.nodes["pve2"].address == "10.0.0.2"
    assert [g.name for g in config.guests.values()] == ["one"]
    assert phoenix_config_dir(name="empty").name == "empty"


def test_the_cli_runs_on_the_fake_host_and_parses_json(
    phoenix_cli: PhoenixCli, phoenix_host: RecordingHost, phoenix_config_dir: Callable[..., Path]
) -> None:
    guests = {"101": {"name": "here", "memory_mb": 1024}, "102": {"name": "there", "node": "n"}}
    directory = phoenix_config_dir(files={LAYOUTS["lxc"].file: {"lxc_configs": guests}})
    phoenix_host.on(["pct", "status"], returncode=2, stderr="does not exist")
    node = FakeNode()
    plugins = [FakePlugin("lxc")]

    plan = phoenix_cli("plan", "101", "-o", "json", config_dir=directory, plugins=plugins)
    assert plan.exit_code == 0, plan.output
    assert [o["status"] for o in plan.json["outcomes"]] == ["planned"]
    assert phoenix_host.queries == [("pct", "status", "101"), ("pct", "config", "101")]
    assert phoenix_host.mutations == []

    def converge() -> list[tuple[str, ...]]:
        before = len(node.mutations)
        result = phoenix_cli(
            "converge", "102", config_dir=directory, plugins=plugins, nodes={"n": node}
        )
        assert result.exit_code == 0 and result.json is None, result.output
        return node.mutations[before:]

    # 102 lives on node "n": its commands go to that host, none to the default one.
    assert converge()[0] == ("pct", "create", "102", "--hostname", "there")
    assert converge() == []
    assert phoenix_host.mutations == []


def test_the_kit_fixtures_reach_a_third_party_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_third_party=textwrap.dedent('''
            import click
            import pytest

            from phoenix_core.hookspecs import hookimpl


            class Plugin:
                @hookimpl
                def phoenix_register_commands(self, cli):
                    @cli.command()
                    def touch():
                        """Touch a file on the node."""
                        app = click.get_current_context().obj
                        app.hosts.for_node(None).change(["touch", "/srv/mark"]).check()
                        click.echo(f"touched on {app.config.hypervisor.version}")


            @pytest.fixture
            def phoenix_plugins():
                return [Plugin()]


            def test_registered(pytestconfig):
                plugin = pytestconfig.pluginmanager.get_plugin("phoenix")
                assert plugin.__name__ == "phoenix_core.testing.plugin"


            def test_verb(phoenix_cli, phoenix_host, phoenix_config_dir):
                directory = phoenix_config_dir({"version": "lab"})
                result = phoenix_cli("touch", config_dir=directory)
                assert (result.exit_code, result.stdout) == (0, "touched on lab\\n"), result.output
                assert phoenix_host.mutations == [("touch", "/srv/mark")]
        ''')
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_kit_changes_nothing_in_tests_that_do_not_ask_for_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin loads in every pytest run of an environment holding phoenix-core: another
    project's tests must see their environment untouched (no autouse fixture), while the
    kit's fixtures stay available by name."""
    monkeypatch.delenv("PHOENIX_LOCK_DIR", raising=False)  # this repository's own autouse
    pytester.makepyfile(
        test_other_project=textwrap.dedent("""
            import os


            def test_environment_untouched():
                assert "PHOENIX_LOCK_DIR" not in os.environ


            def test_the_lock_dir_fixture_by_name(phoenix_lock_dir):
                assert os.environ["PHOENIX_LOCK_DIR"] == str(phoenix_lock_dir)
        """)
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_phoenix_help_does_not_import_the_kit() -> None:
    code = (
        "import sys\nfrom phoenix_core.cli import main\nmain(['--help'])\n"
        "print('phoenix_core.testing' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "False", result.stderr
