"""The controller's options (``run-plan --watch``), apart from the controller itself: the command reads
them and hands them to the controller's lean process (``main.py``) without importing the controller's
core (issue 18: the command starts faster, and its process is replaced anyway)."""

from __future__ import annotations

from dataclasses import dataclass, field

from supv_cli.cluster import CONTROLLER_PROGRAM
from supv_cli.plan.conciliation import Conciliation
from supv_cli.plan.run_types import RunOptions

__all__ = ["ControllerOptions"]


@dataclass(frozen=True)
class ControllerOptions:
    interval: float = 0.5
    lost_after: int = 2
    conciliate: Conciliation = Conciliation.INFANTICIDE
    restart_budget: int = 3
    budget_window: float = 300.0
    startup_grace: float = 10.0
    autostart: bool = True
    #: the group or program name of the controller itself on the instances (leader election)
    controller_program: str = CONTROLLER_PROGRAM
    #: instances to see before acting (None: a strict majority of the list; 1: act alone)
    quorum: int | None = None
    run: RunOptions = field(default_factory=RunOptions)
