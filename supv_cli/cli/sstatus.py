"""``supv sstatus``: every process across the instances, as supvisorsctl's ``sstatus``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.completion import complete_processes
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.output import Table, View, echo_err

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.selection import Selection
    from supv_cli.status import ClusterStatus, ProcessStatus


def bad_name(word: str, selection: Selection) -> str:
    """supvisorsctl's line for a word that names nothing: ``<word>: ERROR (BAD_NAME: ...)``, with the
    selection's hint (``did you mean scen3_srv:*?``)."""
    from supv_cli.selection import split_namespec

    name = split_namespec(word)
    if ":" not in word:
        fault = f"process {word} unknown"
    elif name.application not in selection.catalogue:
        fault = f"application {name.application} unknown"
    else:
        fault = f"process={name.process} unknown in application={name.application}"
    hint = next((u.hint for u in selection.unknown if u.word == word and u.hint), "")
    return f"{word}: ERROR (BAD_NAME: {fault}{f'; did you mean {hint}?' if hint else ''})"


def select_processes(status: ClusterStatus, namespecs: Sequence[str], selection: Selection | None = None,
                     ) -> tuple[list[ProcessStatus], list[tuple[str, str]]]:
    """The processes to show (the one grammar, globs allowed) and, for each argument that names nothing,
    the argument and its error line (``<arg>: ERROR (<fault>)``). No argument, or ``all`` among them,
    selects every process (applications in discovery order); the names after ``all`` are still checked."""
    from supv_cli.selection import catalogue_of
    from supv_cli.selection import select_processes as select

    if selection is None:
        selection = select(namespecs, catalogue_of(status.snapshot), globs=True)
    processes = [status.processes[namespec] for namespec in selection.processes]
    found = set(selection.processes)
    missing = [u.word for u in selection.unknown] + [m.word for m in selection.maybe
                                                     if not m.listed and m.word not in found]
    return processes, [(word, bad_name(word, selection)) for word in missing]


def plain_lines(processes: Sequence[ProcessStatus]) -> list[str]:
    """supvisorsctl's layout; the Supervisor column is the Python repr of the list of instance nicks.
    Nothing at all (not even the title) when there is no process."""
    from supv_cli.cli.status_render import column_width
    from supv_cli.model.snapshot import ProcessState

    if not processes:
        return []
    app_width = column_width((p.application_name for p in processes), "Application")
    proc_width = column_width((p.process_name for p in processes), "Process")
    template = f"%(appli)-{app_width}s%(proc)-{proc_width}s%(state)-12s%(expected)-10s%(identifiers)s"
    lines = [template % {"appli": "Application", "proc": "Process", "state": "State", "expected": "Expected",
                         "identifiers": "Supervisor"}]
    for process in processes:
        expected = process.expected_exit if process.state == ProcessState.EXITED else "n/a"
        lines.append(template % {"appli": process.application_name, "proc": process.process_name,
                                 "state": process.statename, "expected": expected,
                                 "identifiers": [instance.nick for instance in process.identifiers]})
    return lines


def view(processes: Sequence[ProcessStatus]) -> View:
    """The processes: JSON objects, supvisorsctl's plain layout, a rich table (nothing when empty)."""

    def table() -> list[Table]:
        from supv_cli.cli.status_render import state_cell, styled
        from supv_cli.model.snapshot import ProcessState

        rows = []
        for process in processes:
            if process.state == ProcessState.EXITED:
                expected = styled(str(process.expected_exit), None if process.expected_exit else "red")
            else:
                expected = ""
            supervisors = ", ".join(instance.nick for instance in process.identifiers)
            if process.conflict:
                supervisors = styled(supervisors + " (conflict)", "bold yellow")
            else:
                supervisors = styled(supervisors, None)
            rows.append([styled(process.application_name, None), styled(process.process_name, None),
                         state_cell(process.statename), expected, supervisors, styled(process.reason, "dim")])
        headers = ["Application", "Process", "State", "Expected", "Supervisor", "Reason"]
        return [Table(headers, rows)] if rows else []

    return View(data=lambda: [process.to_dict() for process in processes], tables=table,
                plain=lambda: plain_lines(processes))


@click.command("sstatus", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@click.argument("namespecs", nargs=-1, metavar="[NAMESPEC]...", shell_complete=complete_processes)
@click.pass_obj
def sstatus(app: App, namespecs: tuple[str, ...]) -> None:
    """Show every process across the instances, as supvisorsctl sstatus.

    A process known by several instances has one synthetic state, as in Supvisors: where it runs
    (STARTING, RUNNING, BACKOFF, STOPPING) wins; running on several instances is a conflict; else the
    most recent stop (the instance listed first on ties). Expected says, for an EXITED process, whether
    its exit code is in the program's exitcodes. Supervisor lists the instances where it runs, by nick.

    NAMESPEC is APP:* (or APP:, every process of APP), APP:PROCESS, or NAME (NAME:NAME, as in
    Supervisor; see "Names" in supv(1)); shell globs are allowed in both parts ('scen3_hci_*:*');
    'all' or none shows every process (names after 'all' are still checked). An unknown NAMESPEC prints
    'NAMESPEC: ERROR (BAD_NAME: ...)' on stderr, with a hint ('did you mean scen3_srv:*?'), and the
    command exits 2 (3 when an instance did not answer: the name may be there). Unreachable instances
    are reported on stderr and the rest is shown.

    \b
    Plain output (the default in a pipe) is supvisorsctl's layout:
      Application  Process  State  Expected  Supervisor
    with the Supervisor column the Python list of instance nicks, e.g. ['server_1'].
    JSON: a list of {application_name, process_name, statecode, statename, expected_exit, identifiers,
    reason, conflict, instances}.

    \b
    Exit status: 0 shown; 2 an unknown NAMESPEC, a usage, rules or configuration error;
    3 no instance answered, or a process shown depends on an instance that did not answer (listed
    UNKNOWN from what is known).

    \b
    Examples:
      supv sstatus -c etc/supv.conf
      supv sstatus -i '<server_1>10.0.0.1:61000 <server_2>10.0.0.2:61000' scen3_srv:* scen3_hci_01:scen3_chart_view
      supv sstatus -c etc/supv.conf --json | jq -r '.[] | select(.statename == "FATAL") | .process_name'
    """
    status = app.status()
    selection = app.select(namespecs, status.snapshot, globs=True)
    processes, errors = select_processes(status, namespecs, selection)
    for _, line in errors:
        echo_err(line)
    app.emit(view(processes))
    app.conclude(selection, said=True)
