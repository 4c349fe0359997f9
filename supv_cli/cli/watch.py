"""``supv run-plan --watch``: the options checked here, then the controller's own lean process.

The loop, its logs (stderr) and its state lines (stdout) are ``supv_cli/controller/main.py``: once the
options are read and the rules loaded, this command re-executes itself into it (the same pid, without
click, lxml and the rest of the command line; docs/decisions.md, issue 18), or runs it in place when
that is not possible (a test's captured streams, ``SUPV_CONTROLLER_LEAN=0``, an exec that failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.terminal import current_terminal
from supv_cli.controller.main import HEARTBEAT, ControllerOutput, stamp, with_leader_state

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.controller.options import ControllerOptions
    from supv_cli.rules import Rules

__all__ = ["HEARTBEAT", "ControllerOutput", "check_controller_arguments", "run_controller", "stamp",
           "with_leader_state"]


def check_controller_arguments(app: App, rules: Rules, options: ControllerOptions,
                               applications: Sequence[str]) -> None:
    """The applications named have rules, the quorum is at most the instances: else a usage error."""
    unmanaged = [name for name in applications if not rules.application_rules(name).managed]
    if unmanaged:
        raise click.BadParameter(f"no rules element matches {', '.join(unmanaged)}: supv cannot start it",
                                 param_hint="APP")
    if options.quorum is not None and options.quorum > len(app.instances):
        raise click.BadParameter(f"{options.quorum} is more than the {len(app.instances)} instances of the "
                                 "list: give at most that many", param_hint="--quorum")


def run_controller(app: App, options: ControllerOptions, local_nick: str | None, applications: Sequence[str]) -> None:
    """Run the controller until SIGTERM / Ctrl-C: in a lean process of its own when possible."""
    from supv_cli.cli.actions import local_instance
    from supv_cli.cli.polling import use_watch_timeout
    from supv_cli.controller.main import Handover, can_reexecute, reexecute, serve

    use_watch_timeout(app)  # the controller's own default beats the -c file's: not a user's override
    app.settings.require_instances()  # "no instances" comes before anything about the rules
    rules = app.require_rules()
    local = local_instance(app.instances, local_nick)
    check_controller_arguments(app, rules, options, applications)
    handover = Handover(settings=app.settings, rules=rules, options=options, local=local,
                        applications=tuple(applications), json_lines=app.fmt == "json",
                        err_tty=current_terminal().err_tty)
    note = reexecute(handover) if can_reexecute() else None  # returns only when it failed
    serve(handover, app.session, note)
