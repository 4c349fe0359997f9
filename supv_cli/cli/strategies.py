"""``supv strategies``: the strategies in force, as supvisorsctl strategies shows them."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.controller import program_option
from supv_cli.cli.options import cluster_options, output_options

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.snapshot import Snapshot


def controller_options(command: str) -> dict[str, Any] | None:  # Any: click's parsed parameters
    """The options of a ``supv run-plan --watch`` command line (defaults filled in), or None when it is
    not one."""
    from supv_cli.cli.run_plan import run_plan

    words = shlex.split(command)
    if "run-plan" not in words:
        return None
    args = words[words.index("run-plan") + 1:]
    try:
        ctx = run_plan.make_context("run-plan", args, resilient_parsing=True)
    except click.ClickException:
        return None
    return dict(ctx.params)


def _controller_command(app: App, snapshot: Snapshot, program: str) -> tuple[str | None, str | None]:
    """(nick, command line) of the acting controller, else of the first one configured."""
    from supv_cli.cli.controller import controllers

    states = app.session.controller_states(snapshot, program)
    found = controllers(snapshot, program)
    acting = [(i, info) for i, info in found if states.get(i.nick, {}).get("acting")]
    for instance, info in acting + found:
        try:
            configs = app.session.call(instance, "supervisor.getAllConfigInfo")
        except Exception:  # noqa: BLE001 - a CallError: try the next one
            continue
        for config in configs:
            if (config.get("group"), config.get("name")) == (info.group, info.name):
                return instance.nick, str(config.get("command", ""))
    return None, None


@click.command("strategies")
@cluster_options
@output_options
@program_option
@click.pass_obj
def strategies(app: App, program: str) -> None:
    """Show the strategies in force, as supvisorsctl strategies: conciliation, starting, failure and
    auto-fencing, then each application's strategies from the rules.

    supv has no plugin options: the conciliation (and the loss detection that stands for auto-fencing)
    are the options of the controller (`supv run-plan --watch`), read from the command line of the
    acting controller program (else the first one configured); the starting strategy is the rules'
    default (a supervisord.conf's starting_strategy, else CONFIG), and each application may set its own.

    \b
    JSON: {controller, conciliation, autostart, lost_after, quorum, auto_fencing, failure, starting,
    applications: [{application_name, managed, starting_strategy, starting_failure_strategy,
    running_failure_strategy}]} (controller fields null when no controller is configured).

    \b
    Exit status: 0 shown; 2 usage or configuration error; 3 no instance answered.
    \b
    Examples:
      supv strategies -c etc/supv.conf
      supv strategies -c etc/supv.conf --json | jq -r .conciliation
    """
    from supv_cli.cli.output import Table, View, plain_table

    status = app.status()
    nick, command = _controller_command(app, status.snapshot, program)
    options = controller_options(command) if command else None
    starting = app.settings.default_starting_strategy or "CONFIG"
    applications = [{"application_name": name, "managed": a.rules.managed,
                     "starting_strategy": a.rules.starting_strategy.value,
                     "starting_failure_strategy": a.rules.starting_failure_strategy.value,
                     "running_failure_strategy": a.rules.running_failure_strategy.value}
                    for name, a in status.applications.items() if a.rules.managed]
    data = {"controller": nick,
            "conciliation": options["conciliate"].upper() if options else None,
            "autostart": (not options["no_autostart"]) if options else None,
            "lost_after": options["lost_after"] if options else None,
            "quorum": (options["quorum"] or "majority") if options else None,
            "auto_fencing": False, "failure": "CONTINUE" if options else None,
            "starting": starting, "applications": applications}

    def lines() -> list[str]:
        where = f" (controller on {nick})" if nick else " (no controller configured)"
        out = ["Auto-fencing: False (a lost instance rejoins when it answers again)",
               f"Failure:      {data['failure'] or 'none'}{where}",
               f"Conciliation: {data['conciliation'] or 'none'}{where}",
               f"Starting:     {starting}"]
        if options:
            out.append(f"Controller:   lost after {data['lost_after']} missed polls, quorum {data['quorum']}, "
                       f"autostart {data['autostart']}")
        if applications:
            out += ["", plain_table(HEADERS, [_cells(a) for a in applications])]
        return out

    app.emit(View(data=lambda: data, plain=lines, tables=lambda: [
        Table(["Strategy", "Value"], [[line.split(":", 1)[0], line.split(":", 1)[1].strip()]
                                      for line in lines() if ":" in line and not line.startswith(" ")][:5]),
        Table(HEADERS, [_cells(a) for a in applications])]))


HEADERS = ["Application", "Starting", "Starting failure", "Running failure"]


def _cells(application: dict[str, Any]) -> list[str]:
    return [application["application_name"], application["starting_strategy"],
            application["starting_failure_strategy"], application["running_failure_strategy"]]
