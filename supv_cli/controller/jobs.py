"""What the controller does: jobs (runs one after the other for some applications), their kinds, the
board its parts post them on (:class:`Board`), the Plan each step of a job executes, and the rule that says an
application was never started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence

from supv_cli.compat import StrEnum
from supv_cli.model.runs import JobStep, RunKind
from supv_cli.model.snapshot import ProcessState
from supv_cli.plan.planner import process_plan, start_plan, stop_plan
from supv_cli.status.applications import ApplicationState

if TYPE_CHECKING:
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.plan.executor import Run
    from supv_cli.plan.stages import Plan
    from supv_cli.rules import Rules
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus


class JobKind(StrEnum):
    """Why a job exists: the automatic start, or the running failure strategy it applies."""

    AUTOSTART = "autostart"
    RESTART_PROCESS = "RESTART_PROCESS"
    RESTART_APPLICATION = "RESTART_APPLICATION"
    STOP_APPLICATION = "STOP_APPLICATION"
    SHUTDOWN = "SHUTDOWN"
    RESTART = "RESTART"


#: a step of a job: a start or stop (with the single processes to act on, or None for the whole
#: applications), or a ``supervisor.*`` method sent to every instance
Step = tuple[JobStep, "dict[str, list[str]] | None"]


@dataclass
class Job:
    """What the controller does for some applications: runs, one after the other."""

    purpose: JobKind
    applications: tuple[str, ...]
    steps: list[Step]
    run: Run | None = None


class Board(Protocol):
    """What a part of the controller (recovery, conciliation) asks of the controller that holds it
    (:class:`~supv_cli.controller.core.Controller`): to log an event, whether an application has a job
    with work still to do, to add a job (said as a decision); and the instances a process may run on."""

    def event(self, kind: str, subject: str, message: str, process: str | None = None,
              instance: str | None = None) -> None: ...

    def busy(self, application: str) -> bool: ...

    def add_job(self, job: Job, message: str, process: str | None = None) -> None: ...

    def candidates_of(self, process: ProcessStatus) -> Sequence[Instance]: ...


def step_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, step: Step, applications: Sequence[str],
              local: Instance | None = None) -> Plan:
    """The Plan a ``start`` / ``stop`` step of a job executes, made by the planner from the snapshot the
    step begins with: the job's applications the status still knows, staged as run-plan / stop-plan
    stage them, or the step's single processes (their wait_exit programs treated as any program)."""
    step_kind, single = step
    kind = step_kind.run_kind
    assert kind is not None, "a supervisor.* step makes no plan"
    if single:
        return process_plan(rules, snapshot, status, kind, single, local=local, wait_exit=False)
    selected = [status.applications[name] for name in applications if name in status.applications]
    if kind == RunKind.START:
        return start_plan(rules, snapshot, status, selected, local)
    return stop_plan(rules, snapshot, status, selected)


def never_started(application: ApplicationStatus) -> bool:
    """Supvisors' rule: every process STOPPED and never stopped (stop time 0) on every instance."""
    return (application.state is ApplicationState.STOPPED
            and all(_never_ran(process) for process in application.processes))


def missed_starts(application: ApplicationStatus) -> list[str]:
    """The programs of a started application that its start should have started and that never ran
    anywhere (a start sent to an instance lost before anyone saw the program there): sequenced, not
    wait_exit, STOPPED and never stopped on every instance that knows them."""
    if application.state is ApplicationState.STOPPED:
        return []
    return [process.process_name for process in application.processes
            if process.rules.start_sequence > 0 and not process.rules.wait_exit and not process.running_on
            and _never_ran(process)]


def _never_ran(process: ProcessStatus) -> bool:
    return all(info.state is ProcessState.STOPPED and info.stop == 0 for _, info in process.infos)
