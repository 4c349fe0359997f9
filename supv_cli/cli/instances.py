"""``supv instances``: one row per supervisord instance: its state, load and process counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.options import ClusterOptions, cluster_options, output_options
from supv_cli.cli.output import print_json, print_rich_table
from supv_cli.errors import ClusterError, SupvError

if TYPE_CHECKING:
    from supv_cli.cluster.snapshot import InstanceSnapshot
    from supv_cli.status import ClusterStatus


def summarize(status: ClusterStatus, snap: InstanceSnapshot) -> dict[str, Any]:
    """The ``instances --json`` object of one instance.

    ``load`` is the sum of ``expected_loading`` of the processes running there (Supvisors' instance
    load), ``node_load`` that of every instance of its node; ``processes`` counts the processes it
    reports per Supervisor state; ``running`` / ``stopped`` / ``failed`` group them (STARTING, RUNNING,
    BACKOFF, STOPPING / STOPPED, EXITED expected / FATAL, UNKNOWN, EXITED unexpected). Load and counts
    are null for an instance that did not answer.
    """
    from supv_cli.cluster.snapshot import ProcessState
    from supv_cli.status import is_crashed, process_counts

    instance = snap.instance
    data: dict[str, Any] = {
        "nick": instance.nick,
        "url": instance.url,
        "identifier": instance.identifier,
        "node": instance.node,
        "stereotypes": list(instance.stereotypes),
        "state": snap.state,
        "reason": snap.reason,
        "error_kind": snap.error_kind.name if snap.error_kind is not None else None,
        "elapsed": round(snap.elapsed, 3),
        "controller": None,
    }
    if not snap.reachable:
        data.update(load=None, node_load=None, running=None, stopped=None, failed=None, total=None,
                    processes=None)
        return data
    running = failed = 0
    for info in snap.processes:
        if info.running or info.state == ProcessState.STOPPING:
            running += 1
        elif is_crashed(info.state, info.expected_exit):
            failed += 1
    total = len(snap.processes)
    data.update(load=status.instance_loads.get(instance.nick, 0), node_load=status.node_loads.get(instance.node, 0),
                running=running, stopped=total - running - failed, failed=failed, total=total,
                processes=process_counts(snap))
    return data


COLUMNS = (("nick", "Nick"), ("url", "URL"), ("state", "State"), ("load", "Load"), ("running", "Running"),
           ("stopped", "Stopped"), ("failed", "Failed"), ("total", "Total"), ("stereotypes", "Stereotypes"),
           ("controller", "Controller"), ("reason", "Reason"))


def _cells(row: dict[str, Any]) -> dict[str, str]:
    cells = {key: "-" if row[key] is None else str(row[key]) for key, _ in COLUMNS}
    cells["stereotypes"] = ",".join(row["stereotypes"]) or "-"
    controller = row.get("controller")
    cells["controller"] = "-" if not controller else ("acting" if controller.get("acting") else "standby")
    if row["load"] is not None:
        cells["load"] = f"{row['load']}%"
    return cells


def plain_lines(rows: list[dict[str, Any]]) -> list[str]:
    """supvisorsctl-style columns (each as wide as its longest value + 2); the reason comes last."""
    from supv_cli.cli.status_common import column_width

    cells = [_cells(row) for row in rows]
    widths = {key: column_width((c[key] for c in cells), title) for key, title in COLUMNS[:-1]}
    template = "".join(f"%({key})-{widths[key]}s" for key, _ in COLUMNS[:-1]) + "%(reason)s"
    lines = [template % dict(COLUMNS)]
    lines.extend(template % c for c in cells)
    return [line.rstrip() for line in lines]


def render(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print_json(rows)
    elif fmt == "plain":
        for line in plain_lines(rows):
            click.echo(line)
    else:
        from supv_cli.cli.status_common import state_cell, styled

        table = []
        for row in rows:
            cells = _cells(row)
            failed = styled(cells["failed"], "red" if row["failed"] else None)
            table.append([styled(cells["nick"], None), styled(cells["url"], None), state_cell(cells["state"]),
                          cells["load"], cells["running"], cells["stopped"], failed, cells["total"],
                          styled(cells["stereotypes"], None), styled(cells["controller"], None),
                          styled(cells["reason"], "dim")])
        print_rich_table([title for _, title in COLUMNS], table,
                         justify=["left", "left", "left", "right", "right", "right", "right", "right", "left",
                                  "left", "left"])


@click.command("instances", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@click.option("--check", is_flag=True,
              help="Exit 3 if an instance did not answer, 1 if one answered but is not RUNNING.")
def instances(cluster: ClusterOptions, fmt: str, check: bool) -> None:
    """Show every supervisord instance: state, load and process counts.

    One row per instance, in the instance list order: its nick, URL, state (supervisord's state, such
    as RUNNING or SHUTDOWN, or UNREACHABLE with the reason: connection refused, timeout,
    authentication failed, not a supervisord), its load (the sum of expected_loading of the processes
    running there, from the rules, as Supvisors' instance load) and how many processes it reports
    running (STARTING, RUNNING, BACKOFF, STOPPING), stopped, failed (FATAL, UNKNOWN, EXITED with an
    unexpected code) and in all, and the stereotypes it carries (from the inventory, -c).

    \b
    JSON: a list of {nick, url, identifier, node, stereotypes, state, reason, error_kind, elapsed, load,
    node_load, running, stopped, failed, total, processes: {STATENAME: count}, controller}; load and
    counts are null for an instance that did not answer; controller is the last state line of the supv
    controller running there ({acting, leader, lost, jobs, recent}) or null.

    \b
    Exit status: 0 shown; 1 --check and an instance is not RUNNING; 2 usage, rules or configuration
    error; 3 no instance answered, or --check and one did not answer.

    \b
    Examples:
      supv instances -i '<server_1>10.0.0.1:61000 <server_2>10.0.0.2:61000'
      supv instances -c etc/supv.conf --json
      supv instances -c etc/supv.conf            # an inventory: the Stereotypes column is filled
      until supv instances -c etc/supv.conf --check >/dev/null; do sleep 1; done
    """
    from supv_cli.cli.controller_state import read_states, report_acting
    from supv_cli.cli.status_common import load_status, require_an_answer

    context, status = load_status(cluster)
    rows = [summarize(status, snap) for snap in status.snapshot.instances]
    controllers = read_states(status.snapshot, context.settings)
    for row in rows:
        row["controller"] = controllers.get(row["nick"])
    render(rows, fmt)
    report_acting(controllers)
    require_an_answer(status.snapshot)
    if not check:
        return
    if status.unreachable:
        raise ClusterError(f"--check: {len(status.unreachable)} instance(s) did not answer")
    not_running = [row["nick"] for row in rows if row["state"] != "RUNNING"]
    if not_running:
        raise SupvError(f"--check: not RUNNING: {', '.join(not_running)}")
