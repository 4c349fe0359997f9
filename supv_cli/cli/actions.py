"""What the action commands (run-plan, stop-plan, restart-plan, start, stop, restart) share: the plan view,
the driver glue, the final report."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import click

from supv_cli.cli.output import Row, Table, View
from supv_cli.errors import ClusterError, CommandFailed, ExitCode, Terminated

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.instances import Instance, InstanceList
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.plan.run_types import Runner, RunOptions
    from supv_cli.plan.stages import Plan
    from supv_cli.rules import Rules
    from supv_cli.status import ClusterStatus

#: what may still run on the instances that did not answer (nick -> namespecs), and why (nick -> reason)
Unanswered = tuple[dict[str, list[str]], dict[str, str]]
PLAN_HEADERS = ["Stage", "Application", "Program", "Action", "Instance", "Load", "Reason"]
REPORT_HEADERS = ["Stage", "Application", "Program", "Action", "Instance", "Outcome", "Elapsed", "Detail"]


def plan_view(plan: Plan) -> View:
    """``--dry-run``: the whole plan, nothing changed."""

    def table() -> list[Table]:
        rows: list[Row] = []
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


def emit_plan(app: App, plan: Plan, snapshot: Snapshot, single: bool = False) -> None:
    """``--dry-run``: print the plan; exit 3 when an instance that may run one of its applications (only
    its processes when ``single``) did not answer: the plan was made without what runs there."""
    app.emit(plan_view(plan))
    names = list(dict.fromkeys(application.application_name for application in plan.applications()))
    processes = {placement.namespec for placement in plan.placements()} if single else None
    risk = unanswered_in(app, snapshot, names, processes)
    if risk is not None:
        raise unanswered_message(risk)


def report_view(run: Runner, unanswered: Unanswered | None = None) -> View:
    """The final report of a run. ``unanswered``: what may still run on the instances that did not
    answer (nick -> namespecs) and why they did not: the stops it makes unconfirmed are LOST, and the
    run is not a success (it exits 3)."""
    from supv_cli.unanswered import unconfirmed_stops

    rows = run.report()
    if unanswered is not None:
        rows = unconfirmed_stops(rows, *unanswered)

    def data() -> dict[str, object]:
        failed = run.failed() or unanswered is not None
        result = "interrupted" if run.interrupted else ("failed" if failed else "success")
        return {"kind": run.kind, "result": result, "processes": rows}

    def table() -> list[Table]:
        return [Table(REPORT_HEADERS, [[r["sequence"], r["application_name"], r["process_name"], r["action"],
                                        r["instance"] or "-", r["outcome"], f"{r['elapsed']:.1f}s", r["detail"]]
                                       for r in rows])]

    return View(data=data, tables=table)


def local_instance(instances: InstanceList, local: str | None) -> Instance | None:
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


def plan_start(app: App, names: Sequence[str]) -> tuple[Rules, Snapshot, ClusterStatus]:
    """The rules, a first snapshot (with the configuration; unreachable instances reported; none
    answering is exit 3; what is known of them filled in) and its status: what run-plan and stop-plan
    start from. A named application no answering instance knows, that the rules place on an instance
    that did not answer, is exit 3 (not an unknown name)."""
    from supv_cli.status import evaluate

    app.settings.require_instances()  # "no instances" comes before anything about the rules
    rules = app.require_rules()
    snapshot = app.fill(app.snapshot(with_config=True))
    status = evaluate(rules, snapshot)
    selection = app.select(names, snapshot, applications=True, anywhere=False, empty_is_all=False)
    if any(maybe.placed for maybe in selection.maybe):  # the rules place it on a silent instance: exit 3
        app.conclude(replace(selection, unknown=(), maybe=tuple(m for m in selection.maybe if m.placed)),
                     "application")
    return rules, snapshot, status


def execute(app: App, run: Runner, quiet: bool, poll_interval: float, first: tuple[Snapshot, ClusterStatus]) -> None:
    """Drive a run to its end (or Ctrl-C) with progress on stderr, then print the report; a run that
    did not succeed raises its exit code (3 when an instance that may run one of its applications did
    not answer: what the command did is then not known to be true). ``first``: the snapshot the plan
    was made from and its status (:func:`plan_start`): they serve the first step as they are."""
    from supv_cli.cli.progress import Progress
    from supv_cli.plan.executor import drive
    from supv_cli.status import evaluate

    session = app.session
    pending = [first[0]]
    last: list[Snapshot | None] = [None]

    def snapshots() -> Snapshot:
        if pending:  # the snapshot the plan was made from serves the first step
            last[0] = pending.pop()
        else:
            taken = session.snapshot(with_config=True)
            app.report_unreachable(taken, not_running=False)  # an instance lost during the run, once
            last[0] = app.fill(taken)
        assert last[0] is not None
        return last[0]

    def status_of(snapshot: Snapshot) -> ClusterStatus:  # the first snapshot was evaluated once, when the plan was made
        return first[1] if snapshot is first[0] else evaluate(app.rules, snapshot)

    terminated = False
    with Progress(run, live=Progress.wanted(app.fmt), json_lines=app.fmt == "json", quiet=quiet) as progress:
        try:
            drive(run, snapshots, status_of, session.send, progress.events, interval=poll_interval)
        except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (Terminated): the report still follows
            terminated = isinstance(interrupt, Terminated)
    code = ExitCode.TERMINATED if terminated else exit_code(run, last[0])
    risk = unanswered_risk(app, run, last[0])
    app.emit(report_view(run, risk))
    if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
        raise CommandFailed(code)
    if risk is not None:
        raise unanswered_message(risk)
    if code is not ExitCode.OK:
        raise CommandFailed(code)


def unanswered_message(unanswered: Unanswered) -> ClusterError:
    """Exit 3, naming each instance that did not answer, why, and what may still run there."""
    found, reasons = unanswered
    return ClusterError("; ".join(f"{nick} did not answer ({reasons[nick]}): {', '.join(namespecs)} may still "
                                  f"run there" for nick, namespecs in found.items()))


def unanswered_risk(app: App, run: Runner, snapshot: Snapshot | None) -> Unanswered | None:
    """When an instance that may run one of the run's applications did not answer at the end: what
    may still run there, or not have been started (nick -> namespecs), and why each did not answer
    (nick -> reason). The command then exits 3."""
    if snapshot is None:
        return None
    return unanswered_in(app, snapshot, [job.name for job in run.jobs], single_processes(run))


def unanswered_in(app: App, snapshot: Snapshot, names: Sequence[str], processes: set[str] | None) -> Unanswered | None:
    """What of the applications ``names`` (only the namespecs ``processes`` when given) may still run on
    the instances of ``snapshot`` that did not answer, and why they did not; None when nothing."""
    from supv_cli.cli.app import unanswered_reasons
    from supv_cli.unanswered import may_still_run

    risk = may_still_run(snapshot, app.rules, app.instances, names, app.last_answers(snapshot), processes)
    return (risk, unanswered_reasons(snapshot)) if risk else None


def single_processes(run: Runner) -> set[str] | None:
    """The namespecs of a run of single processes (start/stop/restart APP:PROC), None for whole
    applications (a RunChain is single when each of its runs is)."""
    if not all(getattr(part, "single", False) for part in getattr(run, "runs", [run])):
        return None
    return ({f"{job.name}:{name}" for job in run.jobs for _, members in job.stages + job.skipped for name in members}
            | {command.namespec for command in run.commands()})


def exit_code(run: Runner, snapshot: Snapshot | None) -> ExitCode:
    """0 done; 1 a program failed; 3 no instance answered; 130 interrupted."""
    if run.interrupted:
        return ExitCode.INTERRUPTED
    if snapshot is not None and snapshot.instances and not snapshot.reachable:
        return ExitCode.UNREACHABLE
    return ExitCode.FAILED if run.failed() else ExitCode.OK


def operate_processes(app: App, kind: str, namespecs: Sequence[str], dry_run: bool, quiet: bool,
                      poll_interval: float, options: RunOptions, strategy: str | None = None,
                      local: str | None = None) -> None:
    """``supv start|stop|restart NAMESPEC...``: the processes named, placed by the rules, all at once."""
    from supv_cli.model.runs import RunKind
    from supv_cli.plan.executor import Run
    from supv_cli.plan.operate import RunChain, restart_plan, restart_run, restart_start, select_processes
    from supv_cli.plan.planner import process_plan
    from supv_cli.rules.model import StartingStrategy

    rules, snapshot, status = plan_start(app, [])
    processes = select_processes(status, namespecs)
    chosen = StartingStrategy(strategy.upper()) if strategy else None
    local_one = local_instance(app.instances, local) if kind != RunKind.STOP else None
    options = replace(options, local=local_one)
    run: Run | RunChain
    if kind == RunKind.RESTART:
        stop = process_plan(rules, snapshot, status, RunKind.STOP, processes)
        start = restart_start(rules, snapshot, stop, lambda snap, after: process_plan(
            rules, snap, after, RunKind.START, processes, chosen, local_one))
        plan, run = restart_plan(stop, start), restart_run(rules, stop, start, options)
    else:
        plan = process_plan(rules, snapshot, status, RunKind(kind), processes, chosen, local_one)
        run = Run(rules, plan, options)
    if dry_run:
        emit_plan(app, plan, snapshot, single=True)
        return
    execute(app, run, quiet, poll_interval, (snapshot, status))
