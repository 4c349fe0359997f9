"""``supv instances``: one row per supervisord instance: its state, load and process counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.output import Table, View
from supv_cli.cli.stats import sampler_option
from supv_cli.errors import ClusterError, SupvError

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.snapshot import InstanceSnapshot, Snapshot
    from supv_cli.status import ClusterStatus


def summarize(status: ClusterStatus, snap: InstanceSnapshot) -> dict[str, Any]:
    """The ``instances --json`` object of one instance (Any, here and in the rows below: JSON values of
    several types, read back by the table and the plain lines).

    ``load`` is the sum of ``expected_loading`` of the processes running there (Supvisors' instance
    load), ``node_load`` that of every instance of its node; ``processes`` counts the processes it
    reports per Supervisor state; ``running`` / ``stopped`` / ``failed`` group them (STARTING, RUNNING,
    BACKOFF, STOPPING / STOPPED, EXITED expected / FATAL, UNKNOWN, EXITED unexpected). Load and counts
    are null for an instance that did not answer.
    """
    from supv_cli.status.loads import instance_counts, process_counts

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
    data.update(load=status.instance_loads.get(instance.nick, 0), node_load=status.node_loads.get(instance.node, 0),
                **instance_counts(snap), processes=process_counts(snap))
    return data


COLUMNS = (("nick", "Nick"), ("url", "URL"), ("state", "State"), ("load", "Load"), ("running", "Running"),
           ("stopped", "Stopped"), ("failed", "Failed"), ("total", "Total"), ("stereotypes", "Stereotypes"),
           ("controller", "Controller"), ("reason", "Reason"))
#: the host's measured CPU and memory, beside the rules' load, when a sampler runs somewhere (supv sampler)
MEASURED = (("cpu_percent", "CPU"), ("memory_percent", "Mem"))


def columns(rows: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """COLUMNS, with CPU and Mem after Load when at least one instance has statistics."""
    if not any(row.get("cpu_percent") is not None or row.get("memory_percent") is not None for row in rows):
        return COLUMNS
    return COLUMNS[:4] + MEASURED + COLUMNS[4:]


def _cells(row: dict[str, Any]) -> dict[str, str]:
    cells = {key: "-" if row.get(key) is None else str(row[key]) for key, _ in COLUMNS + MEASURED}
    for key, _ in MEASURED:
        if row.get(key) is not None:
            cells[key] = f"{row[key]:.1f}%"
    cells["stereotypes"] = ",".join(row["stereotypes"]) or "-"
    controller = row.get("controller")
    cells["controller"] = "-" if not controller else ("acting" if controller.get("acting") else "standby")
    if row["load"] is not None:
        cells["load"] = f"{row['load']}%"
    return cells


def plain_lines(rows: list[dict[str, Any]]) -> list[str]:
    """supvisorsctl-style columns (each as wide as its longest value + 2); the reason comes last."""
    from supv_cli.cli.status_render import column_width

    shown = columns(rows)
    cells = [_cells(row) for row in rows]
    widths = {key: column_width((c[key] for c in cells), title) for key, title in shown[:-1]}
    template = "".join(f"%({key})-{widths[key]}s" for key, _ in shown[:-1]) + "%(reason)s"
    lines = [template % dict(shown)]
    lines.extend(template % c for c in cells)
    return [line.rstrip() for line in lines]


def view(rows: list[dict[str, Any]]) -> View:
    """The instances view: JSON rows, supvisorsctl-style plain columns, a rich table."""

    def table() -> list[Table]:
        from supv_cli.cli.status_render import state_cell, styled

        shown = columns(rows)
        measured = len(shown) > len(COLUMNS)
        cells_rows = []
        for row in rows:
            cells = _cells(row)
            failed = styled(cells["failed"], "red" if row["failed"] else None)
            cells_rows.append([styled(cells["nick"], None), styled(cells["url"], None), state_cell(cells["state"]),
                               cells["load"], *([cells[key] for key, _ in MEASURED] if measured else []),
                               cells["running"], cells["stopped"], failed, cells["total"],
                               styled(cells["stereotypes"], None), styled(cells["controller"], None),
                               styled(cells["reason"], "dim")])
        return [Table([title for _, title in shown], cells_rows,
                      justify=["left", "left", "left", "right", *(["right", "right"] if measured else []), "right",
                               "right", "right", "right", "left", "left", "left"])]

    return View(data=lambda: rows, tables=table, plain=lambda: plain_lines(rows))


def measured_hosts(app: App, snapshot: Snapshot, program: str) -> dict[str, tuple[float | None, float | None]]:
    """nick -> (CPU %, memory %) of its host, measured by its sampler (only instances running one)."""
    from supv_cli.cluster.stats import StatsReader
    from supv_cli.look.stats import host_figures

    return {nick: host_figures(report) for nick, report in StatsReader(app.session, program).read(snapshot).items()
            if report.sample is not None}


@click.command("instances", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@click.option("--check", is_flag=True,
              help="Exit 3 if an instance did not answer, 1 if one answered but is not RUNNING.")
@sampler_option
@click.pass_obj
def instances(app: App, check: bool, program: str) -> None:
    """Show every supervisord instance: state, load and process counts.

    One row per instance, in the instance list order: its nick, URL, state (supervisord's state, such
    as RUNNING or SHUTDOWN, or UNREACHABLE with the reason: connection refused, timeout,
    authentication failed, not a supervisord), its load (the sum of expected_loading of the processes
    running there, from the rules, as Supvisors' instance load) and how many processes it reports
    running (STARTING, RUNNING, BACKOFF, STOPPING), stopped, failed (FATAL, UNKNOWN, EXITED with an
    unexpected code) and in all, and the stereotypes it carries (from the inventory, -c). When a
    sampler runs on some instances (supv sampler, see supv stats), CPU and Mem after Load give the
    host's measured CPU (% of all cores) and memory in use (%), '-' for an instance without one.

    \b
    JSON: a list of {nick, url, identifier, node, stereotypes, state, reason, error_kind, elapsed, load,
    node_load, running, stopped, failed, total, processes: {STATENAME: count}, controller, cpu_percent,
    memory_percent}; load and counts are null for an instance that did not answer; controller is the
    last state line of the supv controller running there ({acting, leader, lost, jobs, recent}) or null;
    cpu_percent and memory_percent are the host as its sampler measured it, or null.

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
    from supv_cli.cli.app import require_an_answer
    from supv_cli.cli.status_render import report_acting
    from supv_cli.model.snapshot import SupervisorState

    status = app.status(need_answer=False)  # the table is shown even when no instance answered
    rows = [summarize(status, snap) for snap in status.snapshot.instances]
    controllers = app.session.controller_states(status.snapshot)
    measured = measured_hosts(app, status.snapshot, program)
    for row in rows:
        row["controller"] = controllers.get(row["nick"])
        row["cpu_percent"], row["memory_percent"] = measured.get(row["nick"], (None, None))
    app.emit(view(rows))
    report_acting(controllers)
    require_an_answer(status.snapshot, app.settings.instances_source)
    if not check:
        return
    if status.unreachable:
        raise ClusterError(f"--check: {len(status.unreachable)} instance(s) did not answer")
    not_running = [row["nick"] for row in rows if row["state"] != SupervisorState.RUNNING]
    if not_running:
        raise SupvError(f"--check: not RUNNING: {', '.join(not_running)}")
