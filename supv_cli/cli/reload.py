"""``supv reload`` (alias ``sreload``): restart supervisord on every instance, or those named."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from supv_cli.cli.controller import program_option
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.supervisord_control import instance_option, yes_option

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("reload")
@cluster_options
@output_options
@instance_option
@yes_option
@program_option
@click.option("--no-hold", is_flag=True, help="Do not hold the controllers around the restart.")
@click.option("--keep-held", is_flag=True, help="Leave the controllers held after the restart (maintenance).")
@click.pass_obj
def reload(app: App, nicks: tuple[str, ...], yes: bool, program: str, no_hold: bool, keep_held: bool) -> None:
    """Restart supervisord on every instance (or each --instance NICK), as supvisorsctl sreload.

    supervisord stops every process it runs, reads its configuration again and starts its autostart
    programs (supervisor.restart). The controllers are held first (`supv controller hold`, its report on
    stderr), so that no controller moves programs away from an instance while it restarts; once every
    instance named is RUNNING again they are released (`supv controller release`), unless --keep-held.
    A restart is done when supervisord answers RUNNING again after a new start (seen in its log, or seen
    down); every wait has a deadline (the stopwaitsecs of what runs there, group after group,
    + --timeout + 10 s).

    Without --yes it asks on a terminal, and exits 2 touching nothing when stdin is not a terminal.

    \b
    JSON: {kind: "reload", result, held: [nicks], instances: [{instance, action, outcome, detail,
    elapsed}]}; outcome RESTARTED, FAILED, TIMEOUT or UNREACHABLE (not touched).

    \b
    Exit status: 0 every instance named restarted; 1 a restart failed or timed out; 2 usage error, or not
    confirmed; 3 an instance named did not answer; 130 interrupted.
    \b
    Examples:
      supv reload -c etc/supv.conf --instance server_2 --yes
      supv sreload -c etc/supv.conf --yes --json
    """
    from supv_cli.cli.supervisord_control import RELOAD, control

    control(app, RELOAD, nicks, yes, program, hold=not no_hold, keep_held=keep_held)
