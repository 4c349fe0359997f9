"""What ``supv reload`` and ``supv shutdown`` share: the instances chosen, the confirmation, the
controllers held first, the restart (or shutdown) requests and the wait for their end, the report.

The controllers are held through ``supv controller hold`` itself (invoked, its report on stderr): while
supervisord restarts, the acting controller would see the instance lost and start its programs
elsewhere. ``reload`` releases them again at the end (``--keep-held`` keeps them held); ``shutdown``
leaves them held, and says so, since a released controller would move what ran on the instances shut
down.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, TypeVar

import click

from supv_cli.cli.output import Table, View, echo_err, warn
from supv_cli.errors import ClusterError, CommandFailed, ExitCode, SupvError, UsageError

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import ProcessInfo, Snapshot

#: a click command function (Any: click's own decorators take any callable)
F = TypeVar("F", bound=Callable[..., Any])

#: seconds added to the time an instance may take to stop its processes before its restart or
#: shutdown is failed
MARGIN = 10.0
#: what supervisord writes in its log each time it starts (supervisor/options.py, write_pidfile)
STARTED = "supervisord started with pid"
#: how much of the end of supervisord's log is read to see a new start
LOG_TAIL = 4096


@dataclass(frozen=True)
class Kind:
    """reload or shutdown: the XML-RPC method, the words of the prompt and of the report."""

    name: str
    method: str
    verb: str
    done: str
    consequence: str


RELOAD = Kind("reload", "supervisor.restart", "Restart", "RESTARTED",
              "every process there stops; autostart programs start again")
SHUTDOWN = Kind("shutdown", "supervisor.shutdown", "Shut down", "SHUT_DOWN",
                "every process there stops and supervisord exits: nothing can start it again remotely")


@dataclass
class Target:
    """One instance to restart or shut down, and what became of it."""

    instance: Instance
    deadline: float = 0.0
    log_mark: str | None = None
    seen_down: bool = False
    outcome: str = ""
    detail: str = ""
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    def finish(self, outcome: str, detail: str) -> None:
        self.outcome, self.detail, self.elapsed = outcome, detail, time.monotonic() - self.started


def instance_option(func: F) -> F:
    return click.option("--instance", "nicks", multiple=True, metavar="NICK",
                        help="Only this instance (nick or host:port); repeatable, or comma separated. "
                             "Default: every instance.")(func)


def yes_option(func: F) -> F:
    return click.option("-y", "--yes", is_flag=True,
                        help="Do not ask for confirmation (needed when stdin is not a terminal).")(func)


def choose(app: App, nicks: Sequence[str]) -> list[Instance]:
    """The instances named (every one when none is), in instance-list order; an unknown name is exit 2."""
    app.settings.require_instances()
    names = [name for item in nicks for name in item.replace(",", " ").split()]
    unknown = [name for name in names if app.instances.find(name) is None]
    if unknown:
        known = ", ".join(i.nick for i in app.instances)
        raise UsageError(f"--instance {', '.join(unknown)}: not an instance of the list; known: {known}")
    wanted = {instance.nick for name in names if (instance := app.instances.find(name)) is not None}
    return [i for i in app.instances if not wanted or i.nick in wanted]


def confirm(kind: Kind, targets: Sequence[Instance], yes: bool) -> None:
    """Ask on a terminal; without --yes and without a terminal, exit 2 before anything is touched."""
    if yes:
        return
    nicks = ", ".join(i.nick for i in targets)
    if not sys.stdin.isatty():
        raise UsageError(f"{kind.name}: not confirmed: stdin is not a terminal; nothing was touched. To "
                         f"{kind.verb.lower()} supervisord on {nicks}, give --yes")
    if not click.confirm(f"{kind.verb} supervisord on {nicks} ({kind.consequence})?", default=False, err=True):
        raise UsageError(f"{kind.name}: not confirmed; nothing was touched")


@contextlib.contextmanager
def _as_talk(app: App) -> Iterator[None]:
    """What a reused command prints goes to stderr, as plain text (stdout keeps this command's report)."""
    saved = app.fmt, app.cluster
    app.fmt = "plain"
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        app.fmt, app.cluster = saved


def switch_controllers(app: App, program: str, which: str) -> None:
    """``supv controller hold`` (or ``release``) itself, its report on stderr."""
    from supv_cli.cli.controller import hold, release

    with _as_talk(app):
        click.get_current_context().invoke(hold if which == "hold" else release, program=program)


def running_controllers(snapshot: Snapshot, program: str) -> list[str]:
    """The nicks where a controller program runs now."""
    from supv_cli.cli.controller import controllers

    return [instance.nick for instance, info in controllers(snapshot, program) if info.running]


def _probe(app: App, instance: Instance) -> tuple[str | None, str | None]:
    """(supervisord state or None when it does not answer, the end of its log or None)."""
    from supv_cli.cluster.client import CallError

    (entry,) = app.session.each([instance], lambda client: client.multicall(
        [("supervisor.getState", ()), ("supervisor.readLog", (-LOG_TAIL, 0))]), ask_all=True)
    if isinstance(entry, CallError):
        return None, None
    state, log = entry
    statename = state.get("statename") if isinstance(state, dict) else None
    return statename, log if isinstance(log, str) else None


def last_start(log: str | None) -> str | None:
    """The last ``supervisord started with pid`` line of a log tail (its time stamp makes it unique)."""
    if not log:
        return None
    lines = [line for line in log.splitlines() if STARTED in line]
    return lines[-1] if lines else None


def stop_budget(processes: Sequence[ProcessInfo]) -> float:
    """How long supervisord may take to stop what runs: it stops one group after the other, each within
    the longest stopwaitsecs of its running processes."""
    longest: dict[str, int] = {}
    for info in processes:
        if info.running:
            longest[info.group] = max(longest.get(info.group, 0), info.stopwaitsecs)
    return float(sum(longest.values()))


def request(app: App, kind: Kind, targets: Sequence[Instance], snapshot: Snapshot) -> list[Target]:
    """Send the restart or shutdown to each target that answered, and wait for it to be done: restarted
    (a new start in its log, or seen down then RUNNING again) or shut down (no longer answering)."""
    from supv_cli.plan.run_types import Request

    answering = {snap.instance.nick: snap for snap in snapshot.instances if snap.reachable}
    tracked = [Target(i) for i in targets]
    live = [t for t in tracked if t.instance.nick in answering]
    for target in tracked:
        if target.instance.nick not in answering:
            target.finish("UNREACHABLE", "did not answer: not touched")
    for target in live:
        snap = answering[target.instance.nick]
        target.deadline = time.monotonic() + stop_budget(snap.processes) + app.settings.timeout + MARGIN
        if kind is RELOAD:
            target.log_mark = last_start(_probe(app, target.instance)[1])
    answers = app.session.send([Request(t.instance, kind.method, ()) for t in live])
    pending = []
    for target, answer in zip(live, answers):
        if answer is True:
            pending.append(target)
        else:
            target.finish("FAILED", str(getattr(answer, "reason", answer)))
    _wait(app, kind, pending)
    return tracked


def _wait(app: App, kind: Kind, pending: list[Target]) -> None:
    """Poll each target until its restart (shutdown) is seen done, or its deadline passes."""
    from supv_cli.model.snapshot import SupervisorState

    while pending:
        time.sleep(0.05)
        for target in list(pending):
            state, log = _probe(app, target.instance)
            if kind is SHUTDOWN:
                if state is None:
                    target.finish(kind.done, "supervisord no longer answers")
            else:
                target.seen_down = target.seen_down or state != SupervisorState.RUNNING
                mark = last_start(log)
                restarted = target.seen_down or (mark is not None and mark != target.log_mark)
                if state == SupervisorState.RUNNING and restarted:
                    target.finish(kind.done, "RUNNING again")
            if target.outcome:
                pending.remove(target)
            elif time.monotonic() > target.deadline:
                doing = "still answering" if kind is SHUTDOWN else f"not seen restarting ({state or 'no answer'})"
                target.finish("TIMEOUT", doing)
                pending.remove(target)


def report(app: App, kind: Kind, tracked: Sequence[Target], held: Sequence[str]) -> None:
    """The report on stdout, then the exit code: 1 a request failed or timed out, 3 a target did not answer."""
    rows = [{"instance": t.instance.nick, "action": kind.name, "outcome": t.outcome, "detail": t.detail,
             "elapsed": round(t.elapsed, 3)} for t in tracked]
    failed = [r for r in rows if r["outcome"] in ("FAILED", "TIMEOUT")]
    down = [t.instance.nick for t in tracked if t.outcome == "UNREACHABLE"]
    result = "failed" if failed or down else "success"
    app.emit(View(data=lambda: {"kind": kind.name, "result": result, "held": list(held), "instances": rows},
                  tables=lambda: [Table(["Instance", "Action", "Outcome", "Elapsed", "Detail"],
                                        [[r["instance"], r["action"], r["outcome"], f"{r['elapsed']:.1f}s",
                                          r["detail"]] for r in rows])]))
    if down:
        raise ClusterError(f"{', '.join(down)} did not answer: supervisord there was not "
                           f"{'restarted' if kind is RELOAD else 'shut down'}")
    if failed:
        raise CommandFailed(ExitCode.FAILED)


def control(app: App, kind: Kind, nicks: Sequence[str], yes: bool, program: str, hold: bool,
            keep_held: bool = False) -> None:
    """``supv reload`` / ``supv shutdown``: choose, confirm, hold the controllers, act, wait, report
    (and, for reload, release the controllers held here unless ``keep_held``)."""
    targets = choose(app, nicks)
    confirm(kind, targets, yes)
    snapshot = app.snapshot(with_config=True)
    held = running_controllers(snapshot, program) if hold else []
    if held:
        echo_err(f"supv: holding the controllers first ({', '.join(held)}): nothing is started or moved "
                 f"automatically while supervisord {'restarts' if kind is RELOAD else 'shuts down'}")
        try:
            switch_controllers(app, program, "hold")
        except SupvError:
            echo_err(f"supv: {kind.name}: nothing {'restarted' if kind is RELOAD else 'shut down'}: the "
                     "controllers could not all be held (--no-hold goes on without holding them)")
            raise
        snapshot = app.snapshot(with_config=True)
    tracked = request(app, kind, targets, snapshot)
    if held and kind is RELOAD and not keep_held:
        echo_err("supv: releasing the controllers held for the reload")
        try:
            report(app, kind, tracked, held)
        finally:
            switch_controllers(app, program, "release")
        return
    if held:
        then = ("the acting one then starts elsewhere what ran on the instances shut down" if kind is SHUTDOWN
                else "--keep-held")
        warn(f"the controllers stay held: `supv controller release` resumes automatic start and failover ({then})")
    report(app, kind, tracked, held)
