"""The ``phoenix`` command line: the root group, global options and the core verbs."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from phoenix_core import __version__
from phoenix_core.app import App
from phoenix_core.errors import ConfigError, PhoenixError, UsageError
from phoenix_core.manager import VerbOptions
from phoenix_core.names import DEFAULT_JOBS
from phoenix_core.plugins import Plugins

if TYPE_CHECKING:
    from collections.abc import Sequence

    from phoenix_core.config.types import TargetId
    from phoenix_core.engine import Engine
    from phoenix_core.outcome import RunResult

OUTPUT = click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Print results as aligned text or as JSON.",
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Run the checks only; change nothing.")
KEEP_GOING = click.option(
    "--keep-going",
    is_flag=True,
    help="After a failure, go on with every guest that does not depend on it.",
)


def _complete(offer: str) -> Any:
    """A click ``shell_complete`` callback offering ``phoenix_core.completion.<offer>``
    (imported when completing, so start-up pays nothing)."""

    def complete(ctx: click.Context, _: click.Parameter, incomplete: str) -> Any:
        from phoenix_core import completion

        return completion.complete(ctx, getattr(completion, offer), incomplete)

    return complete


IDS = click.argument("ids", nargs=-1, metavar="IDS...", shell_complete=_complete("ids"))


def _set_app(name: str) -> Any:
    """A callback storing an option on the invocation's :class:`App` (not a verb argument)."""

    def store(ctx: click.Context, _: click.Parameter, value: Any) -> None:
        if not ctx.resilient_parsing:
            setattr(ctx.find_object(App), name, value)

    return store


def _app_option(*decls: str, attr: str, envvar: str, **kwargs: Any) -> Any:
    """An option of the run (not an argument of the verb), also read from ``envvar``."""
    return click.option(
        *decls,
        envvar=envvar,
        show_envvar=True,
        expose_value=False,
        callback=_set_app(attr),
        **kwargs,
    )


def _selector_option(*decls: str, attr: str, **kwargs: Any) -> Any:
    """A selector (``--tag``, ``--kind``, ``--exclude``, ``--only``), kept on the :class:`App`."""
    return click.option(*decls, expose_value=False, callback=_set_app(attr), **kwargs)


#: The repeatable selectors: option, App attribute, metavar, completion offer, help.
_NARROWING = (
    ("--tag", "tags", "TAG", "tags", "Only guests carrying this tag (repeatable: any of them)."),
    ("--kind", "kinds", "KIND", "kinds", "Only targets of this kind, e.g. lxc or vm (repeatable)."),
    ("--exclude", "exclude", "ID", "ids", "Leave this target out of the selection (repeatable)."),
)
#: The selectors every guest verb takes (DESIGN §6), narrowing its ids (or all targets).
SELECTORS = (
    *(
        _selector_option(
            flag, attr=attr, multiple=True, metavar=meta, shell_complete=_complete(offer), help=text
        )
        for flag, attr, meta, offer, text in _NARROWING
    ),
    _selector_option(
        "--only",
        attr="only",
        is_flag=True,
        help="The selected targets alone, without what they require (which must exist).",
    ),
)


def selectors(function: Any) -> Any:
    for decorator in SELECTORS:
        function = decorator(function)
    return function


JOBS = _app_option(
    "--jobs",
    "-j",
    attr="jobs",
    envvar="PHOENIX_JOBS",
    type=click.IntRange(1, 64),
    default=DEFAULT_JOBS,
    show_default=True,
    help="Actions run at once; two holding one guest, clone source or storage never overlap.",
)
LOCK_TIMEOUT = _app_option(
    "--lock-timeout",
    attr="lock_timeout",
    envvar="PHOENIX_LOCK_TIMEOUT",
    type=click.IntRange(0),
    metavar="SECONDS",
    help="Retry commands refused on a lock (a backup, a clone) this long [default: 600].",
)
WAIT_LOCK = _app_option(
    "--wait-lock",
    attr="wait_lock",
    envvar="PHOENIX_WAIT_LOCK",
    type=click.IntRange(0),
    default=0,
    metavar="SECONDS",
    help="Wait this long for another phoenix run on the node to end [default: refuse at once].",
)
TIMEOUT = click.option(
    "--timeout",
    type=click.IntRange(1),
    default=60,
    show_default=True,
    help="Seconds to wait for a clean shutdown before stopping hard.",
)
RERUN = click.option(
    "--rerun-features",
    "rerun",
    multiple=True,
    metavar="NAME|all",
    help="Run this feature or application script again although already applied "
    "(repeatable, or comma-separated; 'all': every one).",
)


RESTART_IF_NEEDED = click.option(
    "--restart-if-needed",
    is_flag=True,
    help="Restart running guests whose changes wait for a reboot (default: report them).",
)


WITH_HOST = click.option(
    "--with-host",
    is_flag=True,
    help="Apply the host features the guests need (default: check them, and fail a guest "
    "whose feature is out of sync).",
)


def rerun_options(
    rerun: tuple[str, ...], restart_if_needed: bool = False, with_host: bool = False
) -> VerbOptions:
    """``--rerun-features a,b --rerun-features c`` (``--restart-if-needed``, ``--with-host``)
    as the verb's options."""
    names = frozenset(n.strip() for value in rerun for n in value.split(",") if n.strip())
    return VerbOptions(
        rerun_features=names, restart_if_needed=restart_if_needed, with_host=with_host
    )


def guest_verb(function: Any) -> Any:
    """The arguments every verb that acts on guests takes: ids, --dry-run, --keep-going, --output."""
    for decorator in (OUTPUT, WAIT_LOCK, LOCK_TIMEOUT, JOBS, KEEP_GOING, DRY_RUN, selectors, IDS):
        function = decorator(function)
    return function


def _version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    plugins: Plugins = ctx.find_root().obj
    click.echo(f"phoenix-core {__version__}")
    for info in plugins.plugins:
        provides = [m.name for m in info.managers] + info.verbs
        state = f"failed: {info.error}" if info.error else ", ".join(provides)
        click.echo(f"  {info.distribution} {info.version} ({info.name}: {state})")
    ctx.exit(0)


def scrub(text: str) -> str:
    """Mask configured secrets; loguru is only imported when a run has loaded any."""
    logs = sys.modules.get("phoenix_core.logs")
    return logs.scrub(text) if logs else text


class PhoenixGroup(click.Group):
    """Turns phoenix's own errors into a message on stderr and their exit code, never a
    traceback; keeps the command line, and ends the run's log files with its exit code."""

    #: The arguments of this invocation (the root group is copied per run by :func:`build`).
    argv: tuple[str, ...] = ()

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        self.argv = tuple(sys.argv[1:] if args is None else args)
        code: Any = 0
        try:
            return super().main(self.argv, *rest, **kwargs)
        except SystemExit as exc:
            code = exc.code
            raise
        finally:
            logs = sys.modules.get("phoenix_core.logs")  # imported by runs that log to files
            if logs is not None:
                logs.run_finished(code if isinstance(code, int) else 0 if code is None else 1)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo("phoenix: configuration error (nothing was executed):", err=True)
            for problem in exc.problems:
                click.echo(f"  {scrub(problem)}", err=True)
            ctx.exit(exc.exit_code)
        except PhoenixError as exc:
            click.echo(f"phoenix: error: {scrub(str(exc))}", err=True)
            ctx.exit(exc.exit_code)


@click.group(
    cls=PhoenixGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config-dir",
    metavar="DIR",
    help="Configuration directory [env PHOENIX_CONFIG_DIR; default /usr/local/phoenix_hypervisor/etc].",
)
@click.option(
    "--host",
    metavar="[USER@]NODE[:PORT]|sim:DIR",
    envvar="PHOENIX_HOST",
    help="Proxmox node to run on over SSH, or sim:DIR, the simulated node in DIR "
    "[env PHOENIX_HOST; default: this machine].",
)
@click.option(
    "--accept-new-host-keys",
    is_flag=True,
    help="Trust and record SSH host keys seen for the first time.",
)
@click.option(
    "--dry-run",
    "global_dry_run",
    is_flag=True,
    help="Run checks only: show what would change, change nothing.",
)
@click.option(
    "--keep-going", "global_keep_going", is_flag=True, help="Do not stop at the first failed guest."
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PHOENIX_LOG_DIR",
    show_envvar=True,
    help="Write log files here [default /var/log/phoenix_hypervisor or ~/.local/state/phoenix/log].",
)
@click.option(
    "-v", "--verbose", count=True, help="More detail on the terminal (-vv for every command)."
)
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on the terminal.")
@click.option(
    "--no-color", is_flag=True, help="No colour in output (as does the NO_COLOR variable)."
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the version of phoenix and of every plugin.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    config_dir: str | None,
    host: str | None,
    accept_new_host_keys: bool,
    global_dry_run: bool,
    global_keep_going: bool,
    log_dir: Path | None,
    verbose: int,
    quiet: bool,
    no_color: bool,
) -> None:
    """Provision Proxmox VE guests from JSON, in dependency order, idempotently.

    \b
    Verbs take guest ids (CTIDs and VMIDs share one namespace):
      phoenix create 101        make 101 and whatever it is cloned from or depends on
      phoenix converge          make every guest match its configuration
      phoenix plan 101          show what converge would change
      phoenix LetsGo            converge everything, then start by boot_order
    """
    app = App(
        plugins=ctx.obj,
        command=("phoenix", *getattr(ctx.command, "argv", ())),
        config_dir=config_dir,
        host=host,
        accept_new_host_keys=accept_new_host_keys,
        dry_run=global_dry_run,
        keep_going=global_keep_going,
        log_dir=log_dir,
        verbosity=-1 if quiet else verbose,
        no_color=no_color,
    )
    ctx.obj = app
    ctx.call_on_close(app.close)
    app.start_logging()


STRICT = click.option(
    "--strict",
    is_flag=True,
    help="Refuse (exit 2) when the guests that would run commit more memory than their node has.",
)


def _check_memory(engine: Engine, targets: Sequence[TargetId], strict: bool) -> None:
    """Say when the guests that would run do not fit in their node's memory; refuse with
    ``--strict``, before anything runs."""
    from phoenix_core import interrupt
    from phoenix_core.capacity import overcommitted
    from phoenix_core.logs import logger

    if not targets:  # no ids: every target an installed manager handles
        targets = [
            i for i in engine.all_ids() if engine.plugins.manager(engine.config.target(i).kind)
        ]
    guests = [engine.config.target(i) for i in targets]
    try:
        problems = overcommitted(engine, guests)
    except interrupt.Interrupted:
        return  # a signal while the node was read: the run then starts nothing, and says so
    for problem in problems:
        if strict:
            raise UsageError(f"{problem} (--strict; lower memory_mb, or leave guests out)")
        logger.warning("{} (--strict refuses to run so)", problem)


def _run(
    verb: str,
    ids: tuple[str, ...],
    output: str,
    *,
    dry_run: bool,
    keep_going: bool,
    options: VerbOptions | None = None,
    detailed_exitcode: bool = False,
    strict: bool | None = None,
) -> None:
    """Run ``verb`` over the selected targets; ``strict`` not None: check memory first."""
    from phoenix_core import interrupt
    from phoenix_core.select import chosen

    app: App = click.get_current_context().obj
    # An operator in an incident can stop and start guests while another guest's entry is bad.
    app.lenient = verb in ("start", "stop", "restart")
    # Signals are noted from here: one during the reads before the run (the node probe, the
    # memory check) also ends it with the summary.
    with interrupt.handling(), app.progress() as progress:
        engine = app.engine(
            dry_run=dry_run, keep_going=keep_going, options=options, progress=progress
        )
        targets = chosen(engine, ids, app.selector)
        if strict is not None:
            _check_memory(engine, engine.order(verb, targets) if targets else [], strict)
        result = engine.run(verb, targets, only=app.selector.only)
    result.detailed_exitcode = detailed_exitcode
    _finish(app, result, output)


def _finish(app: App, result: RunResult, output: str) -> None:
    """Print the result (after the progress display is gone) and exit with its code."""
    from phoenix_core import render
    from phoenix_core.logs import record_counts

    render.run_result(result, output, color=app.color, verbose=app.verbosity)
    record_counts(result.target_counts())
    click.get_current_context().exit(result.exit_code)


def _require(ids: tuple[str, ...], verb: str) -> None:
    """Verbs that never mean "everything" need ids, or a --tag or --kind to choose by."""
    selector = click.get_current_context().find_object(App).selector
    if not (ids or selector.tags or selector.kinds):
        raise click.UsageError(f"{verb} needs at least one guest id (or --tag/--kind)")


@cli.command()
@guest_verb
@RERUN
@WITH_HOST
def create(
    ids: tuple[str, ...],
    dry_run: bool,
    keep_going: bool,
    rerun: tuple[str, ...],
    with_host: bool,
    output: str,
) -> None:
    """Create guests, or confirm and repair existing ones; never recreate.

    Missing dependencies are created and half-built ones finished; a dependency whose build
    completed is left alone.
    """
    _require(ids, "create")
    options = rerun_options(rerun, with_host=with_host)
    _run("create", ids, output, dry_run=dry_run, keep_going=keep_going, options=options)


@cli.command()
@guest_verb
@RERUN
@RESTART_IF_NEEDED
@WITH_HOST
def converge(
    ids: tuple[str, ...],
    dry_run: bool,
    keep_going: bool,
    rerun: tuple[str, ...],
    restart_if_needed: bool,
    with_host: bool,
    output: str,
) -> None:
    """Make guests (all when no ids) and their dependencies match the configuration.

    Only drift is changed: a second converge runs no mutating command. The host features
    guests need are checked (applied with --with-host, or when no ids are given).
    """
    options = rerun_options(rerun, restart_if_needed, with_host)
    _run("converge", ids, output, dry_run=dry_run, keep_going=keep_going, options=options)


@cli.command()
@IDS
@selectors
@RERUN
@WITH_HOST
@JOBS
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 3 when changes are pending (0: none, 1: a check failed, 2: usage error).",
)
@STRICT
@OUTPUT
def plan(
    ids: tuple[str, ...],
    rerun: tuple[str, ...],
    with_host: bool,
    detailed_exitcode: bool,
    strict: bool,
    output: str,
) -> None:
    """Show what converge would change (all guests when no ids); change nothing."""
    _run(
        "plan",
        ids,
        output,
        dry_run=True,
        keep_going=True,
        options=rerun_options(rerun, with_host=with_host),
        detailed_exitcode=detailed_exitcode,
        strict=strict,
    )


@cli.command()
@guest_verb
def start(ids: tuple[str, ...], dry_run: bool, keep_going: bool, output: str) -> None:
    """Start guests, bringing up what they depend on first. Templates are never started."""
    _require(ids, "start")
    _run("start", ids, output, dry_run=dry_run, keep_going=keep_going)


@cli.command()
@guest_verb
@TIMEOUT
def stop(ids: tuple[str, ...], dry_run: bool, keep_going: bool, timeout: int, output: str) -> None:
    """Shut down only the given guests, dependents first (clean shutdown, then hard stop)."""
    _require(ids, "stop")
    _run(
        "stop",
        ids,
        output,
        dry_run=dry_run,
        keep_going=keep_going,
        options=VerbOptions(timeout=timeout),
    )


@cli.command()
@guest_verb
@TIMEOUT
def restart(
    ids: tuple[str, ...], dry_run: bool, keep_going: bool, timeout: int, output: str
) -> None:
    """Restart only the given guests, in dependency order."""
    _require(ids, "restart")
    _run(
        "restart",
        ids,
        output,
        dry_run=dry_run,
        keep_going=keep_going,
        options=VerbOptions(timeout=timeout),
    )


@cli.command()
@guest_verb
@click.option(
    "--force", is_flag=True, help="Delete even while another existing guest depends on it."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete(
    ids: tuple[str, ...], dry_run: bool, keep_going: bool, force: bool, yes: bool, output: str
) -> None:
    """Stop and destroy guests, dependents first.

    Refuses while another existing guest depends on one of them, unless --force.
    """
    _require(ids, "delete")
    app: App = click.get_current_context().obj
    if not (yes or dry_run or app.dry_run):
        if not sys.stdin.isatty():
            raise UsageError("delete asks for confirmation: pass --yes when not at a terminal")
        click.confirm(f"Destroy {', '.join(ids)} and all their disks?", abort=True)
    _run(
        "delete",
        ids,
        output,
        dry_run=dry_run,
        keep_going=keep_going,
        options=VerbOptions(force=force),
    )


@cli.command(name="LetsGo")
@DRY_RUN
@KEEP_GOING
@JOBS
@LOCK_TIMEOUT
@WAIT_LOCK
@click.option(
    "--no-boot-delay", is_flag=True, help="Do not wait boot_delay seconds between boot groups."
)
@click.option(
    "--only-installed",
    is_flag=True,
    help="Build what the installed managers can; the rest is skipped and the exit code is 4.",
)
@RERUN
@STRICT
@OUTPUT
def letsgo(
    dry_run: bool,
    keep_going: bool,
    no_boot_delay: bool,
    only_installed: bool,
    rerun: tuple[str, ...],
    strict: bool,
    output: str,
) -> None:
    """Converge every guest in dependency order, starting non-templates by boot_order.

    Guests start in boot_order groups (a dependency never after its dependent), each group
    after the previous one's boot_delay, also when provisioning needs a guest running.
    Refuses up front when guests need managers that are not installed.
    """
    from phoenix_core import interrupt

    app: App = click.get_current_context().obj
    with interrupt.handling(), app.progress() as progress:
        engine = app.engine(
            dry_run=dry_run,
            keep_going=keep_going,
            options=rerun_options(rerun),
            progress=progress,
            boot_delay=not no_boot_delay,
        )
        _check_memory(engine, [], strict)
        result = engine.letsgo(only_installed=only_installed)
    _finish(app, result, output)


@cli.command()
@IDS
@selectors
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also list the guests on the node that no configuration file describes.",
)
@click.option(
    "--addresses",
    is_flag=True,
    help="Also ask each running guest for its IP addresses (a VM: one guest-agent call each).",
)
@OUTPUT
def status(ids: tuple[str, ...], everything: bool, addresses: bool, output: str) -> None:
    """Show id, kind, name, node, existence, power state and build complete (all when no ids)."""
    app: App = click.get_current_context().obj
    from phoenix_core.commands.status import node_names, show_status
    from phoenix_core.manager import ADDRESSES, VerbOptions
    from phoenix_core.select import chosen

    engine = app.engine(options=VerbOptions(flags=frozenset({ADDRESSES} if addresses else ())))
    rows = engine.status(chosen(engine, ids, app.selector))
    nodes = node_names(engine, [t for t, _ in rows])
    show_status(rows, output, engine.unmanaged() if everything else (), nodes)


@cli.command(name="import")
@click.argument("ids", nargs=-1, required=True, metavar="IDS...")
@click.option("--write", is_flag=True, help="Add each entry to its kind's file (others untouched).")
@OUTPUT
def import_(ids: tuple[str, ...], write: bool, output: str) -> None:
    """Print the entry describing existing guests no file describes yet; with --write add it.

    The next plan of an imported guest finds nothing to change.
    """
    app: App = click.get_current_context().obj
    from phoenix_core.commands.importing import run_import

    run_import(app.engine(), ids, write, output)


JUNIT = click.option(
    "--junit",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Also write the results as JUnit XML (for cron and CI).",
)


def _checks(ids: tuple[str, ...], method: str, junit: Path | None, output: str, **kw: Any) -> None:
    """``health-check`` and ``test``: run, write JUnit XML when asked, show, exit 0 or 1
    (130/143 when a signal ended the run)."""
    from phoenix_core import interrupt
    from phoenix_core.commands import health

    app: App = click.get_current_context().obj
    # From cron a SIGTERM must still leave the report (and its JUnit file) behind.
    with interrupt.handling():
        results = health.run(app.engine(), ids, method, jobs=app.jobs, selector=app.selector, **kw)  # type: ignore[arg-type]
    from phoenix_core.logs import record_counts

    record_counts(health.counts(results))
    verb = "health-check" if method == "checks" else "test"
    if junit is not None:
        health.junit(results, junit, verb)
    health.show(results, output, "health" if method == "checks" else "test", verb)
    click.get_current_context().exit(health.exit_code(results))


@cli.command(name="health-check")
@IDS
@selectors
@JUNIT
@JOBS
@OUTPUT
def health_check(ids: tuple[str, ...], junit: Path | None, output: str) -> None:
    """Run the health checks of targets (all but templates when no ids); exit 1 if one fails."""
    _checks(ids, "checks", junit, output)


@cli.command(name="test")
@IDS
@selectors
@click.option("--suite", metavar="NAME", help="Only this test suite.")
@JUNIT
@JOBS
@OUTPUT
def run_tests(ids: tuple[str, ...], suite: str | None, junit: Path | None, output: str) -> None:
    """Run the configured test suites of targets (all when no ids); exit 1 if one fails."""
    _checks(ids, "tests", junit, output, suite=suite)


@cli.command()
@OUTPUT
def plugins(output: str) -> None:
    """List installed plugins: distribution, version, managers, verbs and load failures."""
    from phoenix_core.commands.plugins import show_plugins

    show_plugins(click.get_current_context().obj.plugins, output)


@cli.group()
def config() -> None:
    """Check the configuration files, or print their JSON Schema."""


@config.command()
@OUTPUT
def validate(output: str) -> None:
    """Load and cross-check the configuration; list every problem; exit 2 if any is an error."""
    app: App = click.get_current_context().obj
    from phoenix_core.commands.config import show_validation

    show_validation(app, output)


@config.command()
@click.argument("kind", metavar="hypervisor|KIND")
def schema(kind: str) -> None:
    """Print the JSON Schema of the hypervisor file or of an installed kind's file (for editors)."""
    from phoenix_core.commands.config import print_schema

    print_schema(kind, click.get_current_context().obj.plugins)


def build(plugins: Plugins) -> click.Group:
    """A fresh root group with every plugin's verbs added (a duplicate verb is an error)."""
    root = copy.copy(cli)
    root.commands = dict(cli.commands)
    plugins.add_commands(root)
    return root


def main(argv: list[str] | None = None, plugins: Plugins | None = None) -> int:
    """Console-script entry point: exit 0 success, 1 an action failed, 2 usage or config error."""
    try:
        plugins = plugins or Plugins().discover()
        root = build(plugins)
    except PhoenixError as exc:
        click.echo(f"phoenix: error: {exc}", err=True)
        return exc.exit_code
    for info in plugins.failures:
        click.echo(
            f"phoenix: warning: plugin {info.name} ({info.label}) skipped: {info.error}", err=True
        )
    for info in plugins.plugins:
        for warning in info.warnings:
            click.echo(f"phoenix: warning: plugin {info.name} ({info.label}) {warning}", err=True)
    try:
        root.main(argv, prog_name="phoenix", obj=plugins)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
