"""The planner: (rules, snapshot, status) -> the stages of a staged start or stop. Pure, deterministic.

Start (behaviour spec §3.4, decisions.md): applications by ``start_sequence`` (lowest first, equal
values in parallel; only > 0 unless named), inside each application its programs by ``start_sequence``
(> 0), each stage in parallel. Placement happens stage by stage with the load of what the run already
placed, exactly as the executor does it live, so the dry run shows what a successful run does.
Stop: applications and programs by ``stop_sequence``, highest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

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
__all__ = ["Action", "Placement", "build_start_plan", "build_stop_plan", "ensure_rules", "process_stages",
           "refuse_processes", "select_applications"]


# ----------------------------------------------------------------------------------- application choice
#: the command acting on processes that matches each command acting on applications
_PROCESS_COMMANDS = {"run-plan": "start", "stop-plan": "stop", "restart-plan": "restart"}


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
                     local: Instance | None = None, strategy: StartingStrategy | None = None) -> Plan:
    """The staged start of the selected applications, as a successful run would do it (``strategy``
    instead of each application's starting_strategy when given)."""
    placer = Placer.build(rules, snapshot, status, local)
    selected = select_applications(rules, status, names, RunKind.START)
    stages = []
    for sequence, applications in _application_stages(selected, RunKind.START):
        app_plans = []
        for application in applications:
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
    return Plan(RunKind.START, tuple(stages))


def build_stop_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, names: Sequence[str] = ()) -> Plan:
    """The staged stop of the selected applications (highest stop_sequence first)."""
    placer = Placer.build(rules, snapshot, status)
    selected = select_applications(rules, status, names, RunKind.STOP)
    stages = []
    for sequence, applications in _application_stages(selected, RunKind.STOP):
        app_plans = []
        for application in applications:
            program_stages = [(seq, tuple(p for process in processes
                                                for p in placer.place_stop(application, process, seq)))
                              for seq, processes in process_stages(application, RunKind.STOP)]
            app_plans.append(ApplicationPlan(application.application_name, sequence, application.rules.distribution,
                                             application.rules.starting_strategy, tuple(program_stages)))
        stages.append((sequence, tuple(app_plans)))
    return Plan(RunKind.STOP, tuple(stages))


def ensure_rules(rules: Rules | None) -> Rules:
    if rules is None:
        raise PlanError("no rules file: give -r FILE, SUPV_RULES or -c FILE")
    return rules
