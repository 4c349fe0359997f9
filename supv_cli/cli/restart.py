"""``supv restart NAMESPEC...`` (alias ``restart_process``): stop processes, then start them placed anew."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.options import process_options

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("restart")
@process_options(starts=True, stops=True)
@click.pass_obj
def restart(app: App, namespecs: tuple[str, ...], strategy: str | None, dry_run: bool,
            quiet: bool, poll_interval: float, start_timeout: float, exit_timeout: float, local: str | None,
            stop_timeout: float) -> None:
    """Restart processes (APP:PROC or APP:*): stop them wherever they run, then start each placed anew.

    The stop is supv stop's, the start supv start's (placement by the rules with the application's
    starting_strategy or --strategy, the load cap counting what was just stopped as gone). One report
    with the stop rows, then the start rows.

    \b
    JSON: the run-plan report with kind "restart" (see supv-start(1)); with --dry-run the plan, the
    start placed on the cluster as it will be once the processes are stopped.

    \b
    Exit status: 0 restarted; 1 a stop or start failed; 2 usage, rules error or unknown name;
    3 no instance answered; 130 interrupted.
    \b
    Examples:
      supv restart -c etc/supv.conf scen3_srv:scen3_track_manager
      supv restart -c etc/supv.conf 'scen3_srv:*' --strategy MOST_LOADED --dry-run
      supv restart_process -c etc/supv.conf scen3_srv:scen3_item_manager --json
    """
    from supv_cli.cli.actions import operate_processes
    from supv_cli.plan.run_types import RunOptions

    operate_processes(app, "restart", namespecs, dry_run, quiet, poll_interval,
                      RunOptions(start_timeout, exit_timeout, stop_timeout), strategy, local)
