"""``supv start_any_process REGEX...``: start one stopped process matching each regex, where the rules place it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.options import action_options, cluster_options, output_options, start_options, strategy_option

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("start_any_process")
@cluster_options
@output_options
@click.argument("regexes", nargs=-1, required=True, metavar="REGEX...")
@strategy_option
@action_options
@start_options
@click.pass_obj
def start_any_process(app: App, regexes: tuple[str, ...], strategy: str | None, dry_run: bool, quiet: bool,
                      poll_interval: float, start_timeout: float, exit_timeout: float, local: str | None) -> None:
    """Start one process per REGEX: the first that runs nowhere, whose namespec matches it, and that
    the rules can place now, as supvisorsctl start_any_process.

    A namespec (APP:PROC) matches when the regular expression is found in it (Python re.search, as
    Supvisors). Candidates go in application then process order; the first one the rules place (its
    identifiers, the 100 % load cap, the application's starting_strategy or --strategy; supvisorsctl's
    leading STRATEGY word is taken as --strategy) is started as `supv start` starts it, and waited for.
    A regex that picks nothing is reported on stderr with why (no match, all running, no resource).

    \b
    JSON: the run-plan report (see supv-start(1)); with --dry-run the plan.

    \b
    Exit status: 0 one process started per regex; 1 a regex picked nothing, or a start failed; 2 usage
    error (a bad regex); 3 no instance answered; 130 interrupted.
    \b
    Examples:
      supv start_any_process -c etc/supv.conf 'scen3_hci_0[12]:scen3_chart_view'
      supv start_any_process -c etc/supv.conf LESS_LOADED 'worker_' --dry-run
    """
    from supv_cli.cli.actions import local_instance, operate_processes, plan_start
    from supv_cli.cli.output import echo_err
    from supv_cli.errors import CommandFailed, ExitCode
    from supv_cli.plan.anywhere import compile_regex, pick_any
    from supv_cli.plan.run_types import RunOptions
    from supv_cli.rules.model import StartingStrategy

    for regex in regexes:
        compile_regex(regex)  # a bad one is exit 2 before anything is asked
    rules, snapshot, status = plan_start(app, [])
    chosen = StartingStrategy(strategy.upper()) if strategy else None
    picks = pick_any(rules, snapshot, status, regexes, chosen, local_instance(app.instances, local))
    for pick in picks:
        if pick.namespec is None:
            echo_err(f"supv: {pick.regex!r}: nothing started: {pick.reason}")
        else:
            echo_err(f"supv: {pick.regex!r}: {pick.namespec}")
    namespecs = [pick.namespec for pick in picks if pick.namespec is not None]
    if namespecs:
        operate_processes(app, "start", namespecs, dry_run, quiet, poll_interval,
                          RunOptions(start_timeout, exit_timeout), strategy, local)
    if len(namespecs) < len(picks):
        raise CommandFailed(ExitCode.FAILED)
