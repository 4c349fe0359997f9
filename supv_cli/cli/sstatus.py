"""``supv sstatus``: every process across the instances, as supvisorsctl's ``sstatus``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.completion import complete_processes
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.output import Table, View, echo_err
from supv_cli.errors import ClusterError, CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.status import ClusterStatus, ProcessStatus


def lookup(status: ClusterStatus, namespec: str) -> tuple[list[ProcessStatus], str | None]:
    """The processes one argument names, or an error in supvisorsctl's words.

    ``app:*`` (or ``app:``) is every process of an application, ``app:proc`` one process; a bare
    ``name`` is ``name:name`` as in Supervisor and, when there is no such process, every process
    called ``name`` in any application (supv's addition: Supvisors would refuse it).
    """
    group, sep, name = namespec.partition(":")
    if sep:
        app = status.application(group)
        if app is None:
            return [], f"BAD_NAME: application {group} unknown"
        if name in ("", "*"):
            return list(app.processes), None
        found = status.process(namespec)
        if found is None:
            return [], f"BAD_NAME: process={name} unknown in application={group}"
        return [found], None
    same = status.process(f"{namespec}:{namespec}")
    if same is not None:
        return [same], None
    matches = [p for p in status.processes.values() if p.process_name == namespec]
    if matches:
        return matches, None
    return [], f"BAD_NAME: process {namespec} unknown"


def select_processes(status: ClusterStatus, namespecs: Sequence[str],
                     ) -> tuple[list[ProcessStatus], list[tuple[str, str]]]:
    """The processes to show and, for each unknown argument, the argument and its error line
    (``<arg>: ERROR (<fault>)``).
    No argument, or ``all`` among them, selects every process (applications in discovery order)."""
    if not namespecs or "all" in namespecs:
        return [p for app in status.applications.values() for p in app.processes], []
    selected: list[ProcessStatus] = []
    errors: list[tuple[str, str]] = []
    for namespec in namespecs:
        found, error = lookup(status, namespec)
        if error is not None:
            errors.append((namespec, f"{namespec}: ERROR ({error})"))
        selected.extend(found)
    return selected, errors


def plain_lines(processes: Sequence[ProcessStatus]) -> list[str]:
    """supvisorsctl's layout; the Supervisor column is the Python repr of the list of instance nicks.
    Nothing at all (not even the title) when there is no process."""
    from supv_cli.cli.status_render import column_width
    from supv_cli.cluster.snapshot import ProcessState

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
        from supv_cli.cluster.snapshot import ProcessState

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

    NAMESPEC is APP:* (every process of APP), APP:PROCESS, or PROCESS (PROCESS:PROCESS, else every
    process of that name); 'all' or none shows every process. An unknown NAMESPEC prints
    'NAMESPEC: ERROR (BAD_NAME: ...)' on stderr and the command exits 2 (3 when an instance did
    not answer: the name may be there). Unreachable instances are
    reported on stderr and the rest is shown.

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
    from supv_cli.cli.app import unanswered_error

    status = app.status()
    processes, errors = select_processes(status, namespecs)
    named = [p.application_name for p in processes] + [arg.partition(":")[0] for arg, _ in errors]
    silent = app.unanswered_applications(status, named)
    errors = [(arg, line) for arg, line in errors if arg.partition(":")[0] not in silent]
    for _, line in errors:
        echo_err(line)
    app.emit(view(processes))
    if silent:
        raise unanswered_error(silent)
    if errors and status.unreachable:  # the name may be on an instance that did not answer
        raise ClusterError(f"{', '.join(arg for arg, _ in errors)}: {len(status.unreachable)} instance(s) did "
                           "not answer and may have it")
    if errors:  # the rule of every command for names that name nothing: exit 2, after the known ones
        raise CommandFailed(ExitCode.USAGE)
