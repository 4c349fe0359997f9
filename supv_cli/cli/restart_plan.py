"""``supv restart-plan [APP...]`` (alias ``restart_application``): stop-plan then run-plan, one report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.completion import complete_applications
from supv_cli.cli.options import (
    action_options,
    cluster_options,
    output_options,
    start_options,
    stop_timeout_option,
    strategy_option,
)

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("restart-plan")
@cluster_options
@output_options
@click.argument("applications", nargs=-1, metavar="[APP]...", shell_complete=complete_applications)
@action_options
@start_options
@stop_timeout_option
@strategy_option
@click.pass_obj
def restart_plan(app: App, applications: tuple[str, ...], dry_run: bool, quiet: bool,
                 poll_interval: float, start_timeout: float, exit_timeout: float, local: str | None,
                 stop_timeout: float, strategy: str | None) -> None:
    """Restart applications: their stop-plan, then their run-plan, in one report.

    The stop goes by stop_sequence (highest first), the start by start_sequence, exactly as stop-plan and
    run-plan do (every managed application when none is named; the start then takes those with
    start_sequence > 0). The applications start from scratch: their wait_exit programs (checks) run
    again.

    \b
    JSON: the run-plan report with kind "restart": stop rows, then start rows; with --dry-run the plan,
    the start placed on the cluster as it will be once stopped.

    \b
    Exit status: 0 restarted; 1 a program failed to stop or start; 2 usage/rules error;
    3 no instance answered; 130 interrupted.
    \b
    Examples:
      supv restart-plan -c etc/supv.conf scen3_hci_01
      supv restart-plan -c etc/supv.conf --dry-run
      supv restart_application -c etc/supv.conf scen3_srv --json > report.json
    """
    from supv_cli.cli.actions import emit_plan, execute, local_instance, plan_start
    from supv_cli.plan.operate import restart_plan as dry_restart
    from supv_cli.plan.operate import restart_run, restart_start
    from supv_cli.plan.planner import build_start_plan, build_stop_plan
    from supv_cli.plan.run_types import RunOptions
    from supv_cli.rules.model import StartingStrategy

    rules, snapshot, status = plan_start(app, applications)
    local_one = local_instance(app.instances, local)
    chosen = StartingStrategy(strategy.upper()) if strategy else None
    stop = build_stop_plan(rules, snapshot, status, applications, "restart-plan")
    start = restart_start(rules, snapshot, stop, lambda snap, after: build_start_plan(
        rules, snap, after, applications, local_one, chosen, "restart-plan"))
    if dry_run:
        emit_plan(app, dry_restart(stop, start), snapshot)
        return
    options = RunOptions(start_timeout, exit_timeout, stop_timeout, local=local_one)
    execute(app, restart_run(rules, stop, start, options), quiet, poll_interval, (snapshot, status))
