"""``supv run-plan``: the staged start of applications, as the rules file says."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.completion import complete_applications
from supv_cli.cli.options import (
    Seconds,
    cluster_options,
    dry_run_option,
    output_options,
    poll_interval_option,
    quiet_option,
    start_options,
    strategy_option,
)
from supv_cli.cluster import CONTROLLER_PROGRAM

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("run-plan")
@cluster_options
@output_options
@click.argument("applications", nargs=-1, metavar="[APP]...", shell_complete=complete_applications)
@dry_run_option("Print the plan (stages, instance per program, loads, reasons); change nothing.")
@start_options
@strategy_option
@poll_interval_option
@quiet_option
@click.option("--watch", is_flag=True, help="Stay running as the controller: automatic start and failover "
              "(see the Failover section of supv-run-plan(1)).")
@click.option("--interval", type=Seconds(min=0.05, max=60), default=0.5, show_default=True,
              envvar="SUPV_WATCH_INTERVAL", metavar="SECONDS", help="--watch: time between two cycles.")
@click.option("--lost-after", type=click.IntRange(min=1), default=2, show_default=True, metavar="N",
              help="--watch: consecutive missed polls after which an instance is lost.")
@click.option("--conciliate", type=click.Choice(["infanticide", "senicide", "stop", "user"]),
              default="infanticide", show_default=True,
              help="--watch: a managed program running on several instances is kept on the oldest "
                   "(infanticide), the youngest (senicide), stopped everywhere (stop) or only reported (user).")
@click.option("--restart-budget", type=click.IntRange(min=0), default=3, show_default=True, metavar="N",
              help="--watch: restarts of one program or application allowed per --budget-window.")
@click.option("--budget-window", type=Seconds(min=1), default=300.0, show_default=True,
              metavar="SECONDS", help="--watch: the window of --restart-budget.")
@click.option("--startup-grace", type=Seconds(min=0), default=10.0, show_default=True,
              metavar="SECONDS", help="--watch: the automatic start waits for every instance to answer, at most "
              "this long.")
@click.option("--quorum", type=click.IntRange(min=1), default=None, metavar="N",
              help="--watch: act only while seeing N instances (answering, not lost); default: a strict "
                   "majority of the instance list, so a side cut off by a partition acts on nothing, but with "
                   "most instances down nothing is restarted; lower it when consoles are often off; 1: act "
                   "whatever is seen (both sides of a partition act).")
@click.option("--no-autostart", is_flag=True, help="--watch: failover only, no automatic start.")
@click.option("--controller-program", default=CONTROLLER_PROGRAM, show_default=True, metavar="NAME",
              help="--watch: the group/program name of the controllers in supervisord (leader election).")
@click.pass_obj
def run_plan(app: App, applications: tuple[str, ...], dry_run: bool,
             start_timeout: float, exit_timeout: float, poll_interval: float, local: str | None,
             strategy: str | None, quiet: bool, watch: bool, interval: float, lost_after: int, conciliate: str,
             restart_budget: int, budget_window: float, startup_grace: float, quorum: int | None, no_autostart: bool,
             controller_program: str) -> None:
    """Start applications stage by stage, as Supvisors' rules say.

    Applications go by start_sequence (lowest first, equal values in parallel; every managed application
    with start_sequence > 0 when none is named), and inside each its programs by start_sequence. A stage
    is done when its programs are RUNNING, or EXITED with an expected code for wait_exit programs; every
    wait has a deadline. A required program that fails applies its starting_failure_strategy (ABORT, STOP,
    CONTINUE). Programs already running are left alone, so running the plan again converges.

    \b
    Exit status: 0 every program done; 1 a program failed; 2 usage/rules error;
    3 no instance answered, or one that may run an application did not answer; 130 interrupted;
    143 terminated (SIGTERM; the report is printed).
    \b
    Examples:
      supv run-plan -c etc/supv.conf --dry-run
      supv run-plan -i '<s1>127.0.0.1:61001 <s2>127.0.0.1:61002' -r rules.xml
      supv run-plan -c etc/supv.conf scen3_srv --json > report.json
    """
    from supv_cli.plan.run_types import RunOptions

    if watch:
        if dry_run or strategy:
            raise click.UsageError(f"--watch and {'--dry-run' if dry_run else '--strategy'} cannot be used together")
        from supv_cli.cli.watch import run_controller
        from supv_cli.controller.options import ControllerOptions  # not the core: the lean process has it
        from supv_cli.plan.conciliation import Conciliation

        options = ControllerOptions(interval=interval, lost_after=lost_after, conciliate=Conciliation(conciliate),
                                    restart_budget=restart_budget, budget_window=budget_window,
                                    startup_grace=startup_grace, autostart=not no_autostart, quorum=quorum,
                                    controller_program=controller_program,
                                    run=RunOptions(start_timeout, exit_timeout, lost_after=lost_after))
        run_controller(app, options, local, applications)
        return
    from supv_cli.cli.actions import emit_plan, execute, local_instance, plan_start
    from supv_cli.plan.executor import Run
    from supv_cli.plan.planner import build_start_plan
    from supv_cli.rules.model import StartingStrategy

    rules, snapshot, status = plan_start(app, applications)
    local_one = local_instance(app.instances, local)
    chosen = StartingStrategy(strategy.upper()) if strategy else None
    plan = build_start_plan(rules, snapshot, status, applications, local_one, chosen)
    if dry_run:
        emit_plan(app, plan, snapshot)
        return
    execute(app, Run(rules, plan, RunOptions(start_timeout, exit_timeout, local=local_one)), quiet, poll_interval,
            (snapshot, status))
