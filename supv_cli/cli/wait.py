"""``supv wait [APP...]``: return once the applications are fully started (for scripts and CI)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from supv_cli.cli.completion import complete_applications
from supv_cli.cli.options import Seconds, cluster_options, local_option, output_options, poll_interval_option
from supv_cli.errors import CommandFailed, ExitCode

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.instances import Instance
    from supv_cli.plan.operate import Missing
    from supv_cli.rules import Rules

#: the default of --timeout (cli.md)
DEFAULT_WAIT = 60.0


@click.command("wait")
@cluster_options
@output_options
@click.argument("applications", nargs=-1, metavar="[APP]...", shell_complete=complete_applications)
@click.option("--timeout", "deadline", type=Seconds(min=0), default=DEFAULT_WAIT, show_default=True,
              metavar="SECONDS", help="Give up after this long (exit 1, or 3 when an instance needed does not "
              "answer).")
@poll_interval_option(default=0.1, help_text="Time between two looks at the instances.")
@local_option("The instance the LOCAL strategy means (as run-plan).")
@click.pass_obj
def wait(app: App, applications: tuple[str, ...], deadline: float, poll_interval: float,
         local: str | None) -> None:
    """Wait until applications are fully started; start nothing.

    Fully started: every program a run-plan would start is RUNNING, or EXITED with an expected code for a
    wait_exit program of an application already running, and no application has a major failure; i.e. a
    run-plan --dry-run would have nothing left to do. Default: every managed application with
    start_sequence > 0. Unlike application-info --check (satisfied as soon as one program of an
    application runs), this waits for the whole plan. Instances that do not answer yet (supervisord
    starting) are waited for too. The per-call timeout is --call-timeout here (SUPV_TIMEOUT).

    \b
    On stderr at the timeout, one line per missing program: APP:PROC: should be RUNNING on NICK; now
    STATE. JSON (stdout): {result: "ready"|"timeout"|"unreachable", elapsed, missing: [{namespec,
    expected, now, unreachable}]}.

    \b
    Exit status: 0 fully started; 1 not at the timeout; 2 usage, rules error or an application no
    instance has; 3 at the timeout, an instance needed does not answer.
    \b
    Examples:
      supv run-plan -c etc/supv.conf -q >/dev/null & supv wait -c etc/supv.conf --timeout 120
      supv wait -c etc/supv.conf scen3_srv && ./run_tests.sh
      supv wait -c etc/supv.conf --timeout 30 --json | jq .missing
    """
    from supv_cli.cli.actions import local_instance
    from supv_cli.plan.planner import refuse_processes

    started = time.monotonic()
    refuse_processes(applications, "wait")
    app.settings.require_instances()
    rules = app.require_rules()
    local_one = local_instance(app.instances, local)
    while True:
        missing = _look(app, rules, applications, local_one)
        elapsed = time.monotonic() - started
        if not missing or elapsed >= deadline:
            break
        time.sleep(max(0.0, min(poll_interval, deadline - elapsed)))
    _conclude(app, missing, elapsed, deadline)


def _look(app: App, rules: Rules, applications: tuple[str, ...], local_one: Instance | None) -> list[Missing]:
    """One look at the instances: what keeps the applications from being fully started (empty: ready)."""
    from supv_cli.plan.operate import Missing, readiness
    from supv_cli.status import evaluate

    # instances that do not answer (yet) are waited for, with what is known of them filled in
    snapshot = app.fill(app.session.snapshot(with_config=True))
    status = evaluate(rules, snapshot)
    # the one selection: a name no answering instance knows is waited for while an instance is silent
    selection = app.select(applications, snapshot, applications=True, empty_is_all=False)
    if selection.unknown:  # every instance answered and none has it: waiting will not help
        app.conclude(selection, "application")
    known = [name for name in applications if name in status.applications]
    missing = readiness(rules, snapshot, status, known, local_one) if known or not applications else []
    missing += [Missing(m.word, "known", "unknown", m.hosts,
                        f"{m.word}: no answering instance knows it ({', '.join(m.hosts)} not answering)")
                for m in selection.maybe if not m.listed]
    if not applications:
        # what a silent instance runs is unknown: its applications may be missing from the status
        missing += [Missing(f"(applications of {s.instance.nick})", "known", "unknown", (s.instance.nick,),
                            f"{s.instance.nick} did not answer ({s.reason or s.state}): what it runs is not "
                            "known") for s in snapshot.unreachable]
    return missing


def _conclude(app: App, missing: list[Missing], elapsed: float, deadline: float) -> None:
    """The result (JSON on stdout, lines on stderr) and the exit code: 0 ready, 1 timeout, 3 unreachable."""
    from supv_cli.cli.output import echo_err, print_json

    down = sorted({nick for m in missing for nick in m.unreachable})
    result = "ready" if not missing else ("unreachable" if down else "timeout")
    if app.fmt == "json":
        print_json({"result": result, "elapsed": round(elapsed, 3),
                    "missing": [{"namespec": m.namespec, "expected": m.expected, "now": m.now,
                                 "unreachable": list(m.unreachable)} for m in missing]})
    if not missing:
        if app.fmt != "json":
            echo_err(f"supv: ready after {elapsed:.1f}s")
        return
    for m in missing:
        echo_err(f"supv: not started: {m.line()}")
    echo_err(f"supv: error: {len(missing)} program(s) not started after {deadline:g}s"
             + (f"; not answering: {', '.join(down)}" if down else ""))
    raise CommandFailed(ExitCode.UNREACHABLE if down else ExitCode.FAILED)


def _rename_call_timeout(command: click.Command) -> click.Command:
    """``--timeout`` is the wait's deadline here (cli.md); the per-call timeout becomes --call-timeout."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name == "timeout":
            param.opts = ["--call-timeout"]
    return command


_rename_call_timeout(wait)
