"""``supv application-info``: the state of every application, as supvisorsctl's ``application_info``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.completion import complete_applications
from supv_cli.cli.options import cluster_options, output_options
from supv_cli.cli.output import Table, View, echo_err
from supv_cli.errors import ClusterError, SupvError

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.selection import Selection
    from supv_cli.status import ApplicationStatus, ClusterStatus


def select_applications(status: ClusterStatus, names: Sequence[str]) -> tuple[list[ApplicationStatus], list[str]]:
    """The applications to show, in discovery order (as supvisorsctl filters its list), and the names
    that match none (globs allowed). No name, or ``all`` among them, selects every application; the
    names after ``all`` are still checked."""
    from supv_cli.selection import catalogue_of
    from supv_cli.selection import select_applications as select

    selection = select(names, catalogue_of(status.snapshot), globs=True)
    return _shown(status, selection), [u.word for u in selection.unknown]


def _shown(status: ClusterStatus, selection: Selection) -> list[ApplicationStatus]:
    """The selected applications in discovery order."""
    wanted = set(selection.applications)
    return [application for name, application in status.applications.items() if name in wanted]


def plain_lines(all_applications: Sequence[ApplicationStatus], selected: Sequence[ApplicationStatus]) -> list[str]:
    """supvisorsctl's layout, trailing spaces included: the width of the name column comes from every
    application known, not only the selected ones."""
    from supv_cli.cli.status_render import column_width

    width = column_width((app.application_name for app in all_applications), "Application")
    template = f"%(name)-{width}s%(state)-10s%(major)-7s%(minor)-7s"
    lines = [template % {"name": "Application", "state": "State", "major": "Major", "minor": "Minor"}]
    for app in selected:
        lines.append(template % {"name": app.application_name, "state": app.statename,
                                 "major": app.major_failure, "minor": app.minor_failure})
    return lines


def view(status: ClusterStatus, selected: Sequence[ApplicationStatus]) -> View:
    """The selected applications: JSON objects, supvisorsctl's plain layout, a rich table."""

    def table() -> list[Table]:
        from supv_cli.cli.status_render import led_cell, state_cell, styled

        rows = [[styled(app.application_name, None), state_cell(app.statename), app.major_failure,
                 app.minor_failure, led_cell(app.operational_status)] for app in selected]
        return [Table(["Application", "State", "Major", "Minor", "Operational"], rows)]

    return View(data=lambda: [app.to_dict() for app in selected], tables=table,
                plain=lambda: plain_lines(list(status.applications.values()), selected))


def check_problems(selected: Sequence[ApplicationStatus]) -> list[str]:
    """What ``--check`` complains about: a managed application not RUNNING or with a major failure."""
    problems = []
    for app in selected:
        if app.managed and not app.healthy:
            detail = app.statename + (" with a major failure" if app.major_failure else "")
            problems.append(f"{app.application_name}: {detail}")
    return problems


@click.command("application-info", context_settings={"help_option_names": ["-h", "--help"]})
@cluster_options
@output_options
@click.option("--check", is_flag=True,
              help="Exit 1 unless every managed application named (all when none is named) is RUNNING "
                   "without major failure; exit 3 if an instance could not be reached.")
@click.argument("applications", nargs=-1, metavar="[APP]...", shell_complete=complete_applications)
@click.pass_obj
def application_info(app: App, check: bool, applications: tuple[str, ...]) -> None:
    """Show the state of applications across the instances, as supvisorsctl application_info.

    One snapshot of every instance gives each application (a Supervisor group) its state (STOPPED,
    STARTING, RUNNING, STOPPING), its major and minor failures and, when RUNNING, its operational status
    (Operational, Degraded, Not Operational), computed from the rules (-r) as Supvisors does. Without
    rules every application is unmanaged and never fails. APP names select rows (shell globs allowed);
    'all' or none shows every application, and names after 'all' are still checked. Unreachable
    instances are reported on stderr and the rest is shown.

    \b
    Plain output (the default in a pipe) is supvisorsctl's layout, trailing spaces included:
      Application              State     Major  Minor
    JSON: a list of {application_name, managed, statecode, statename, major_failure, minor_failure,
    operational_status}.

    \b
    Exit status: 0 shown (even if some instances did not answer); 1 --check found a problem;
    2 an unknown APP (after the known ones), usage, rules or configuration error; 3 no instance
    answered, an application shown or named depends on an instance that did not answer (it is listed
    from what is known: its processes UNKNOWN), or --check and one did not answer.

    \b
    Examples:
      supv application-info -i '<server_1>10.0.0.1:61000 <server_2>10.0.0.2:61000' -r etc/rules.xml
      supv application-info -c etc/supv.conf scen3_srv scen3_hci_01
      supv application-info -c etc/supv.conf --json | jq '.[] | select(.major_failure)'
      supv application-info -c etc/supv.conf --check && echo "all applications up"
    """
    from supv_cli.cli.status_render import report_acting

    status = app.status()
    selection = app.select(applications, status.snapshot, applications=True, globs=True)
    selected = _shown(status, selection)
    app.emit(view(status, selected))
    if status.unreachable:  # what the failover controller made of it, if one runs
        report_acting(app.session.controller_states(status.snapshot), recent=False)
    app.conclude(selection, "application")  # exit 2 an unknown APP, 3 one may be on a silent instance
    if not check:
        return
    if status.unreachable:
        raise ClusterError(f"--check: {len(status.unreachable)} instance(s) did not answer; the status is "
                           "incomplete")
    problems = check_problems(selected)
    if problems:
        for problem in problems:
            echo_err(f"supv: check: {problem}")
        raise SupvError(f"--check: {len(problems)} application(s) not RUNNING without major failure")
    managed = sum(1 for application in selected if application.managed)
    echo_err(f"supv: check: {managed} managed application(s) RUNNING without major failure")
