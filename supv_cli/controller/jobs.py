"""What the controller does: jobs (runs one after the other for some applications), their kinds, the
Plan each step of a job executes, and the rule that says an application was never started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from supv_cli.cluster.snapshot import ProcessState
from supv_cli.compat import StrEnum
from supv_cli.plan.planner import process_plan, start_plan, stop_plan

if TYPE_CHECKING:
    from supv_cli.cluster.instances import Instance
    from supv_cli.cluster.snapshot import Snapshot
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


#: a step of a job: ``start`` / ``stop`` (with the single processes to act on, or None for the whole
#: applications), or a ``supervisor.*`` method sent to every instance
Step = tuple[str, "dict[str, list[str]] | None"]


@dataclass
class Job:
    """What the controller does for some applications: runs, one after the other."""

    purpose: JobKind
    applications: tuple[str, ...]
    steps: list[Step]
    run: Run | None = None


def step_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, step: Step, applications: Sequence[str],
              local: Instance | None = None) -> Plan:
    """The Plan a ``start`` / ``stop`` step of a job executes, made by the planner from the snapshot the
    step begins with: the job's applications the status still knows, staged as run-plan / stop-plan
    stage them, or the step's single processes (their wait_exit programs treated as any program)."""
    kind, single = step
    if single:
        return process_plan(rules, snapshot, status, kind, single, local=local, wait_exit=False)
    selected = [status.applications[name] for name in applications if name in status.applications]
    if kind == "start":
        return start_plan(rules, snapshot, status, selected, local)
    return stop_plan(rules, snapshot, status, selected)


def never_started(application: ApplicationStatus) -> bool:
    """Supvisors' rule: every process STOPPED and never stopped (stop time 0) on every instance."""
    return application.statename == "STOPPED" and all(_never_ran(process) for process in application.processes)


def missed_starts(application: ApplicationStatus) -> list[str]:
    """The programs of a started application that its start should have started and that never ran
    anywhere (a start sent to an instance lost before anyone saw the program there): sequenced, not
    wait_exit, STOPPED and never stopped on every instance that knows them."""
    if application.statename == "STOPPED":
        return []
    return [process.process_name for process in application.processes
            if process.rules.start_sequence > 0 and not process.rules.wait_exit and not process.running_on
            and _never_ran(process)]


def _never_ran(process: ProcessStatus) -> bool:
    return all(info.state is ProcessState.STOPPED and info.stop == 0 for _, info in process.infos)
