"""``supv start NAMESPEC...`` (alias ``start_process``): start processes where the rules place them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.options import process_options

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("start")
@process_options(starts=True)
@click.pass_obj
def start(app: App, namespecs: tuple[str, ...], strategy: str | None, dry_run: bool,
          quiet: bool, poll_interval: float, start_timeout: float, exit_timeout: float, local: str | None) -> None:
    """Start processes (APP:PROC or APP:*) where the rules place them, all at once.

    Each process that runs nowhere is placed as run-plan places it (identifiers, aliases, '#', '@', the
    100 % load cap, the application's distribution) with the application's starting_strategy, or
    --strategy; no staging. A start is done on RUNNING, or EXITED with an expected code for a wait_exit
    program (which is started again when it exited); every wait has a deadline (startsecs +
    --start-timeout). A process already running is left alone and reported ALREADY. A process the rules
    place nowhere is reported NO_RESOURCE with the reason.

    \b
    JSON: the run-plan report, {kind, result, processes: [{application_name, process_name, namespec,
    sequence, action, instance, outcome, required, elapsed, detail}]}; with --dry-run the plan.

    \b
    Exit status: 0 every process running (or already); 1 a start failed (FAILED, TIMEOUT, NO_RESOURCE,
    LOST); 2 usage, rules error or unknown name; 3 no instance answered; 130 interrupted.
    \b
    Examples:
      supv start -c etc/supv.conf scen3_srv:scen3_track_manager
      supv start -c etc/supv.conf 'scen3_hci_01:*' --strategy LESS_LOADED --dry-run
      supv start_process -c etc/supv.conf scen3_srv:scen3_item_manager --json
    """
    from supv_cli.cli.actions import operate_processes
    from supv_cli.plan.run_types import RunOptions

    operate_processes(app, "start", namespecs, dry_run, quiet, poll_interval,
                      RunOptions(start_timeout, exit_timeout), strategy, local)
