"""``supv sversion``: supv's version and the version of each supervisord."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.options import cluster_options, output_options

if TYPE_CHECKING:
    from supv_cli.cli.app import App

CALLS = [("supervisor.getSupervisorVersion", ()), ("supervisor.getAPIVersion", ())]


@click.command("sversion")
@cluster_options
@output_options
@click.pass_obj
def sversion(app: App) -> None:
    """Show supv's version and, per instance, its supervisord and XML-RPC API versions.

    supvisorsctl sversion prints the Supvisors API version; supv has no plugin, so it prints its own
    version, then what each supervisord answers (an instance that does not answer is shown with why).

    \b
    JSON: {supv, instances: [{instance, supervisor_version, api_version, reason}]} (versions null for an
    instance that did not answer).

    \b
    Exit status: 0 shown; 2 usage or configuration error; 3 no instance answered.
    \b
    Examples:
      supv sversion -c etc/supv.conf
      supv sversion -c etc/supv.conf --json | jq -r .supv
    """
    from supv_cli import __version__
    from supv_cli.cli.output import Table, View, plain_table, warn
    from supv_cli.cluster.client import CallError
    from supv_cli.errors import ClusterError

    session = app.session
    instances = list(app.instances)
    entries = session.each(instances, lambda client: client.multicall(CALLS))
    rows: list[dict[str, Any]] = []
    for instance, entry in zip(instances, entries):
        answers = entry if isinstance(entry, list) else [entry, entry]
        good = [a if not isinstance(a, CallError) else None for a in answers]
        reason = next((str(a.reason) for a in answers if isinstance(a, CallError)), "")
        rows.append({"instance": instance.nick, "supervisor_version": good[0], "api_version": good[1],
                     "reason": reason})
    for health in session.unreported():
        warn(session.line(health))
    table = Table(["Instance", "Supervisor", "API", "Reason"],
                  [[r["instance"], r["supervisor_version"] or "-", r["api_version"] or "-", r["reason"]]
                   for r in rows])
    app.emit(View(data=lambda: {"supv": __version__, "instances": rows},
                  tables=lambda: [Table(["supv"], [[__version__]]), table],
                  plain=lambda: [f"supv {__version__}", plain_table(table.headers, table.rows)]))
    if rows and all(r["supervisor_version"] is None for r in rows):
        raise ClusterError(f"no instance answered ({len(rows)} unreachable): check {app.settings.instances_source}")
