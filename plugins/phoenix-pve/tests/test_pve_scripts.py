"""The script runner works through any Shell: here an in-memory guest behind the agent-like
shell interface, so the VM manager can reuse it as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phoenix_core.errors import PhoenixError
from phoenix_core.testing import RecordingHost
from phoenix_pve import scripts
from phoenix_pve.guest import VIRTUAL_MACHINE
from phoenix_pve.live import Live
from phoenix_pve.shell import Shell, ShellResult

RUN = scripts.RUN_DIR


class FakeGuest(Shell):
    """A Shell whose files live in a dict; ``fail`` makes a command exit 1."""

    where = "VM 9000"

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}
        self.ran: list[list[str]] = []
        self.fail: set[str] = set()

    def execute(
        self, argv: list[str], timeout: float | None, readonly: bool, stdin: str | None = None
    ) -> ShellResult:
        self.ran.append(argv)
        if argv[0] == "cat":
            data = self.files.get(argv[1])
            return ShellResult("cat", 0 if data else 1, data[0].decode() if data else "")
        return ShellResult(" ".join(argv), 1 if argv[-1] in self.fail else 0, stderr="bad\n")

    def push(self, data: bytes, path: str, *, mode: int) -> None:
        self.files[path] = (data, mode)


@pytest.fixture
def search(tmp_path: Path) -> scripts.SearchPath:
    (tmp_path / "features" / "vm").mkdir(parents=True)
    (tmp_path / "features" / "vm" / "docker.sh").write_text("echo docker\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "app.sh").write_text("echo app\n")
    return scripts.SearchPath(tmp_path, "vm")


class Spec:
    features = ("docker",)
    application_script = "app.sh"
    health_check = None
    health_checks = ()


def _steps(
    guest: FakeGuest,
    search: scripts.SearchPath,
    payload: bytes = b"{}",
    rerun: frozenset[str] = frozenset(),
    vmid: int = 9000,
) -> tuple[Live, list]:
    host = RecordingHost().on(["qm", "status"], stdout="status: running\n")
    live = Live(host, VIRTUAL_MACHINE, vmid, "/etc/pve")
    found = scripts.resolve_all(Spec(), search)
    runner = scripts.Runner(live, guest, payload, {"PHOENIX_VMID": str(vmid)})
    steps = scripts.steps(
        live,
        guest,
        found,
        runner,
        app_args=[str(vmid)],
        skip=lambda: False,
        rerun=lambda name: name in rerun or "all" in rerun,
    )
    return live, steps


def _converge(steps: list) -> list[str]:
    """Check and apply every step; the names of the scripts that ran."""
    ran = []
    for step in steps:
        changes = step.check()
        step.apply(changes)
        ran += [c.data.name for c in changes]
    return ran


def test_the_vm_search_path_is_used() -> None:
    paths = scripts.SearchPath(Path("/c"), "vm", Path("/shipped"))
    assert paths.features("x") == [
        Path("/c/features/vm/x.sh"),
        Path("/c/scripts/x.sh"),
        Path("/shipped/x.sh"),
    ]
    assert Path("/c/features/vm/f") in paths.files("f")


def test_scripts_run_once_per_content_through_the_shell(search: scripts.SearchPath) -> None:
    guest = FakeGuest()
    _, steps = _steps(guest, search)
    for step in steps:
        changes = step.check()
        assert [c.after for c in changes] == ["run"]
        step.apply(changes)
    runs = [argv for argv in guest.ran if argv[0] == "env"]
    assert runs == [
        ["env", "PHOENIX_VMID=9000", "PHOENIX_FEATURE=docker", "/bin/bash", f"{RUN}/docker.sh"],
        [
            "env",
            "PHOENIX_VMID=9000",
            "PHOENIX_FEATURE=app.sh",
            "/bin/bash",
            f"{RUN}/app.sh",
            "9000",
        ],
    ]
    state = json.loads(guest.files[scripts.STATE_FILE][0])
    assert set(state) == {"features", "applications", "guest", "version"}
    assert state["guest"] == 9000
    assert guest.files[scripts.STATE_FILE][1] == 0o600
    _, again = _steps(guest, search)
    assert [s.check() for s in again] == [[], []]


def test_private_env_travels_in_a_0600_file_never_in_argv(search: scripts.SearchPath) -> None:
    guest = FakeGuest()
    host = RecordingHost().on(["qm", "status"], stdout="status: running\n")
    live = Live(host, VIRTUAL_MACHINE, 9000, "/etc/pve")
    url = "https://ca:pa55@10.0.0.10:9000"
    runner = scripts.Runner(
        live,
        guest,
        b"{}",
        {"PHOENIX_VMID": "9000"},
        {"PHOENIX_BOOTSTRAP_CA_URL": url, "QUOTED": "it's"},
    )
    steps = scripts.steps(
        live, guest, scripts.resolve_all(Spec(), search), runner, app_args=[], skip=lambda: False
    )
    steps[0].apply(steps[0].check())
    assert guest.files[scripts.ENV_FILE] == (
        f"export PHOENIX_BOOTSTRAP_CA_URL={url}\nexport QUOTED='it'\"'\"'s'\n".encode(),
        0o600,
    )
    run = next(argv for argv in guest.ran if argv[0] == "env")
    assert run[-4:] == ["-c", '. "$0" && exec /bin/bash "$@"', scripts.ENV_FILE, f"{RUN}/docker.sh"]
    assert not any("pa55" in arg for argv in guest.ran for arg in argv)


def test_a_new_guest_json_reruns_nothing_a_new_script_content_reruns_it(
    search: scripts.SearchPath,
) -> None:
    guest = FakeGuest()
    assert _converge(_steps(guest, search)[1]) == ["docker", "app.sh"]
    # A memory change changes the guest JSON the scripts see: no script runs for it.
    assert _converge(_steps(guest, search, payload=b'{"memory_mb": 4096}')[1]) == []
    (search.config_dir / "features" / "vm" / "docker.sh").write_text("echo docker v2\n")
    _, steps = _steps(guest, search)
    assert [(c.what, c.before) for c in steps[0].check()] == [("feature docker", "changed")]
    assert _converge(steps) == ["docker"]


def test_a_rerun_is_asked_by_name_or_all(search: scripts.SearchPath) -> None:
    guest = FakeGuest()
    _converge(_steps(guest, search)[1])
    _, steps = _steps(guest, search, rerun=frozenset({"app.sh"}))
    assert [(c.what, c.before, c.after) for s in steps for c in s.check()] == [
        ("application script app.sh", "applied", "run again (asked)")
    ]
    assert _converge(_steps(guest, search, rerun=frozenset({"all"}))[1]) == ["docker", "app.sh"]


def test_a_record_of_another_guest_runs_every_script_once(search: scripts.SearchPath) -> None:
    # A clone inherits its source's /var/lib/phoenix/state.json along with its disk.
    guest = FakeGuest()
    _converge(_steps(guest, search)[1])
    assert _converge(_steps(guest, search, vmid=9001)[1]) == ["docker", "app.sh"]
    assert _converge(_steps(guest, search, vmid=9001)[1]) == []


def test_a_failing_script_names_the_guest_and_is_not_recorded(search: scripts.SearchPath) -> None:
    guest = FakeGuest()
    guest.fail.add(f"{scripts.RUN_DIR}/docker.sh")
    _, steps = _steps(guest, search)
    with pytest.raises(PhoenixError, match=r"script docker failed in VM 9000: .* exited 1: bad"):
        steps[0].apply(steps[0].check())
    assert scripts.STATE_FILE not in guest.files


def test_a_missing_script_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(PhoenixError, match="feature script 'docker' not found"):
        scripts.resolve_all(Spec(), scripts.SearchPath(tmp_path, "vm"))
