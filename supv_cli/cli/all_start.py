"""``supv all_start NAMESPEC...``: start a process on every instance its rules allow."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Sequence

import click

from supv_cli.cli.options import (
    cluster_options,
    dry_run_option,
    output_options,
    poll_interval_option,
    start_timeout_option,
)

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import ProcessInfo
    from supv_cli.status import ClusterStatus, ProcessStatus

HEADERS = ["Application", "Program", "Instance", "Action", "Outcome", "Elapsed", "Detail"]


@click.command("all_start")
@cluster_options
@output_options
@click.argument("namespecs", nargs=-1, required=True, metavar="NAMESPEC...")
@dry_run_option("Print the instances where each process would be started; change nothing.")
@poll_interval_option
@start_timeout_option
@click.pass_obj
def all_start(app: App, namespecs: tuple[str, ...], dry_run: bool, poll_interval: float,
              start_timeout: float) -> None:
    """Start each process (APP:PROC, APP:*, or NAME for NAME:NAME) on every instance its rules allow,
    as supvisorsctl all_start.

    supvisorsctl all_start starts the process on every RUNNING instance; supv starts it on every
    answering instance that has it configured and that its rules' identifiers allow (every one without
    a rules file), where it does not run yet. All starts are sent at once and each is waited for:
    RUNNING (or EXITED with an expected code), else FAILED, or TIMEOUT after startsecs + --start-timeout.
    A copy already running is reported ALREADY; an allowed instance that did not answer is reported
    UNREACHABLE (nothing sent there) and the command exits 3. This makes conflicts for a managed program on purpose:
    a controller with --conciliate other than user will stop the extra copies.

    \b
    JSON: {kind: "all_start", result, processes: [{application_name, process_name, instance, action,
    outcome, elapsed, detail}]}.

    \b
    Exit status: 0 running everywhere allowed; 1 a start failed or timed out; 2 usage error or unknown
    name; 3 an instance its rules allow did not answer (or no instance answered); 130 interrupted.
    \b
    Examples:
      supv all_start -c etc/supv.conf scen3_internal_data_bus:scen3_bus_interface
      supv all_start -i '<a>127.0.0.1:61001 <b>127.0.0.1:61002' monitor --dry-run
    """
    from supv_cli.cli.output import Table, View
    from supv_cli.errors import CommandFailed, ExitCode
    from supv_cli.plan.anywhere import all_start_silent, all_start_targets

    status = app.status(with_config=True)
    rows: list[dict[str, Any]] = []
    todo = []
    for process in select(status, namespecs):
        targets = all_start_targets(status, process, app.rules)
        for instance in process.running_on:
            rows.append(_row(process, instance.nick, "none", "ALREADY", "running there already"))
        for instance, info in targets:
            row = _row(process, instance.nick, "start", "PLANNED" if dry_run else "", "")
            rows.append(row)
            todo.append((row, instance, info))
        silent = all_start_silent(status, process, app.rules)
        for nick, why in silent:  # allowed there too: not known whether it runs there, nothing sent
            rows.append(_row(process, nick, "none", "UNREACHABLE", f"{nick} did not answer: {why}"))
        if not targets and not process.running_on and not silent:
            rows.append(_row(process, "-", "none", "NO_RESOURCE", "no answering instance allowed by its rules has it"))
    if not dry_run:
        start_and_wait(app, todo, start_timeout, poll_interval)
    failed = [r for r in rows if r["outcome"] in ("FAILED", "TIMEOUT", "NO_RESOURCE", "UNREACHABLE")]
    data = {"kind": "all_start", "result": "failed" if failed else ("planned" if dry_run else "success"),
            "processes": rows}
    app.emit(View(data=lambda: data, tables=lambda: [Table(HEADERS, [
        [r["application_name"], r["process_name"], r["instance"], r["action"], r["outcome"], f"{r['elapsed']:.1f}s",
         r["detail"]] for r in rows])]))
    if any(r["outcome"] == "UNREACHABLE" for r in rows):  # exit 3 beats exit 1, as in the plans
        raise CommandFailed(ExitCode.UNREACHABLE)
    if failed:
        raise CommandFailed(ExitCode.FAILED)


def select(status: ClusterStatus, namespecs: Sequence[str]) -> list[ProcessStatus]:
    """The processes ``APP:PROC``, ``APP:*`` (``APP:``) or ``NAME`` (``NAME:NAME``) name, in argument order,
    by the one grammar as ``supv start`` reads it (``supv_cli/selection.py``): a name that names nothing
    is exit 2 with its hint (3 when an instance that did not answer may have it)."""
    from supv_cli.plan.operate import select_processes

    return [status.processes[f"{application}:{process}"]
            for application, processes in select_processes(status, namespecs).items() for process in processes]


def start_and_wait(app: App, todo: list[tuple[dict[str, Any], Instance, ProcessInfo]], start_timeout: float,
                   poll_interval: float) -> None:
    """Send every start at once (wait=False), then poll until each is over or past its deadline
    (startsecs + ``start_timeout``); the outcome goes into its row."""
    from supv_cli.plan.anywhere import start_outcome
    from supv_cli.plan.run_types import Request

    started = time.monotonic()
    answers = app.session.send([Request(instance, "supervisor.startProcess", (info.namespec, False))
                                for _, instance, info in todo])
    waiting = []
    for (row, instance, info), answer in zip(todo, answers):
        if answer is True:
            waiting.append((row, instance, info.namespec, started + info.startsecs + start_timeout))
        else:
            row.update(outcome="FAILED", detail=str(getattr(answer, "reason", answer)))
    while waiting:
        time.sleep(poll_interval)
        snapshot = app.session.snapshot(with_config=True)
        for entry in list(waiting):
            row, instance, namespec, deadline = entry
            done = start_outcome(snapshot.info(instance, namespec))
            if done is None and time.monotonic() > deadline:
                done = ("TIMEOUT", f"not RUNNING within {deadline - started:g}s")
            if done is not None:
                row.update(outcome=done[0], detail=done[1], elapsed=round(time.monotonic() - started, 3))
                waiting.remove(entry)


def _row(process: ProcessStatus, nick: str, action: str, outcome: str, detail: str) -> dict[str, Any]:
    return {"application_name": process.application_name, "process_name": process.process_name, "instance": nick,
            "action": action, "outcome": outcome, "elapsed": 0.0, "detail": detail}
