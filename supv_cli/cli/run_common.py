"""What run-plan and stop-plan share: the plan view, the driver glue, the final report."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from supv_cli.cli.output import Table, View
from supv_cli.errors import CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App

PLAN_HEADERS = ["Stage", "Application", "Program", "Action", "Instance", "Load", "Reason"]
REPORT_HEADERS = ["Stage", "Application", "Program", "Action", "Instance", "Outcome", "Elapsed", "Detail"]


def plan_view(plan: Any) -> View:
    """``--dry-run``: the whole plan, nothing changed."""

    def table() -> list[Table]:
        rows = []
        for app_sequence, applications in plan.stages:
            for application in applications:
                if application.note:
                    rows.append([f"{app_sequence}", application.application_name, "-", "place", "-", "-",
                                 application.note])
                for sequence, placements in application.stages:
                    for p in placements:
                        rows.append([f"{app_sequence}.{sequence}", p.application_name, p.process_name,
                                     p.action.value, p.instance.nick if p.instance else "-", p.expected_loading,
                                     p.reason])
        return [Table(PLAN_HEADERS, rows)]

    return View(data=plan.to_dict, tables=table)


def report_view(run: Any) -> View:
    """The final report of a run."""
    rows = run.report()

    def data() -> Any:
        result = "interrupted" if run.interrupted else ("failed" if run.failed() else "success")
        return {"kind": run.kind, "result": result, "processes": rows}

    def table() -> list[Table]:
        return [Table(REPORT_HEADERS, [[r["sequence"], r["application_name"], r["process_name"], r["action"],
                                        r["instance"] or "-", r["outcome"], f"{r['elapsed']:.1f}s", r["detail"]]
                                       for r in rows])]

    return View(data=data, tables=table)


def local_instance(instances: Any, local: str | None) -> Any:
    """The instance LOCAL means: ``--local NICK``, else the supervisord that started us
    (``SUPERVISOR_SERVER_URL``), else None."""
    if local:
        found = instances.find(local)
        if found is None:
            raise click.BadParameter(f"{local!r} is not an instance of the list", param_hint="--local")
        return found
    url = os.environ.get("SUPERVISOR_SERVER_URL", "").rstrip("/")
    for instance in instances:
        if url and instance.url.rstrip("/") == url:
            return instance
    return None


def plan_start(app: App) -> tuple[Any, Any, Any]:
    """The rules, a first snapshot (with the configuration; unreachable instances reported; none
    answering is exit 3) and its status: what run-plan and stop-plan start from."""
    from supv_cli.status import evaluate

    app.settings.require_instances()  # "no instances" comes before anything about the rules
    rules = app.require_rules()
    snapshot = app.snapshot(with_config=True)
    return rules, snapshot, evaluate(rules, snapshot)


def execute(app: App, run: Any, quiet: bool, poll_interval: float) -> None:
    """Drive a run to its end (or Ctrl-C) with progress on stderr, then print the report; a run that
    did not succeed raises its exit code."""
    from supv_cli.cli.progress import Progress
    from supv_cli.plan.executor import drive
    from supv_cli.status import evaluate

    session = app.session
    first = [session.last]

    def snapshots() -> Any:  # the snapshot the plan was made from serves the first step
        return first.pop() if first and first[0] is not None else session.snapshot(with_config=True)

    with Progress(run, live=Progress.wanted(app.fmt), json_lines=app.fmt == "json", quiet=quiet) as progress:
        try:
            drive(run, snapshots, lambda snapshot: evaluate(app.rules, snapshot), session.send, progress.events,
                  interval=poll_interval)
        except KeyboardInterrupt:
            pass
    app.emit(report_view(run))
    code = exit_code(run, session.last)
    if code is not ExitCode.OK:
        raise CommandFailed(code)


def exit_code(run: Any, snapshot: Any) -> ExitCode:
    """0 done; 1 a program failed; 3 no instance answered; 130 interrupted."""
    if run.interrupted:
        return ExitCode.INTERRUPTED
    if snapshot is not None and snapshot.instances and not snapshot.reachable:
        return ExitCode.UNREACHABLE
    return ExitCode.FAILED if run.failed() else ExitCode.OK
