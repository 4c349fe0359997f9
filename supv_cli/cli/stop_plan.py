"""``supv stop-plan``: the staged stop of applications (stop_sequence, highest first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.completion import complete_applications
from supv_cli.cli.options import (
    cluster_options,
    dry_run_option,
    output_options,
    poll_interval_option,
    quiet_option,
    stop_timeout_option,
)

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("stop-plan")
@cluster_options
@output_options
@click.argument("applications", nargs=-1, metavar="[APP]...", shell_complete=complete_applications)
@dry_run_option()
@stop_timeout_option
@poll_interval_option
@quiet_option
@click.pass_obj
def stop_plan(app: App, applications: tuple[str, ...], dry_run: bool,
              stop_timeout: float, poll_interval: float, quiet: bool) -> None:
    """Stop applications stage by stage: stop_sequence, highest first.

    Applications go by stop_sequence (highest first, equal values in parallel; every managed application
    when none is named; an unmanaged one may be named), and inside each its programs by stop_sequence,
    highest first. Each running program is stopped on every instance where it runs; a stage is done when
    they are stopped, or when stopwaitsecs plus a margin has passed.

    \b
    Exit status: 0 stopped; 1 a program did not stop; 2 usage/rules error;
    3 no instance answered, or one that may run an application did not answer (what may still run
    there is named); 130 interrupted; 143 terminated (SIGTERM; the report is printed).
    \b
    Examples:
      supv stop-plan -c etc/supv.conf --dry-run
      supv stop-plan -c etc/supv.conf scen3_hci_02
    """
    from supv_cli.cli.actions import emit_plan, execute, plan_start
    from supv_cli.plan.executor import Run
    from supv_cli.plan.planner import build_stop_plan
    from supv_cli.plan.run_types import RunOptions

    rules, snapshot, status = plan_start(app, applications)
    plan = build_stop_plan(rules, snapshot, status, applications)
    if dry_run:
        emit_plan(app, plan, snapshot)
        return
    execute(app, Run(rules, plan, RunOptions(stop_timeout=stop_timeout)), quiet, poll_interval, (snapshot, status))
