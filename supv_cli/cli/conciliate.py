"""``supv conciliate``: resolve the conflicts once, with the controller's conciliation strategies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.completion import complete_processes
from supv_cli.cli.options import action_options, cluster_options, output_options, stop_timeout_option
from supv_cli.errors import UsageError
from supv_cli.plan.conciliation import CONCILIATE_STRATEGIES

if TYPE_CHECKING:
    from supv_cli.cli.app import App


def strategy_clash(states: dict[str, dict[str, Any]], strategy: str) -> list[tuple[str, str]]:
    """(nick, its strategy) of each acting controller whose --conciliate stops copies otherwise than
    ``strategy`` (from their state lines; one that only reports, ``user``, does not race)."""
    return [(nick, str(state["conciliate"])) for nick, state in states.items()
            if state.get("acting") and state.get("conciliate") not in (None, "user", strategy)]


@click.command("conciliate")
@cluster_options
@output_options
@click.argument("namespecs", nargs=-1, metavar="[NAMESPEC]...", shell_complete=complete_processes)
@click.option("--strategy", type=click.Choice(CONCILIATE_STRATEGIES), default="infanticide", show_default=True,
              help="Keep the copy started first (infanticide), the one started last (senicide), or stop "
                   "every copy (stop).")
@click.option("--force", is_flag=True,
              help="Conciliate even when the acting controller runs another --conciliate strategy.")
@action_options
@stop_timeout_option
@click.pass_obj
def conciliate(app: App, namespecs: tuple[str, ...], strategy: str, force: bool, dry_run: bool,
               quiet: bool, poll_interval: float, stop_timeout: float) -> None:
    """Resolve the conflicts once, as the controller's --conciliate does.

    Every managed process active on several instances (limited to the NAMESPECs given: APP:PROC, APP:*
    or NAME for NAME:NAME; shell globs allowed) is stopped on the instances the strategy picks and waited
    for, like a stop-plan stage. Copies started in the same second keep the instance-list order (the
    first is the oldest).

    The acting controller conciliates too (its state line tells its --conciliate strategy): with
    another strategy than the controller's, both would stop different copies and possibly every one,
    so the command is refused (exit 2) unless --force, or --dry-run (then only a warning). A controller
    that only reports (--conciliate user) or is held does not race.

    \b
    JSON: the run-plan report (one row per copy stopped); with --dry-run the plan.

    \b
    Exit status: 0 no conflict left; 1 a conflict is left (a stop failed); 2 usage, rules or
    configuration error, or a NAMESPEC that names nothing; 3 no instance answered, or one did not
    answer (a conflict there cannot be seen: what was seen is resolved first); 130 interrupted.
    \b
    Examples:
      supv conciliate -c etc/supv.conf --dry-run
      supv conciliate -c etc/supv.conf scen3_srv:scen3_track_manager --strategy senicide
      supv conflicts -c etc/supv.conf --check || supv conciliate -c etc/supv.conf --strategy stop
      supv controller hold -c etc/supv.conf && supv conciliate -c etc/supv.conf --strategy senicide
    """
    from supv_cli.cli.actions import emit_plan, execute, plan_start, report_view
    from supv_cli.cli.conflicts import unseen
    from supv_cli.cli.output import echo_err
    from supv_cli.model.runs import RunKind
    from supv_cli.plan.executor import Run
    from supv_cli.plan.operate import conciliation_plan, conciliation_run
    from supv_cli.plan.run_types import RunOptions
    from supv_cli.plan.stages import Plan

    rules, snapshot, status = plan_start(app, [])
    error = unseen(snapshot)
    for nick, theirs in strategy_clash(app.session.controller_states(snapshot), strategy):
        message = (f"the acting controller on {nick} runs --conciliate {theirs}: conciliating with {strategy} "
                   "beside it may stop every copy")
        if not (force or dry_run):
            raise UsageError(f"{message}; give --strategy {theirs}, hold the controllers first (supv controller "
                             "hold), or --force")
        echo_err(f"supv: warning: {message}" + (" (--force)" if force else ""))
    if dry_run:
        emit_plan(app, conciliation_plan(rules, snapshot, status, namespecs, strategy), snapshot, single=True)
    else:
        run = conciliation_run(rules, status, namespecs, strategy, RunOptions(stop_timeout=stop_timeout))
        if run is None:
            echo_err("supv: no conflict" if error is None else "supv: no conflict among the instances that answered")
            app.emit(report_view(Run(rules, Plan(RunKind.STOP, ()))))
        else:
            execute(app, run, quiet, poll_interval, (snapshot, status))
    if error is not None:
        raise error
