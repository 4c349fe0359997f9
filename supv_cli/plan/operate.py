"""Operating the cluster by hand: process names, single-process runs, restarts, and readiness.

* :func:`select_processes` turns ``APP:PROC`` / ``APP:*`` / ``NAME`` into the processes of ``supv start|stop|restart``;
* :class:`RunChain` runs several runs one after the other as one (a stop, then a start), one report;
  :func:`restart_start` makes the start plan of a restart, :func:`restart_run` executes both plans;
* :func:`readiness` is ``supv wait``'s criterion: what a ``run-plan --dry-run`` would leave to do;
* :func:`conciliation_run` stops the copies of conflicting processes that the controller's conciliation
  rule (:func:`supv_cli.plan.conciliation.victims`, the one implementation) picks.

Pure: the runs are the executor's state machines; nothing here touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from supv_cli.errors import ClusterError, ExitCode, SupvError, UsageError
from supv_cli.model.instances import InstanceList
from supv_cli.model.runs import RunKind
from supv_cli.model.snapshot import ProcessState, Snapshot
from supv_cli.plan.conciliation import Conciliation, victims
from supv_cli.plan.executor import Run
from supv_cli.plan.placer import Placer
from supv_cli.plan.planner import build_start_plan, process_plan
from supv_cli.plan.run_types import ApplicationJob, Command, Event, Request, RunOptions
from supv_cli.plan.stages import Action, ApplicationPlan, Placement, Plan
from supv_cli.rules.model import Distribution
from supv_cli.selection import Selection, silence_of, split_namespec
from supv_cli.selection import select_processes as select_words

if TYPE_CHECKING:
    from supv_cli.model.instances import Instance
    from supv_cli.rules import Rules
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus


# ----------------------------------------------------------------------------------- names
def catalogue(status: ClusterStatus) -> dict[str, list[str]]:
    """application -> process names of a status (discovery order): what names are looked up in."""
    return {name: [p.process_name for p in application.processes] for name, application in status.applications.items()}


def select_processes(status: ClusterStatus, namespecs: Sequence[str]) -> dict[str, list[str]]:
    """``APP:PROC`` / ``APP:*`` / ``NAME`` (``NAME:NAME``) -> application name -> process names (argument
    order, no duplicates): the one grammar (``supv_cli/selection.py``), no globs (an action names what it
    acts on). A name that names nothing is a usage error naming what is known (exit 3 when an instance
    did not answer: it may have it)."""
    selection = select_words(namespecs, catalogue(status), silence_of(status.snapshot), empty_is_all=False)
    missing = [u.word for u in selection.unknown] + [m.word for m in selection.maybe if not m.listed]
    if missing:
        raise _maybe_silent(selection, _unknown_message(status, selection, missing[0]))
    return selection.by_application()


def _unknown_message(status: ClusterStatus, selection: Selection, word: str) -> str:
    name = split_namespec(word)
    hint = next((u.hint for u in selection.unknown if u.word == word and u.hint), "")
    application = status.applications.get(name.application)
    if ":" not in word:
        mean = f"did you mean {hint}? " if hint else ""
        return (f"{word!r} is {word}:{word} (a bare NAME is NAME:NAME), which names nothing: {mean}name processes "
                "as APP:PROC or APP:*; to start or stop a whole application stage by stage, use supv run-plan / "
                "stop-plan / restart-plan")
    if application is None:
        return (f"unknown application {name.application!r} in {word!r}: no reachable instance has this group; "
                f"known: {', '.join(status.applications) or '(none)'}")
    names = ", ".join(p.process_name for p in application.processes)
    return f"unknown process {word!r}: {name.application} has {names}"


# ----------------------------------------------------------------------------------- runs
class RunChain:
    """Runs one after the other, seen as one run (same interface as :class:`Run` for the driver, the
    progress view and the report): ``restart`` is a stop run, then a start run."""

    def __init__(self, kind: RunKind, runs: Sequence[Run]) -> None:
        self.kind = kind
        self.runs = list(runs)
        self.index = 0

    @property
    def finished(self) -> bool:
        return self.index >= len(self.runs)

    @property
    def interrupted(self) -> bool:
        return any(run.interrupted for run in self.runs)

    @property
    def jobs(self) -> list[ApplicationJob]:
        """The application jobs of every run (who is concerned by the chain)."""
        return [job for run in self.runs for job in run.jobs]

    def _current(self) -> Run | None:
        return self.runs[self.index] if not self.finished else None

    def step(self, snapshot: Snapshot, status: ClusterStatus, now: float,
             other_pending: dict[str, int] | None = None) -> list[Request]:
        """Step the current run; when it ends, the next one starts from the same snapshot."""
        while (run := self._current()) is not None:
            requests = run.step(snapshot, status, now, other_pending)
            if not run.finished:
                return requests
            self.index += 1
            if requests:
                return requests
        return []

    def on_result(self, request: Request, result: object, now: float) -> None:
        for run in self.runs:
            if request.command in run.commands():
                run.on_result(request, result, now)
                return

    def commands(self) -> list[Command]:
        return [command for run in self.runs for command in run.commands()]

    def failed(self) -> bool:
        return any(run.failed() for run in self.runs)

    def report(self) -> list[dict[str, Any]]:
        return [row for run in self.runs for row in run.report()]

    def drain_events(self) -> list[Event]:
        return [event for run in self.runs for event in run.drain_events()]

    def pending_loads(self) -> dict[str, int]:
        run = self._current()
        return run.pending_loads() if run is not None else {}

    def next_wakeup(self, now: float, interval: float) -> float:
        run = self._current()
        return run.next_wakeup(now, interval) if run is not None else now

    def interrupt(self, now: float) -> None:
        """Ctrl-C: the current run's commands are INTERRUPTED, the later runs never start."""
        for run in self.runs[self.index:]:
            run.interrupt(now)


def restart_run(rules: Rules, stop: Plan, start: Plan, options: RunOptions) -> RunChain:
    """``restart-plan`` and ``supv restart``: the ``stop`` plan executed, then the ``start`` plan (see
    :func:`restart_start`), one report."""
    return RunChain(RunKind.RESTART, [Run(rules, stop, options), Run(rules, start, options)])


# ----------------------------------------------------------------------------------- restart plans
def as_stopped(snapshot: Snapshot, namespecs: Iterable[str]) -> Snapshot:
    """The snapshot as it would be once ``namespecs`` are stopped everywhere (what a restart's start
    is placed from in a dry run)."""
    wanted = set(namespecs)
    snaps = tuple(replace(snap, processes=tuple(replace(info, state=ProcessState.STOPPED, pid=0)
                                                if info.namespec in wanted and (info.running or
                                                                                info.state is ProcessState.STOPPING)
                                                else info for info in snap.processes))
                  for snap in snapshot.instances)
    return Snapshot(snaps, snapshot.taken_at)


def restart_start(rules: Rules, snapshot: Snapshot, stop: Plan,
                  start: Callable[[Snapshot, ClusterStatus], Plan]) -> Plan:
    """The start of a restart: what ``start`` makes from the cluster as it will be once ``stop`` is done
    (the run places each process again when its stage opens, after the stop)."""
    from supv_cli.status import evaluate

    stopped = as_stopped(snapshot, (p.namespec for p in stop.placements()))
    return start(stopped, evaluate(rules, stopped))


def restart_plan(stop: Plan, start: Plan) -> Plan:
    """A restart's dry run: ``stop``, then ``start``, as one plan (what :func:`restart_run` executes)."""
    return Plan(RunKind.RESTART, stop.stages + start.stages)


# ----------------------------------------------------------------------------------- readiness
@dataclass(frozen=True)
class Missing:
    """A program that keeps an application from being fully started, and why."""

    namespec: str
    expected: str
    now: str
    #: instances that could run it and do not answer
    unreachable: tuple[str, ...] = ()
    #: the line, when "should be ...; now ..." says it badly (what a silent instance runs is not known)
    said: str = ""

    def line(self) -> str:
        if self.said:
            return self.said
        down = f" ({', '.join(self.unreachable)} not answering)" if self.unreachable else ""
        return f"{self.namespec}: should be {self.expected}; now {self.now}{down}"


def readiness(rules: Rules, snapshot: Snapshot, status: ClusterStatus, names: Sequence[str] = (),
              local: Instance | None = None) -> list[Missing]:
    """What is missing for the applications (default: every managed one with start_sequence > 0) to be
    fully started: each program a ``run-plan`` would start is RUNNING (or EXITED with an expected code
    for a wait_exit program of an application already running), and no major failure. Empty: ready.

    Raises UsageError for an application named that no instance knows (as run-plan does).
    """
    plan = build_start_plan(rules, snapshot, status, names, local)
    missing: list[Missing] = []
    for application in plan.applications():
        for placement in application.placements():
            if placement.action is Action.DONE:
                continue
            process = status.processes[placement.namespec]
            missing.append(Missing(placement.namespec, _expected(placement), _now(process, placement.wait_exit),
                                   _unreachable(status, application.application_name, process)))
        current = status.applications[application.application_name]
        if current.major_failure and not any(m.namespec.startswith(f"{current.application_name}:")
                                             for m in missing):
            missing.append(Missing(current.application_name, "without major failure",
                                   f"{current.statename} with a major failure"))
    return missing


def _expected(placement: Placement) -> str:
    goal = "EXITED with an expected code" if placement.wait_exit else "RUNNING"
    if placement.action is Action.NO_RESOURCE:
        return f"{goal}, but no instance can take it ({placement.reason})"
    where = f" on {placement.instance.nick}" if placement.instance is not None else ""
    return f"{goal}{where}"


def _now(process: ProcessStatus, wait_exit: bool = False) -> str:
    if wait_exit and process.state is ProcessState.EXITED and process.expected_exit:
        # the check of an application now entirely stopped: "should be EXITED; now EXITED" would puzzle
        return "EXITED from an earlier start (its application is stopped: a run-plan runs it again)"
    where = ", ".join(i.nick for i in process.running_on)
    return process.statename + (f" on {where}" if where else "")


def _unreachable(status: ClusterStatus, application_name: str, process: ProcessStatus) -> tuple[str, ...]:
    """The candidates of a process (its rules identifiers, or its application's for SINGLE_*) that do not
    answer: the instances ``supv wait`` needs."""
    down = {snap.instance.nick for snap in status.snapshot.unreachable}
    if not down:
        return ()
    rules = process.rules
    application: ApplicationStatus = status.applications[application_name]
    instances = InstanceList(s.instance for s in status.snapshot.instances)
    if application.rules.distribution is not Distribution.ALL_INSTANCES:
        candidates = application.rules.candidates(instances)
    else:
        candidates = instances.resolve((*rules.identifiers, *rules.at_identifiers, *rules.hash_identifiers))
    return tuple(i.nick for i in candidates if i.nick in down)


# ----------------------------------------------------------------------------------- conflicts
def _maybe_silent(selection: Selection, message: str) -> SupvError:
    """A name that names nothing: the selection's exit code, 2, or 3 when an instance did not answer (it
    may have it)."""
    if selection.exit_code is ExitCode.UNREACHABLE:
        return ClusterError(f"{message}; {len(selection.reasons)} instance(s) did not answer and may have it")
    return UsageError(message)


def conflicts(status: ClusterStatus, namespecs: Sequence[str] = ()) -> list[ProcessStatus]:
    """Managed processes active on several instances, limited to the processes ``namespecs`` name (the
    one grammar, globs allowed) when given. A name that names nothing is the usage error of every command
    (exit 2; 3 when an instance did not answer), not an empty selection."""
    found = status.conflicts()
    if not namespecs:
        return found
    selection = select_words(namespecs, catalogue(status), silence_of(status.snapshot), globs=True)
    if selection.unknown or any(not m.listed for m in selection.maybe):
        error = selection.error()
        assert error is not None
        raise error
    wanted = set(selection.processes)
    return [p for p in found if p.namespec in wanted]


def _targets(status: ClusterStatus, namespecs: Sequence[str], strategy: str) -> dict[str, frozenset[str]]:
    """namespec -> nicks of the copies to stop."""
    order = {snap.instance.nick: position for position, snap in enumerate(status.snapshot.instances)}
    found = {}
    for process in conflicts(status, namespecs):
        chosen = victims(process, Conciliation(strategy), lambda nick: order.get(nick, len(order)))
        if chosen:
            found[process.namespec] = frozenset(i.nick for i in chosen)
    return found


def _by_application(status: ClusterStatus, namespecs: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for namespec in namespecs:
        process = status.processes[namespec]
        grouped.setdefault(process.application_name, []).append(process.process_name)
    return grouped


def conciliation_run(rules: Rules, status: ClusterStatus, namespecs: Sequence[str], strategy: str,
                     options: RunOptions) -> Run | None:
    """``supv conciliate``: a stop of the copies the strategy picks (None when there is no conflict)."""
    targets = _targets(status, namespecs, strategy)
    if not targets:
        return None
    grouped = _by_application(status, list(targets))
    plan = process_plan(rules, status.snapshot, status, RunKind.STOP, grouped)
    return Run(rules, plan, options, stop_only_on=targets)


def conciliation_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, namespecs: Sequence[str],
                      strategy: str) -> Plan:
    """``supv conciliate --dry-run``: the stops the strategy would send."""
    targets = _targets(status, namespecs, strategy)
    placer = Placer.build(rules, snapshot, status)
    app_plans = []
    for name, process_names in _by_application(status, list(targets)).items():
        application = status.applications[name]
        placed = tuple(p for process in application.processes if process.process_name in process_names
                       for p in placer.place_stop(application, process, 0)
                       if p.instance is not None and p.instance.nick in targets[process.namespec])
        app_plans.append(ApplicationPlan(name, 0, application.rules.distribution, application.rules.starting_strategy,
                                         ((0, placed),), f"{strategy}: keeps one copy" if strategy != "stop" else ""))
    return Plan(RunKind.STOP, ((0, tuple(app_plans)),) if app_plans else ())
