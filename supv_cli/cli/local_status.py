"""``supv local_status [NAMESPEC...]``: the processes of the local instance, as supvisorsctl local_status."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.options import cluster_options, local_option, output_options

if TYPE_CHECKING:
    from supv_cli.cli.app import App

HEADERS = ["Application", "Process", "State", "Start", "Now", "PID", "Description"]


def _clock(stamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(stamp)) if stamp else "0"


@click.command("local_status")
@cluster_options
@output_options
@click.argument("namespecs", nargs=-1, metavar="[NAMESPEC]...")
@local_option("The local instance (default: the supervisord that started supv, from SUPERVISOR_SERVER_URL).")
@click.pass_obj
def local_status(app: App, namespecs: tuple[str, ...], local: str | None) -> None:
    """Show the processes of the local instance as its supervisord reports them, as supvisorsctl
    local_status: the instance named by --local, else the supervisord that started supv
    (SUPERVISOR_SERVER_URL, matched against the instance list).

    NAMESPEC: APP:PROC, APP:* (or APP:), or NAME for NAME:NAME; none or `all`: every process there.
    Columns as supvisorsctl's (Application, Process, State, Start, Now, PID) without Disabled and Extra
    args (stock supervisord has neither), with supervisord's description.

    \b
    JSON: {instance, processes: [{application_name, process_name, statename, start, now, pid,
    description}]}.

    \b
    Exit status: 0 shown; 2 no local instance known, usage error or unknown name; 3 it did not answer.
    \b
    Examples:
      supv local_status -c etc/supv.conf --local server_1
      SUPERVISOR_SERVER_URL=http://127.0.0.1:61001 supv local_status -c etc/supv.conf 'scen3_srv:*'
    """
    from supv_cli.cli.actions import local_instance
    from supv_cli.cli.output import Table, View
    from supv_cli.cluster.client import CallError, instance_snapshot
    from supv_cli.errors import ClusterError, UsageError
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.selection import catalogue_of, select_processes

    app.settings.require_instances()
    instance = local_instance(app.instances, local)
    if instance is None:
        raise UsageError("no local instance: give --local NICK, or run supv under supervisord "
                         "(SUPERVISOR_SERVER_URL names one of the instances)")
    (answers,) = app.session.ask([(instance, [("supervisor.getState", ()), ("supervisor.getAllProcessInfo", ())])])
    try:
        if isinstance(answers, CallError):
            raise answers
        snap = instance_snapshot(instance, answers)
    except CallError as error:
        raise ClusterError(f"{instance.nick} did not answer: {error.reason}") from None
    # the one grammar (supv_cli/selection.py) over what this instance has: hints and exit 2 as everywhere
    selection = select_processes(namespecs, catalogue_of(Snapshot((snap,))))
    by_namespec = {info.namespec: info for info in snap.processes}
    infos = [by_namespec[namespec] for namespec in selection.processes]
    rows: list[dict[str, Any]] = [
        {"application_name": i.group, "process_name": i.name, "statename": i.state.name, "start": i.start,
         "now": i.now, "pid": i.pid, "description": i.description} for i in infos]
    app.emit(View(data=lambda: {"instance": instance.nick, "processes": rows},
                  tables=lambda: [Table(HEADERS, [[r["application_name"], r["process_name"], r["statename"],
                                                   _clock(r["start"]), _clock(r["now"]), r["pid"],
                                                   r["description"]] for r in rows])]))
    app.conclude(selection)
