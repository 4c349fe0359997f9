"""What run-plan and stop-plan share: the plan view, the driver glue, the final report."""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import click

from supv_cli.cli.output import print_json, print_plain_table, print_rich_table
from supv_cli.errors import ExitCode, Terminated

PLAN_HEADERS = ["Stage", "Application", "Program", "Action", "Instance", "Load", "Reason"]
REPORT_HEADERS = ["Stage", "Application", "Program", "Action", "Instance", "Outcome", "Elapsed", "Detail"]


def render_plan(plan: Any, fmt: str) -> None:
    """``--dry-run``: the whole plan, nothing changed."""
    if fmt == "json":
        print_json(plan.to_dict())
        return
    rows = []
    for app_sequence, applications in plan.stages:
        for application in applications:
            if application.note:
                rows.append([f"{app_sequence}", application.application_name, "-", "place", "-", "-",
                             application.note])
            for sequence, placements in application.stages:
                for p in placements:
                    rows.append([f"{app_sequence}.{sequence}", p.application_name, p.process_name, p.action.value,
                                 p.instance.nick if p.instance else "-", p.expected_loading, p.reason])
    printer = print_rich_table if fmt == "table" else print_plain_table
    printer(PLAN_HEADERS, rows)


def render_report(run: Any, fmt: str) -> None:
    """The final report of a run (stdout)."""
    rows = run.report()
    if fmt == "json":
        result = "interrupted" if run.interrupted else ("failed" if run.failed() else "success")
        print_json({"kind": run.kind, "result": result, "processes": rows})
        return
    printer = print_rich_table if fmt == "table" else print_plain_table
    printer(REPORT_HEADERS, [[r["sequence"], r["application_name"], r["process_name"], r["action"],
                              r["instance"] or "-", r["outcome"], f"{r['elapsed']:.1f}s", r["detail"]]
                             for r in rows])


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


def make_io(context: Any) -> tuple[Callable[[], Any], Callable[[Any], Any], Callable[[Sequence[Any]], list[Any]]]:
    """The three functions the driver needs: take a snapshot, evaluate it, send requests."""
    from supv_cli.cluster.client import CallError, fan_out, run_on
    from supv_cli.cluster.snapshot import Unreachable
    from supv_cli.status import evaluate

    settings = context.settings

    def snapshot_fn() -> Any:
        return context.snapshot(refresh=True)

    def status_fn(snapshot: Any) -> Any:
        return evaluate(context.rules, snapshot)

    def send_fn(requests: Sequence[Any]) -> list[Any]:
        by_instance: dict[str, list[Any]] = {}
        for request in requests:
            by_instance.setdefault(request.instance.nick, []).append(request)
        groups = list(by_instance.values())

        def send(group: list[Any]) -> list[Any]:
            calls = [(r.method, r.args) for r in group]
            try:
                return run_on(group[0].instance, calls, settings.timeout, settings.username, settings.password)
            except Exception as error:  # the instance itself failed: every request of the group gets it
                return [error] * len(group)

        answers = fan_out(send, groups, settings.timeout)
        results: dict[int, Any] = {}
        for group, answer in zip(groups, answers):
            items: list[Any]
            if answer is None:  # no answer within the timeout: the instance may be hung
                items = [CallError(group[0].instance, Unreachable.TIMEOUT,
                                   f"timeout (no answer within {settings.timeout:g}s)")] * len(group)
            else:
                items = answer if isinstance(answer, list) else [answer] * len(group)
            for request, item in zip(group, items):
                results[id(request)] = item
        return [results.get(id(r)) for r in requests]

    return snapshot_fn, status_fn, send_fn


def load_cluster(cluster: Any) -> tuple[Any, Any, Any, Any]:
    """Settings, rules, one snapshot (unreachable instances reported; none answering is exit 3) and its
    status: what run-plan and stop-plan start from."""
    from supv_cli.cli.common import load_context
    from supv_cli.cli.status_common import report_instances, require_an_answer
    from supv_cli.plan.planner import ensure_rules
    from supv_cli.status import evaluate

    context = load_context(cluster, need_instances=True, need_rules=True)
    rules = ensure_rules(context.rules)
    snapshot = context.snapshot()
    report_instances(snapshot)
    require_an_answer(snapshot)
    return context, rules, snapshot, evaluate(rules, snapshot)


def execute(context: Any, run: Any, fmt: str, quiet: bool, poll_interval: float) -> None:
    """Drive a run to its end (or Ctrl-C) with progress on stderr, then print the report and exit."""
    from supv_cli.cli.progress import Progress
    from supv_cli.plan.executor import drive

    snapshot_fn, status_fn, send_fn = make_io(context)
    first = [context.snapshot()]

    def snapshots() -> Any:  # the snapshot the plan was made from serves the first step
        return first.pop() if first else snapshot_fn()

    terminated = False
    with Progress(run, live=Progress.wanted(fmt), json_lines=fmt == "json", quiet=quiet) as progress:
        try:
            drive(run, snapshots, status_fn, send_fn, progress.events, interval=poll_interval)
        except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (Terminated): the report still follows
            terminated = isinstance(interrupt, Terminated)
    render_report(run, fmt)
    code = int(ExitCode.TERMINATED) if terminated else exit_code(run, context.snapshot())
    raise click.exceptions.Exit(code)


def exit_code(run: Any, snapshot: Any) -> int:
    """0 done; 1 a program failed; 3 no instance answered; 130 interrupted."""
    if run.interrupted:
        return int(ExitCode.INTERRUPTED)
    if snapshot is not None and snapshot.instances and not snapshot.reachable:
        return int(ExitCode.UNREACHABLE)
    return int(ExitCode.FAILED) if run.failed() else int(ExitCode.OK)
