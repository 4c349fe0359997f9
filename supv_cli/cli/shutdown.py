"""``supv shutdown`` (alias ``sshutdown``): shut supervisord down on every instance, or those named."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.controller import program_option
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.supervisord_control import instance_option, yes_option

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("shutdown")
@cluster_options
@output_options
@instance_option
@yes_option
@program_option
@click.option("--no-hold", is_flag=True, help="Do not hold the controllers first.")
@click.pass_obj
def shutdown(app: App, nicks: tuple[str, ...], yes: bool, program: str, no_hold: bool) -> None:
    """Shut supervisord down on every instance (or each --instance NICK), as supvisorsctl sshutdown.

    supervisord stops every process it runs and exits (supervisor.shutdown): nothing can start it again
    remotely. The controllers are held first (`supv controller hold`, its report on stderr) and stay
    held, so that no controller starts elsewhere what ran on the instances shut down; `supv controller
    release` resumes automatic start and failover when you want it. A shutdown is done when the instance
    no longer answers (deadline: the stopwaitsecs of what runs there, group after group, + --timeout
    + 10 s).

    Without --yes it asks on a terminal, and exits 2 touching nothing when stdin is not a terminal.

    \b
    JSON: {kind: "shutdown", result, held: [nicks], instances: [{instance, action, outcome, detail,
    elapsed}]}; outcome SHUT_DOWN, FAILED, TIMEOUT or UNREACHABLE (not touched).

    \b
    Exit status: 0 every instance named shut down; 1 a shutdown failed or timed out; 2 usage error, or
    not confirmed; 3 an instance named did not answer; 130 interrupted.
    \b
    Examples:
      supv shutdown -c etc/supv.conf --instance console_2 --yes
      supv sshutdown -c etc/supv.conf --yes
    """
    from supv_cli.cli.supervisord_control import SHUTDOWN, control

    control(app, SHUTDOWN, nicks, yes, program, hold=not no_hold)
