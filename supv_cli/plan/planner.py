"""The planner: (rules, snapshot, status) -> the Plan of a staged start or stop. Pure, deterministic.

The Plan is what ``--dry-run`` prints and what the run executes (``executor.Run`` takes it): its
application stages, and inside each application its program stages, in its order. The run places each
process again when its stage opens, from the cluster as it is then (decisions.md, issue 19).

Start (behaviour spec §3.4, decisions.md): applications by ``start_sequence`` (lowest first, equal
values in parallel; only > 0 unless named), inside each application its programs by ``start_sequence``
(> 0), each stage in parallel. Placement happens stage by stage with the load of what the run already
placed, exactly as the executor does it live, so the dry run shows what a successful run does.
Stop: applications and programs by ``stop_sequence``, highest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from supv_cli.errors import PlanError, UsageError
from supv_cli.model.instances import Instance
from supv_cli.model.runs import RunKind
from supv_cli.model.snapshot import Snapshot
from supv_cli.plan.placer import Placer
from supv_cli.plan.stages import Action, ApplicationPlan, Placement, Plan
from supv_cli.selection import select_applications as select_words
from supv_cli.selection import silence_of

if TYPE_CHECKING:
    from supv_cli.rules import Rules
    from supv_cli.rules.model import StartingStrategy
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus

#: Action and Placement are re-exported: callers of the planner read plans without importing the model
__all__ = ["Action", "Placement", "build_start_plan", "build_stop_plan", "ensure_rules", "process_plan",
           "process_stages", "refuse_processes", "select_applications", "start_plan", "stop_plan"]


# ----------------------------------------------------------------------------------- application choice
#: the command acting on processes that matches each command acting on applications
_PROCESS_COMMANDS = {"run-plan": RunKind.START, "stop-plan": RunKind.STOP, "restart-plan": RunKind.RESTART}


def refuse_processes(names: Sequence[str], command: str) -> None:
    """``APP:PROC`` given to ``command``, which takes applications: a usage error that points to the
    command acting on processes, when there is one."""
    processes = [name for name in names if ":" in name]
    if processes:
        other = _PROCESS_COMMANDS.get(command)
        hint = f", or use `supv {other} {' '.join(processes)}` for processes" if other else " (APP, not APP:PROC)"
        raise UsageError(f"{', '.join(processes)}: {command} takes applications; name applications here{hint}")


def select_applications(rules: Rules, status: ClusterStatus, names: Sequence[str], kind: RunKind,
                        command: str = "") -> list[ApplicationStatus]:
    """The applications a start or stop is about.

    Named: each must be known by an instance and, for a start, managed; ``APP:PROC`` is refused with a
    pointer to the process command (``command``: run-plan by default for a start, stop-plan for a stop).
    None named: for a start every managed application with start_sequence > 0; for a stop every managed
    application.
    """
    by_name = status.applications
    if names:
        refuse_processes(names, command or ("run-plan" if kind == RunKind.START else "stop-plan"))
        # a stop takes any group, so a silent instance may have it; a start takes only what the rules
        # manage, and those the rules place on a silent instance were already reported (exit 3)
        selection = select_words(names, {name: [p.process_name for p in a.processes] for name, a in by_name.items()},
                                 silence_of(status.snapshot, rules), anywhere=kind == RunKind.STOP, empty_is_all=False)
        error = selection.error("application") if selection.unknown or any(
            not (m.listed or m.placed) for m in selection.maybe) else None
        if error is not None:
            raise error
        # a name the rules place on a silent instance (exit 3, said by the command) has nothing to act on
        selected = [by_name[name] for name in selection.applications]
        if kind == RunKind.START:
            unmanaged = [a.application_name for a in selected if not a.rules.managed]
            if unmanaged:
                raise UsageError(f"application {', '.join(unmanaged)} is not managed (no rules match it); "
                                 "add an <application> element to the rules to start it with supv")
        return selected
    if kind == RunKind.START:
        return [a for a in status.applications.values() if a.rules.managed and a.rules.start_sequence > 0]
    return [a for a in status.applications.values() if a.rules.managed]


def process_stages(application: ApplicationStatus, kind: RunKind) -> list[tuple[int, list[ProcessStatus]]]:
    """Program stages: start by start_sequence > 0 ascending; stop by stop_sequence descending."""
    groups: dict[int, list[ProcessStatus]] = {}
    for process in application.processes:
        if kind == RunKind.START:
            if process.rules.start_sequence > 0:
                groups.setdefault(process.rules.start_sequence, []).append(process)
        else:
            groups.setdefault(process.rules.stop_sequence, []).append(process)
    return sorted(groups.items(), reverse=(kind == RunKind.STOP))


# ----------------------------------------------------------------------------------- whole plans
def _application_stages(applications: Iterable[ApplicationStatus], kind: RunKind,
                        ) -> list[tuple[int, list[ApplicationStatus]]]:
    groups: dict[int, list[ApplicationStatus]] = {}
    for application in applications:
        key = application.rules.start_sequence if kind == RunKind.START else application.rules.stop_sequence
        groups.setdefault(key, []).append(application)
    return sorted(groups.items(), reverse=(kind == RunKind.STOP))


def build_start_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, names: Sequence[str] = (),
                     local: Instance | None = None, strategy: StartingStrategy | None = None,
                     command: str = "") -> Plan:
    """The staged start of the applications ``names`` select (``command``: who asks, for the message
    refusing ``APP:PROC``), as a successful run would do it."""
    return start_plan(rules, snapshot, status, select_applications(rules, status, names, RunKind.START, command), local,
                      strategy)


def start_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, applications: Sequence[ApplicationStatus],
               local: Instance | None = None, strategy: StartingStrategy | None = None) -> Plan:
    """The staged start of ``applications`` (``strategy`` instead of each application's
    starting_strategy when given), placed as a successful run would do it."""
    placer = Placer.build(rules, snapshot, status, local)
    stages = []
    for sequence, selected in _application_stages(applications, RunKind.START):
        app_plans = []
        for application in selected:
            note = placer.prepare(application, strategy)
            program_stages = []
            for program_sequence, processes in process_stages(application, RunKind.START):
                placed = tuple(placer.place(application, p, program_sequence, strategy=strategy) for p in processes)
                program_stages.append((program_sequence, placed))
                for p in placed:
                    placer.release(p)
            app_plans.append(ApplicationPlan(application.application_name, sequence, application.rules.distribution,
                                             strategy or application.rules.starting_strategy, tuple(program_stages),
                                             note))
        stages.append((sequence, tuple(app_plans)))
    return Plan(RunKind.START, tuple(stages), strategy)


def build_stop_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, names: Sequence[str] = (),
                    command: str = "") -> Plan:
    """The staged stop of the applications ``names`` select (highest stop_sequence first)."""
    return stop_plan(rules, snapshot, status, select_applications(rules, status, names, RunKind.STOP, command))


def stop_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus,
              applications: Sequence[ApplicationStatus]) -> Plan:
    """The staged stop of ``applications`` (highest stop_sequence first)."""
    placer = Placer.build(rules, snapshot, status)
    stages = []
    for sequence, selected in _application_stages(applications, RunKind.STOP):
        app_plans = []
        for application in selected:
            program_stages = [(seq, tuple(p for process in processes
                                                for p in placer.place_stop(application, process, seq)))
                              for seq, processes in process_stages(application, RunKind.STOP)]
            app_plans.append(ApplicationPlan(application.application_name, sequence, application.rules.distribution,
                                             application.rules.starting_strategy, tuple(program_stages)))
        stages.append((sequence, tuple(app_plans)))
    return Plan(RunKind.STOP, tuple(stages))


def process_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, kind: RunKind,
                 processes: Mapping[str, Sequence[str]], strategy: StartingStrategy | None = None,
                 local: Instance | None = None, wait_exit: bool = True) -> Plan:
    """A start or stop of single processes (application -> process names): one stage, every process at
    once, each placed by the rules. ``wait_exit``: a start waits for wait_exit programs and starts an
    expected EXITED one again (``supv start``); False treats them as any program (the controller's
    process restarts). A name the status does not know (any more) is left out."""
    placer = Placer.build(rules, snapshot, status, local)
    app_plans = []
    for name, process_names in processes.items():
        application = status.applications.get(name)
        if application is None:
            continue
        by_name = {p.process_name: p for p in application.processes}
        known = [by_name[n] for n in process_names if n in by_name]
        note = placer.prepare(application, strategy) if kind == RunKind.START else ""
        if kind == RunKind.START:
            placed = tuple(placer.place(application, process, 0, strategy=strategy, honour_wait_exit=wait_exit,
                                        again=wait_exit) for process in known)
        else:
            placed = tuple(p for process in known for p in placer.place_stop(application, process, 0))
        app_plans.append(ApplicationPlan(name, 0, application.rules.distribution,
                                         strategy or application.rules.starting_strategy, ((0, placed),), note))
    return Plan(kind, ((0, tuple(app_plans)),), strategy, single=True, wait_exit=wait_exit)


def ensure_rules(rules: Rules | None) -> Rules:
    if rules is None:
        raise PlanError("no rules file: give -r FILE, SUPV_RULES or -c FILE")
    return rules
