"""``supv stats`` (alias ``stats_status``): CPU and memory per instance and per process, from the samplers."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, Sequence

import click

from supv_cli.cli.completion import complete_processes
from supv_cli.cli.options import Seconds, cluster_options, output_options
from supv_cli.cli.output import Table, View, echo_err
from supv_cli.cluster import SAMPLER_PROGRAM

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.cluster.stats import SamplerReport
    from supv_cli.selection import Selection

HEADERS = ("Instance", "Kind", "Namespec", "Pid", "CPU%", "RSS", "Mem%", "Sampler")


def sampler_option(func: Any) -> Any:
    return click.option("--sampler-program", "program", default=SAMPLER_PROGRAM, show_default=True,
                        metavar="NAME", help="Group or program name of the samplers in supervisord.")(func)


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def cells(row: dict[str, Any], human: bool) -> list[str]:
    """One row as text: ``-`` for null; the RSS in bytes (plain) or binary units (table)."""
    from supv_cli.look.stats import human_bytes

    namespec = "-" if row["kind"] == "host" else f"{row['application_name']}:{row['process_name']}"
    rss = human_bytes(row["rss_bytes"]) if human else _number(row["rss_bytes"])
    return [row["instance"], row["kind"], namespec, _number(row["pid"]), _number(row["cpu_percent"]), rss,
            _number(row["memory_percent"]), row["sampler"] or "-"]


def view(rows: list[dict[str, Any]]) -> View:
    """The stats view: JSON rows, plain columns (numbers as they are), a rich table."""

    def table() -> list[Table]:
        from supv_cli.cli.status_render import styled

        rendered = []
        for row in rows:
            text = cells(row, human=True)
            style = "bold" if row["kind"] == "host" else None
            sampler = styled(text[-1], None if row["sampler"] == "sampling" else "dark_orange")
            rendered.append([styled(cell, style) for cell in text[:-1]] + [sampler])
        return [Table(HEADERS, rendered, justify=["left", "left", "left", "right", "right", "right", "right", "left"])]

    def plain() -> list[str]:
        from supv_cli.cli.output import plain_table

        return [plain_table(HEADERS, [cells(row, human=False) for row in rows])]

    return View(data=lambda: rows, tables=table, plain=plain)


def hint(reports: dict[str, SamplerReport]) -> str | None:
    """One line for the instances that answered but give no statistics (None when every one does)."""
    from supv_cli.cluster.stats import SAMPLING, UNREACHABLE

    missing = {nick: report for nick, report in reports.items() if report.state not in (SAMPLING, UNREACHABLE)}
    if not missing:
        return None
    if len(missing) == 1:
        return next(iter(missing.values())).hint()
    states = ", ".join(f"{nick} ({report.state}{': ' + report.detail if report.detail else ''})"
                       for nick, report in missing.items())
    return (f"no statistics from {states}: run `supv sampler` as a [program:{SAMPLER_PROGRAM}] of each "
            "supervisord, `supv enable_stats` starts stopped ones (docs/metrics.md)")


class StatsSource:
    """What a refresh needs: the selection of processes, the samplers' reader."""

    def __init__(self, app: App, namespecs: Sequence[str], program: str) -> None:
        from supv_cli.cluster.stats import StatsReader

        self.app = app
        self.namespecs = namespecs
        self.reader = StatsReader(app.session, program)
        self.hinted = False
        self.selection: Selection | None = None

    def rows(self, refresh: bool) -> list[dict[str, Any]]:
        """Rows of a new snapshot, selected by the one grammar (as sstatus: globs, ``all`` and the words
        after it checked); the first time, a word that names nothing is said on stderr (``BAD_NAME``) and
        :attr:`selection` keeps the exit code for :meth:`App.conclude`."""
        from supv_cli.cli.sstatus import select_processes
        from supv_cli.look.stats import stats_rows

        status = self.app.status(need_answer=not refresh)  # a watch goes on while every instance is away
        self.selection = self.app.select(self.namespecs, status.snapshot, globs=True)
        selected = None
        if not self.selection.everything:
            selected = {(a, p) for a, _, p in (n.partition(":") for n in self.selection.processes)}
        if not refresh:
            for _, error in select_processes(status, self.namespecs, self.selection)[1]:
                echo_err(error)
        reports = self.reader.read(status.snapshot)
        line = hint(reports)
        if line and not self.hinted:
            echo_err(f"supv: {line}")
            self.hinted = True
        return stats_rows(status.snapshot, reports, selected)


@click.command("stats", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@sampler_option
@click.option("--watch", is_flag=True, help="Refresh every --interval seconds until interrupted.")
@click.option("--interval", type=Seconds(min=0.5), default=5.0, show_default=True, metavar="SECONDS",
              help="Seconds between two refreshes with --watch.")
@click.argument("namespecs", nargs=-1, metavar="[NAMESPEC]...", shell_complete=complete_processes)
@click.pass_obj
def stats(app: App, program: str, watch: bool, interval: float, namespecs: tuple[str, ...]) -> None:
    """Show CPU and memory per instance (its host) and per process, from the samplers.

    Each supervisord that runs a sampler (`supv sampler` as its program --sampler-program, default
    supv_sampler; see docs/metrics.md) has its host measured (CPU % of all cores, memory in use, load
    averages) and every running process (CPU % of one core, RSS, share of the host's memory) every
    period; this reads the last sample of each over XML-RPC. An instance without a sampler (or whose
    sampler is stopped or has not sampled yet) is listed with null figures and its state in the Sampler
    column, and one hint line on stderr says what to do; the others are shown as usual.

    NAMESPEC selects processes as in sstatus (APP:*, APP:PROC, PROC); only the hosts where they run are
    listed then. A process started since the last sample has null figures until the next one.

    \b
    Plain columns (numbers as they are, RSS in bytes, '-' for null):
      Instance  Kind  Namespec  Pid  CPU%  RSS  Mem%  Sampler
    JSON: a list of {instance, kind: host|process, application_name, process_name, pid, cpu_percent,
    rss_bytes, memory_percent, time, sampler, load_average, memory_total} (null where it does not apply;
    a host's rss_bytes is its memory in use; sampler: sampling, none, stopped, waiting (no sample yet), stale,
    unreachable). With --watch: one JSON list per line and per refresh.

    \b
    Exit status: 0 shown (also when some instances have no sampler); 2 an unknown NAMESPEC (or one
    after `all`), a usage or configuration error; 3 no instance answered, or a selected process may be
    on an instance that did not answer (as sstatus); 130 interrupted.

    \b
    Examples:
      supv stats -c etc/supv.conf
      supv stats -c etc/supv.conf 'scen3_srv:*' --json | jq '.[] | select(.kind == "process") | .rss_bytes'
      supv stats_status -c etc/supv.conf --watch --interval 10
    """
    source = StatsSource(app, namespecs, program)
    rows = source.rows(refresh=False)
    assert source.selection is not None
    if not watch or source.selection.unknown:
        app.emit(view(rows))
        app.conclude(source.selection, said=True)
        return
    refresh_loop(app, source, rows, interval)


def refresh_loop(app: App, source: StatsSource, rows: list[dict[str, Any]], interval: float) -> None:
    """--watch: the view again every ``interval`` (a terminal's screen cleared first; JSON one line each)."""
    import time

    from supv_cli.cli.output import stdout_console
    from supv_cli.cli.polling import check_stdout

    console = stdout_console() if app.fmt == "table" and sys.stdout.isatty() else None
    while True:
        started = time.monotonic()
        if app.fmt == "json":
            click.echo(json.dumps(rows))
        else:
            if console is not None:
                console.clear()
            elif app.fmt == "plain":
                click.echo(time.strftime("%Y-%m-%dT%H:%M:%S"))
            app.emit(view(rows))
            if console is None:
                click.echo()
        sys.stdout.flush()
        check_stdout()
        time.sleep(max(0.0, started + interval - time.monotonic()))
        rows = source.rows(refresh=True)
