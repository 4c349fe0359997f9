"""What the controller does: jobs (runs one after the other for some applications), and the rule
that says an application was never started."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from supv_cli.cluster.snapshot import ProcessState

if TYPE_CHECKING:
    from supv_cli.plan.executor import Run
    from supv_cli.status import ApplicationStatus


@dataclass
class Job:
    """What the controller does for some applications: runs, one after the other."""

    purpose: str
    applications: tuple[str, ...]
    steps: list[tuple[str, dict[str, list[str]] | None]]   # (start|stop, single processes or None)
    run: Run | None = None


def never_started(application: ApplicationStatus) -> bool:
    """Supvisors' rule: every process STOPPED and never stopped (stop time 0) on every instance."""
    return all(info.state is ProcessState.STOPPED and info.stop == 0
               for process in application.processes for _, info in process.infos)
