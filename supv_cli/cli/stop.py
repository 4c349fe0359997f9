"""``supv stop NAMESPEC...`` (alias ``stop_process``): stop processes wherever they run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.options import process_options

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("stop")
@process_options(stops=True)
@click.pass_obj
def stop(app: App, namespecs: tuple[str, ...], dry_run: bool, quiet: bool,
         poll_interval: float, stop_timeout: float) -> None:
    """Stop processes (APP:PROC or APP:*) on every instance where they run, all at once.

    A stop is done when the process is STOPPED (or EXITED, FATAL) there, or failed after its stopwaitsecs
    plus --stop-timeout. A process that runs nowhere is reported ALREADY.

    \b
    JSON: the run-plan report (see supv-start(1)); with --dry-run the plan.

    \b
    Exit status: 0 stopped (or not running); 1 a stop failed; 2 usage, rules error or unknown name;
    3 no instance answered; 130 interrupted.
    \b
    Examples:
      supv stop -c etc/supv.conf scen3_srv:scen3_track_manager
      supv stop -c etc/supv.conf 'scen3_hci_02:*' --dry-run
      supv stop_process -c etc/supv.conf scen3_srv:scen3_item_manager --json
    """
    from supv_cli.cli.actions import operate_processes
    from supv_cli.plan.run_types import RunOptions

    operate_processes(app, "stop", namespecs, dry_run, quiet, poll_interval,
                      RunOptions(stop_timeout=stop_timeout))
