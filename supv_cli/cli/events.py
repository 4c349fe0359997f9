"""``supv events``: one line per change seen across the cluster, until interrupted or N events."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from supv_cli.cli.options import Seconds, cluster_options, output_options
from supv_cli.cli.output import echo_err

if TYPE_CHECKING:
    from supv_cli.cli.app import App


@click.command("events", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@click.option("--count", type=click.IntRange(min=1), metavar="N", help="Stop after N events.")
@click.option("--interval", type=Seconds(min=0.1), default=1.0, show_default=True, metavar="SECONDS",
              help="Seconds between two polls of the instances.")
@click.pass_obj
def events(app: App, count: int | None, interval: float) -> None:
    """Print one line per change seen across the cluster, until interrupted or N events.

    Every instance is polled every --interval seconds, as the controller (run-plan --watch) polls them,
    and consecutive answers are compared: a process changing state on an instance (with its pid), an
    instance lost or back, and, with rules (-r), a managed process active on several instances
    (a conflict) or back on one. What is there at the start is not an event: a line on stderr says
    when the first poll is done ('supv: events: watching N instance(s) every Ts'). A state that lasts less
    than the interval may not be seen (Supervisor's XML-RPC has no event stream).

    \b
    Plain lines (one per change, flushed at once):
      TIME NICK APP:PROC FROM -> TO (pid N; reason)
      2026-11-30T23:40:01.123 server_1 scen3_srv:scen3_item_manager STARTING -> RUNNING (pid 4242)
      2026-11-30T23:40:05.500 server_2 - RUNNING -> UNREACHABLE (connection refused)
      2026-11-30T23:40:07.010 server_1,server_3 scen3_srv:scen3_item_manager NONE -> CONFLICT
    An instance change has '-' for APP:PROC; a process that appears or disappears (reread/update) comes
    from or goes to NONE; a restart seen only by its new pid is FROM -> FROM.
    JSON lines (--json): {time, kind: process|instance|conflict, instance, application_name,
    process_name, from, to, pid, reason, instances}; kind instance has from/to RUNNING or UNREACHABLE
    and null names; kind conflict has from/to NONE or CONFLICT and the nicks in instances.

    \b
    Exit status: 0 after N events (--count), or stdout closed (| head: seen at the next poll); 2 usage
    or configuration error; 130 interrupted; 143 terminated.

    \b
    Examples:
      supv events -c etc/supv.conf
      supv events -c etc/supv.conf --json | jq -c 'select(.kind != "process")'
      supv events -i '<s1>10.0.0.1:61000 <s2>10.0.0.2:61000' --count 1 --interval 0.5   # wait for a change
    """
    from supv_cli.cli.polling import ConflictWatch, snapshots, use_watch_timeout
    from supv_cli.look.changes import ChangeDetector

    use_watch_timeout(app)
    app.session  # noqa: B018  ("no instances" is an error before anything is said)
    conflicts = ConflictWatch(app.rules)  # the rules loaded, and their warnings said, before the stream
    detector = ChangeDetector()
    seen = polls = 0
    for snapshot in snapshots(app, interval):
        polls += 1
        if polls == 1:  # the baseline is taken: say so, and which instances do not answer (later: events)
            app.report_unreachable(snapshot)
            echo_err(f"supv: events: watching {len(app.instances)} instance(s) every {interval:g}s")
        for change in detector.feed(snapshot, conflicts(snapshot)):
            line = json.dumps(change.to_dict()) if app.fmt == "json" else app.terminal.out(change.line())
            click.echo(line, color=True)  # the Terminal decided: click strips nothing
            sys.stdout.flush()  # a stream: each line must reach a pipe when it happens
            seen += 1
            if count is not None and seen >= count:
                return
