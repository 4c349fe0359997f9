"""``supv controller status|hold|release``: who acts, and the maintenance hold of the controllers.

The controllers are ``supv run-plan --watch`` programs run by supervisord (``--controller-program``,
default ``supv_controller``, matched as a group or program name). ``hold`` stops that program on every
instance that has one (wait=False, then polled up to its stopwaitsecs + the call timeout), so that
nothing is started or moved automatically; ``release`` starts them again. Each instance is asked and
switched in its own worker, all at once: a frozen supervisord delays nobody else's stop (measured,
bench/hold.py), it is only waited for, up to --timeout, after the others were sent theirs. Their state lines are read
from their stdout logs, as ``supv instances`` does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

import click

from supv_cli.cli.options import cluster_options, dry_run_option, output_options
from supv_cli.cluster import CONTROLLER_PROGRAM
from supv_cli.errors import ClusterError, CommandFailed, ExitCode
from supv_cli.model.snapshot import ProcessState

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.cluster.session import InstanceClient
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import ProcessInfo, Snapshot

#: a click command function (Any: click's own decorators take any callable)
F = TypeVar("F", bound=Callable[..., Any])


def program_option(func: F) -> F:
    return click.option("--controller-program", "program", default=CONTROLLER_PROGRAM, show_default=True,
                        metavar="NAME", help="Group or program name of the controllers in supervisord.")(func)


def controllers(snapshot: Snapshot, program: str) -> list[tuple[Instance, ProcessInfo]]:
    """(instance, process info) of every controller program, in instance order (answering instances)."""
    return [(snap.instance, info) for snap in snapshot.instances if snap.reachable for info in snap.processes
            if program in (info.group, info.name)]


def role(info: ProcessInfo, state: Mapping[str, object] | None) -> str:
    if not info.running:
        return "held" if info.state in (ProcessState.STOPPED, ProcessState.EXITED) else info.state.name.lower()
    if state is None:
        return "starting" if info.state is ProcessState.STARTING else "unknown"
    return "acting" if state.get("acting") else "standby"


@click.group("controller", context_settings={"help_option_names": ["-h", "--help"]})
def controller() -> None:
    """Which supv controller acts; hold and release the controllers for maintenance.

    \b
    Maintenance: `supv controller hold` stops every controller program (nothing is started or moved
    automatically); do the work (stop-plan, restart, move processes by hand); then `supv controller
    release` starts them again and the acting one resumes failover and automatic start from what the
    cluster is then.

    \b
    Examples:
      supv controller status -c etc/supv.conf
      supv controller hold -c etc/supv.conf && supv stop-plan -c etc/supv.conf scen3_srv
      supv controller release -c etc/supv.conf
    """


@controller.command("status")
@cluster_options
@output_options
@program_option
@click.pass_obj
def status(app: App, program: str) -> None:
    """Say which controller acts, where, the instances it declared lost and its recent decisions.

    \b
    One row per controller program: Instance, Program, State (supervisord's), Role (acting, standby,
    held when stopped, unknown when it said nothing yet). Then the acting controller, its --conciliate
    strategy, its lost instances and its recent decisions. JSON: {acting, lost, recent, jobs,
    conciliate, controllers: [{instance, namespec, statename, role}], unreachable: [nicks]}.

    \b
    Exit status: 0 shown; 1 no controller acts (none running, or all held); 2 usage or configuration
    error; 3 no instance answered.
    \b
    Examples:
      supv controller status -c etc/supv.conf
      supv controller status -c etc/supv.conf --json | jq -r .acting
    """
    from supv_cli.cli.output import Table, View, echo_err, plain_table

    snapshot = app.snapshot(with_config=False)
    states = app.session.controller_states(snapshot, program)
    acting = next((nick for nick, state in states.items() if state.get("acting")), None)
    state = states.get(acting, {}) if acting else {}
    rows = [{"instance": i.nick, "namespec": info.namespec, "statename": info.state.name,
             "role": role(info, states.get(i.nick))} for i, info in controllers(snapshot, program)]
    data = {"acting": acting, "lost": state.get("lost", []), "recent": state.get("recent", []),
            "jobs": state.get("jobs", []), "conciliate": state.get("conciliate"), "controllers": rows,
            "unreachable": [s.instance.nick for s in snapshot.unreachable]}
    table = Table(["Instance", "Program", "State", "Role"],
                  [[r["instance"], r["namespec"], r["statename"], r["role"]] for r in rows])
    summary = [f"acting: {acting or 'none'}"]
    if acting:
        summary.append(f"conciliation: {data['conciliate'] or 'not said (an older controller)'}")
        summary.append(f"lost instances: {', '.join(data['lost']) or 'none'}")
        summary += [f"  {line}" for line in data["recent"]]
    app.emit(View(data=lambda: data, tables=lambda: [table, Table(["Controller"], [[line] for line in summary])],
                  plain=lambda: [plain_table(table.headers, table.rows), *summary]))
    if acting is None:
        held = [r["instance"] for r in rows if r["role"] == "held"]
        echo_err("supv: no controller acts" + (f" (held on {', '.join(held)})" if held else ""))
        raise CommandFailed(ExitCode.FAILED)


def _ask_and_switch(app: App, program: str, kind: str, dry_run: bool) -> tuple[Snapshot, dict[tuple[str, str], object]]:
    """Ask every instance what it runs and, in the same worker, at once stop (hold) or start (release)
    its controller program: a reachable controller is switched as soon as its own supervisord answers,
    not after a frozen one ran into the timeout. The snapshot (unreachable instances reported, exit 3
    when none answered) and (nick, namespec) -> the answer to the stop or start sent."""
    from supv_cli.cli.app import require_an_answer
    from supv_cli.cluster.client import SNAPSHOT_CALLS, instance_snapshot, unreachable_snapshot
    from supv_cli.model.snapshot import InstanceSnapshot, Snapshot

    verb = "stop" if kind == "hold" else "start"
    session = app.session
    ordered = list(session.instances)
    taken_at = time.time()

    def ask_and_switch(client: InstanceClient) -> tuple[InstanceSnapshot, dict[tuple[str, str], object]]:
        snap = instance_snapshot(client.instance, client.multicall(SNAPSHOT_CALLS))
        todo = [info for info in snap.processes if program in (info.group, info.name)
                and info.running == (kind == "hold")]
        if dry_run or not todo:
            return snap, {}
        answers = client.multicall([(f"supervisor.{verb}Process", (info.namespec, False)) for info in todo])
        return snap, {(client.instance.nick, info.namespec): answer for info, answer in zip(todo, answers)}

    snaps, sent = [], {}
    for entry in session.each(ordered, ask_and_switch):
        if isinstance(entry, tuple):
            snaps.append(entry[0])
            sent.update(entry[1])
        else:
            snaps.append(unreachable_snapshot(entry))
    snapshot = Snapshot(instances=tuple(snaps), taken_at=taken_at)
    app.report_unreachable(snapshot)
    require_an_answer(snapshot, app.settings.instances_source)
    return snapshot, sent


def _switch(app: App, program: str, kind: str, dry_run: bool = False) -> None:
    """Stop (hold) or start (release) the controller program on every instance that has one, and wait."""
    from supv_cli.cli.output import Table, View, echo_err
    from supv_cli.cli.program_switch import await_switch, switch_rows

    verb = "stop" if kind == "hold" else "start"
    snapshot, sent = _ask_and_switch(app, program, kind, dry_run)
    found = controllers(snapshot, program)
    todo = [(i, info) for i, info in found if info.running == (kind == "hold")]
    if dry_run:
        planned = [{"instance": i.nick, "namespec": info.namespec, "action": verb if (i, info) in todo else "done",
                    "state": info.state.name} for i, info in found]
        app.emit(View(data=lambda: {"kind": kind, "dry_run": True, "controllers": planned},
                      tables=lambda: [Table(["Instance", "Program", "Action", "State"],
                                            [[r["instance"], r["namespec"], r["action"], r["state"]]
                                             for r in planned])]))
        return
    answers = [sent.get((i.nick, info.namespec)) for i, info in todo]
    outcome = {(i.nick, info.namespec): ("ALREADY", "already " + info.state.name) for i, info in found
               if (i, info) not in todo}
    outcome.update(await_switch(app, todo, answers, start=kind == "release"))
    rows = switch_rows(outcome, verb)
    down = [s.instance.nick for s in snapshot.unreachable]
    failed = [r for r in rows if r["outcome"] in ("FAILED", "TIMEOUT")]
    app.emit(View(data=lambda: {"kind": kind, "result": "failed" if failed or down else "success",
                                "controllers": rows, "unreachable": down},
                  tables=lambda: [Table(["Instance", "Program", "Action", "Outcome", "Detail"],
                                        [[r["instance"], r["namespec"], r["action"], r["outcome"], r["detail"]]
                                         for r in rows])]))
    if not found:
        echo_err(f"supv: warning: no instance has a {program!r} program (see --controller-program)")
    elif kind == "hold" and not failed:
        echo_err("supv: controllers held: nothing is started or moved automatically until "
                 "`supv controller release`")
    elif not failed:
        echo_err("supv: controllers released: the acting one resumes automatic start and failover")
    if down:
        raise ClusterError(f"{', '.join(down)} did not answer: a controller there may still "
                           f"{'act' if kind == 'hold' else 'be held'}")
    if failed:
        raise CommandFailed(ExitCode.FAILED)


DRY_RUN = dry_run_option("Print which controllers would be stopped or started; change nothing.")


@controller.command("hold")
@cluster_options
@output_options
@program_option
@DRY_RUN
@click.pass_obj
def hold(app: App, program: str, dry_run: bool) -> None:
    """Stop the controller program on every instance that has one: maintenance mode.

    Nothing is started or moved automatically until release. supervisord does not restart a program
    stopped by a request, but a restarted supervisord starts its controller again (autostart).

    \b
    Exit status: 0 every controller stopped; 1 one did not stop; 2 usage or configuration error;
    3 an instance did not answer (a controller there may still act).
    \b
    Examples:
      supv controller hold -c etc/supv.conf
      supv controller hold -c etc/supv.conf --controller-program my_controller --json
    """
    _switch(app, program, "hold", dry_run)


@controller.command("release")
@cluster_options
@output_options
@program_option
@DRY_RUN
@click.pass_obj
def release(app: App, program: str, dry_run: bool) -> None:
    """Start the controller program again on every instance that has one (end of maintenance).

    \b
    Exit status: 0 every controller RUNNING; 1 one did not start; 2 usage or configuration error;
    3 an instance did not answer.
    \b
    Examples:
      supv controller release -c etc/supv.conf
    """
    _switch(app, program, "release", dry_run)
