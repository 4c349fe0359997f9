"""``supv conflicts``: managed processes active on more than one instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import click

from supv_cli.cli.completion import complete_processes
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.errors import ClusterError, SupvError

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.cli.output import View
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.status import ProcessStatus

HEADERS = ("Application", "Process", "Instances")


def conflict_rows(processes: Sequence[ProcessStatus]) -> list[dict[str, Any]]:  # Any: JSON (names, nicks)
    """The ``conflicts --json`` objects: {application_name, process_name, instances (nicks)}."""
    return [{"application_name": p.application_name, "process_name": p.process_name,
             "instances": [i.nick for i in p.identifiers]} for p in processes]


def conflicts_view(rows: list[dict[str, Any]]) -> View:
    """JSON: the rows; plain: supvisorsctl's layout (each column as wide as its longest value + 2, the
    last one free); table: a rich table; nothing but ``[]`` in JSON when there is no conflict."""
    from supv_cli.cli.output import Table, View
    from supv_cli.cli.status_render import column_width

    cells = [(r["application_name"], r["process_name"], ",".join(r["instances"])) for r in rows]

    def plain() -> list[str]:
        if not cells:  # as supvisorsctl: nothing at all, not even the header, when there is none
            return []
        widths = [column_width((c[k] for c in cells), HEADERS[k]) for k in range(2)]
        return [f"{line[0]:<{widths[0]}}{line[1]:<{widths[1]}}{line[2]}".rstrip() for line in [HEADERS, *cells]]

    return View(data=lambda: rows, tables=lambda: [Table(HEADERS, cells)] if cells else [], plain=plain)


def unseen(snapshot: Snapshot) -> ClusterError | None:
    """Exit 3 when an instance did not answer: a copy running there cannot be seen, so "no conflict"
    (or "none left") cannot be said."""
    silent = [snap.instance.nick for snap in snapshot.unreachable]
    if not silent:
        return None
    return ClusterError(f"{', '.join(silent)} did not answer: a conflict with a copy running there cannot be seen")


@click.command("conflicts")
@cluster_options
@output_options
@click.option("--check", is_flag=True, help="Exit 1 when there is a conflict.")
@click.argument("namespecs", nargs=-1, metavar="[NAMESPEC]...", shell_complete=complete_processes)
@click.pass_obj
def conflicts(app: App, check: bool, namespecs: tuple[str, ...]) -> None:
    """Show managed processes active (STARTING, RUNNING, BACKOFF, STOPPING) on more than one instance.

    A process of a managed application must run once in the cluster; two copies appear when it was
    started by hand on another instance, or when a lost instance comes back with its programs while the
    controller had moved them. supv conciliate resolves them. NAMESPECs (APP:PROC, APP:*, NAME for
    NAME:NAME, shell globs) limit what is shown; one that names nothing is exit 2. Nothing at all is
    printed when there is no conflict (as supvisorsctl), [] with --json.

    \b
    JSON: a list of {application_name, process_name, instances} (instances: nicks, instance-list order).

    \b
    Exit status: 0 shown (or none); 1 --check and there is a conflict; 2 usage, rules or configuration
    error; 3 no instance answered, or --check found none and an instance did not answer.
    \b
    Examples:
      supv conflicts -c etc/supv.conf
      supv conflicts -c etc/supv.conf --check || supv conciliate -c etc/supv.conf
      supv conflicts -c etc/supv.conf --json | jq -r '.[].process_name'
    """
    from supv_cli.plan.operate import conflicts as conflicting

    status = app.status()
    rows = conflict_rows(conflicting(status, namespecs))  # NAMESPECs: the one grammar; unknown: exit 2
    app.emit(conflicts_view(rows))
    if check and rows:
        raise SupvError(f"--check: {len(rows)} conflict(s)")
    error = unseen(status.snapshot) if check else None
    if error is not None:
        raise error
