"""``enable_stats``, ``disable_stats``, ``stats_period``: supvisorsctl's names, acting on the samplers.

A sampler is an ordinary supervisord program (``supv sampler``, default name ``supv_sampler``):
enabling the statistics starts it on every instance that has one, disabling stops it (supervisord
starts it again when it restarts itself, if ``autostart``); its period changes at run time through its
stdin (``supervisor.sendProcessStdin``, a line ``interval SECONDS``) until it is restarted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.finite import FiniteSeconds
from supv_cli.cli.options import cluster_options, dry_run_option, output_options
from supv_cli.cli.output import Table, View, echo_err, warn
from supv_cli.cli.stats import sampler_option
from supv_cli.errors import ClusterError, CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.cli.program_switch import Switched

SWITCH_HELP = """

    \b
    JSON: {kind, result: success|failed, samplers: [{instance, namespec, action, outcome, detail}],
    unreachable: [nicks]}; outcome RUNNING, STOPPED, ALREADY, DRY-RUN, FAILED or TIMEOUT.

    \b
    Exit status: 0 done; 1 a sampler did not start or stop; 2 usage or configuration error; 3 an
    instance did not answer.
"""


def _report(app: App, kind: str, done: Switched, program: str) -> None:
    app.emit(View(data=lambda: {"kind": kind, "result": "failed" if done.failed or done.unreachable else "success",
                                "samplers": done.rows, "unreachable": done.unreachable},
                  tables=lambda: [Table(["Instance", "Program", "Action", "Outcome", "Detail"],
                                        [[r["instance"], r["namespec"], r["action"], r["outcome"], r["detail"]]
                                         for r in done.rows])]))
    if not done.found:
        warn(f"no instance has a {program!r} program: add one running `supv sampler` (see docs/metrics.md)")
    if done.unreachable:
        raise ClusterError(f"{', '.join(done.unreachable)} did not answer: its sampler is unchanged")
    if done.failed:
        raise CommandFailed(ExitCode.FAILED)


DRY_RUN = dry_run_option("Print which samplers would be started or stopped; change nothing.")


@click.command("enable_stats", context_settings={"help_option_names": ["-h", "--help"]},
               help="Start the sampler program on every instance that has one (statistics on)." + SWITCH_HELP + """
    \b
    Examples:
      supv enable_stats -c etc/supv.conf
      supv enable_stats -c etc/supv.conf --sampler-program my_sampler --json
""")
@cluster_options
@output_options
@sampler_option
@DRY_RUN
@click.pass_obj
def enable_stats(app: App, program: str, dry_run: bool) -> None:
    from supv_cli.cli.program_switch import switch

    _report(app, "enable_stats", switch(app, program, start=True, dry_run=dry_run), program)


@click.command("disable_stats", context_settings={"help_option_names": ["-h", "--help"]},
               help="Stop the sampler program on every instance that has one (statistics off; supv stats then "
                    "lists the instances as 'stopped')." + SWITCH_HELP + """
    \b
    Examples:
      supv disable_stats -c etc/supv.conf
""")
@cluster_options
@output_options
@sampler_option
@DRY_RUN
@click.pass_obj
def disable_stats(app: App, program: str, dry_run: bool) -> None:
    from supv_cli.cli.program_switch import switch

    _report(app, "disable_stats", switch(app, program, start=False, dry_run=dry_run), program)


@click.command("stats_period", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@sampler_option
@click.argument("seconds", required=False, type=FiniteSeconds(min=0.1, max=3600.0))
@click.pass_obj
def stats_period(app: App, program: str, seconds: float | None) -> None:
    """Show the period of every sampler, or set it to SECONDS (0.1 to 3600).

    The new period is written to each running sampler's stdin through supervisord
    (supervisor.sendProcessStdin: a line 'interval SECONDS'); it applies at once and lasts until the
    sampler restarts, which then uses its --stats-interval again (change that in its [program:x] section
    to keep a period). Without SECONDS: the period each sampler last reported.

    \b
    Plain columns: Instance  Sampler  Period  Outcome. JSON: a list of {instance, namespec, sampler,
    period, outcome} (period in seconds, null when unknown; outcome SENT, FAILED or null when only shown).

    \b
    Exit status: 0 shown or set; 1 a sampler could not be told; 2 usage or configuration error; 3 an
    instance did not answer.

    \b
    Examples:
      supv stats_period -c etc/supv.conf
      supv stats_period -c etc/supv.conf 10
    """
    from supv_cli.cluster.stats import SAMPLING, STALE, StatsReader, sampler_info
    from supv_cli.plan.run_types import Request

    snapshot = app.snapshot(with_config=False, need_answer=True)
    reports = StatsReader(app.session, program).read(snapshot)
    rows: list[dict[str, Any]] = []
    targets = []
    for snap in snapshot.instances:
        report = reports[snap.instance.nick]
        info = sampler_info(snap, program) if snap.reachable else None
        period = report.sample.interval if report.sample is not None and report.state in (SAMPLING, STALE) else None
        rows.append({"instance": snap.instance.nick, "namespec": info.namespec if info else None,
                     "sampler": report.state, "period": period, "outcome": None})
        if seconds is not None and info is not None and info.running:
            targets.append((rows[-1], Request(snap.instance, "supervisor.sendProcessStdin",
                                              (info.namespec, f"interval {seconds:g}\n"))))
    answers = app.session.send([request for _, request in targets])
    for (row, _), answer in zip(targets, answers):
        row["outcome"] = "SENT" if answer is True else "FAILED"
        if answer is True:
            row["period"] = seconds
        else:
            warn(f"{row['instance']}: {getattr(answer, 'reason', answer)}")
    app.emit(View(data=lambda: rows, tables=lambda: [Table(
        ["Instance", "Sampler", "Period", "Outcome"],
        [[r["instance"], r["sampler"], "-" if r["period"] is None else f"{r['period']:g}", r["outcome"] or "-"]
         for r in rows])]))
    if seconds is not None and not targets:
        echo_err(f"supv: no running {program!r} program: nothing to set (supv enable_stats starts them)")
    down = [s.instance.nick for s in snapshot.unreachable]
    if down:
        raise ClusterError(f"{', '.join(down)} did not answer")
    if any(row["outcome"] == "FAILED" for row in rows):
        raise CommandFailed(ExitCode.FAILED)
