"""``supv logs`` (alias ``tail``): process logs read through supervisord, wherever the processes run."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.completion import complete_processes
from supv_cli.cli.options import Seconds, cluster_options, output_options
from supv_cli.cli.output import echo_err
from supv_cli.cli.terminal import Terminal, current_terminal
from supv_cli.errors import ClusterError, ExitCode, SupvError, UsageError

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.look.follow import LogFollower
    from supv_cli.look.logtail import Item
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.selection import Selection


def emit(items: Sequence[Item], fmt: str, terminal: Terminal | None = None) -> None:
    """Lines on stdout (flushed: ``-f`` is a stream), notices on stderr. A line's control characters
    are shown visibly on a terminal, written as logged in a pipe (cli/terminal.py)."""
    from supv_cli.look.logtail import LogLine

    terminal = terminal or current_terminal()
    for item in items:
        if isinstance(item, LogLine):
            # color=True: click must not strip what the Terminal decided to keep (the bytes, in a pipe)
            click.echo(json.dumps(item.to_dict()) if fmt == "json" else terminal.out(item.prefixed()), color=True)
        else:
            echo_err(f"supv: logs: {item.line()}")
    if items:
        sys.stdout.flush()


def unknown_names_error(selection: Selection) -> SupvError | None:
    """One error line per NAMESPEC that names nothing (with the selection's hint), and the selection's
    exit code: 2, or 3 when an instance did not answer (it may have it); None when every name was found."""
    words = [u.word for u in selection.unknown] + [m.word for m in selection.maybe if not m.listed]
    if not words:
        return None
    where = "no instance knows" if selection.unknown or not selection.reasons else "no reachable instance knows"
    hints = {u.word: u.hint for u in selection.unknown if u.hint}
    lines = [f"{where} {word}: check the name with supv sstatus (APP:PROC or APP:*)"
             + (f"; did you mean {hints[word]}?" if word in hints else "") for word in words]
    error: SupvError = (ClusterError if selection.exit_code is ExitCode.UNREACHABLE else UsageError)(lines[0])
    error.errors = lines  # type: ignore[attr-defined]  # report_error prints each line
    return error


@click.command("logs", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@click.option("-f", "--follow", is_flag=True,
              help="Keep printing new lines until interrupted; follow a process that moves to another instance.")
@click.option("-n", "--lines", type=click.IntRange(min=0), default=10, show_default=True, metavar="N",
              help="Lines of each log to print first (0: only new lines with -f).")
@click.option("--stderr", "use_stderr", is_flag=True, help="Read the stderr log instead of the stdout log.")
@click.option("--interval", type=Seconds(min=0.1), default=0.5, show_default=True, metavar="SECONDS",
              help="With -f: seconds between two reads.")
@click.argument("namespecs", nargs=-1, required=True, metavar="NAMESPEC...", shell_complete=complete_processes)
@click.pass_obj
def logs(app: App, follow: bool, lines: int, use_stderr: bool, interval: float, namespecs: tuple[str, ...]) -> None:
    """Show the logs of processes, read through supervisord on the instance that runs each one.

    NAMESPEC is APP:PROC, APP:* (every process of the application), or NAME (NAME:NAME, as in
    Supervisor; see "Names" in supv(1)); shell globs are allowed in both parts. Each process's
    log is read on the instance where it runs, or, if it runs nowhere, where it stopped last, with
    Supervisor's tailProcessStdoutLog / readProcessStdoutLog (tail*/readProcessStderrLog with --stderr):
    nothing to install, and only the supervisord HTTP port is needed. The last N lines (-n) of each log
    are printed, then, with -f, every new line as it comes, the lines of several processes merged line
    by line. With -f, a process that starts on another instance is followed there (a line on stderr
    says so) and its new log is read from where it was before it started there.

    \b
    Lines are prefixed with where they come from (plain):
      server_1 scen3_srv:scen3_item_manager | 2026-11-30 23:49:43 scen3_item_manager alive
    JSON lines (--json): {instance, application_name, process_name, stream, line}.

    Memory is bounded whatever the log size: at most 1 MiB is read back for -n, 64 KiB per read; a log
    growing faster than it is read is skipped forward and the skip is said on stderr; a log rotated or
    truncated is read again from its start; a line is printed once complete. A process that logs to no
    file (stdout_logfile=NONE, or --stderr with redirect_stderr=true) is said so on stderr, and so is a
process that never started since its supervisord started (no log yet).

    \b
    A NAMESPEC that names nothing is said (one line each) after the logs of the others; with -f, before
    anything is followed, and nothing is.

    \b
    Exit status: 0 shown (or stdout closed: | head); 1 a log could not be read (no log file); 2 usage or
    configuration error, or a NAMESPEC no reachable instance knows; 3 the instance of a log did not
    answer; 130 interrupted; 143 terminated.

    \b
    Examples:
      supv logs -c etc/supv.conf scen3_srv:scen3_item_manager
      supv logs -c etc/supv.conf -f 'scen3_hci_01:*'
      supv tail -c etc/supv.conf -n 100 --stderr scen3_srv:scen3_track_manager --json | jq -r .line
    """
    from supv_cli.cli.polling import check_stdout, poll, use_watch_timeout
    from supv_cli.look.follow import LogFollower

    if follow:
        use_watch_timeout(app)
    snapshot = app.snapshot(with_config=False)  # unreachable instances said once; exit 3 if none answers
    selection = app.select(namespecs, snapshot, globs=True, empty_is_all=False)
    names = list(selection.processes)
    unknown_error = unknown_names_error(selection)
    if unknown_error is not None and (follow or not names):  # a stream does not start with a name missing
        raise unknown_error
    follower = LogFollower(names, "stderr" if use_stderr else "stdout", lines)
    failed_instances: set[str] = set()
    while True:
        started = time.monotonic()
        failed_instances |= read_once(app, follower, snapshot, follow)
        if not follow:
            break
        check_stdout()
        time.sleep(max(0.0, started + interval - time.monotonic()))
        snapshot = poll(app)
    emit(follower.finish(), app.fmt, app.terminal)
    conclude(follower, failed_instances, unknown_error)


def read_once(app: App, follower: LogFollower, snapshot: Snapshot, follow: bool) -> set[str]:
    """One round: what the follower asks of ``snapshot``'s instances, asked through the session, and
    the lines it makes of the answers printed; the nicks whose log read failed."""
    failed: set[str] = set()
    asks, items = follower.plan(snapshot, probe_sizes=follow)
    emit(items, app.fmt, app.terminal)
    instance_of = {snap.instance.nick: snap.instance for snap in snapshot.instances}
    answers = app.session.ask([(instance_of[ask.source.nick], ask.calls) for ask in asks])
    for ask, results in zip(asks, answers):
        if isinstance(results, BaseException) and ask.purpose == "read":
            failed.add(ask.source.nick)
        emit(follower.take(ask, results), app.fmt, app.terminal)
    return failed


def conclude(follower: LogFollower, failed_instances: set[str], unknown_error: SupvError | None) -> None:
    """The exit status once the logs are shown: the first of a failed read (3), a name that names
    nothing (2), a log on no file or never written (1)."""
    from supv_cli.look.follow import UNCARRIED

    if failed_instances:
        raise ClusterError(f"could not read the logs on {', '.join(sorted(failed_instances))}")
    if unknown_error is not None:  # a view shows what it knows, then the names that name nothing
        raise unknown_error
    if follower.uncarried:
        raise SupvError(f"could not read the log of {', '.join(sorted(follower.uncarried))}: {UNCARRIED}")
    if follower.unreadable():
        raise SupvError(f"no log file for {', '.join(s.namespec for s in follower.unreadable())}")
