"""What a plan is: per application, stages of placements (a process, an action, an instance, why)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterator

from supv_cli.model.instances import Instance
from supv_cli.model.runs import RunKind
from supv_cli.rules.model import Distribution, StartingFailureStrategy, StartingStrategy


class Action(str, Enum):
    """What a plan does with one process (on one instance)."""

    START = "start"
    STOP = "stop"
    #: nothing to do: already running (or a wait_exit program that exited as expected, or stopped)
    DONE = "done"
    #: started before this run and not finished yet (a wait_exit program still running): wait for it
    WAIT = "wait"
    #: no instance can take it
    NO_RESOURCE = "no_resource"


@dataclass(frozen=True)
class Placement:
    """One process of a plan: what to do, where, and why."""

    application_name: str
    process_name: str
    sequence: int
    action: Action
    instance: Instance | None
    reason: str
    expected_loading: int = 0
    required: bool = False
    wait_exit: bool = False
    starting_failure_strategy: StartingFailureStrategy = StartingFailureStrategy.ABORT
    startsecs: int = 1
    stopwaitsecs: int = 10
    exitcodes: tuple[int, ...] = (0,)

    @property
    def namespec(self) -> str:
        return f"{self.application_name}:{self.process_name}"

    def to_dict(self) -> dict[str, Any]:
        return {"application_name": self.application_name, "process_name": self.process_name,
                "sequence": self.sequence, "action": self.action.value,
                "instance": self.instance.nick if self.instance else None,
                "url": self.instance.url if self.instance else None,
                "expected_loading": self.expected_loading, "required": self.required,
                "wait_exit": self.wait_exit, "reason": self.reason}


@dataclass(frozen=True)
class ApplicationPlan:
    """The program stages of one application."""

    application_name: str
    sequence: int
    distribution: Distribution
    strategy: StartingStrategy
    stages: tuple[tuple[int, tuple[Placement, ...]], ...]
    note: str = ""

    def placements(self) -> Iterator[Placement]:
        for _, stage in self.stages:
            yield from stage

    def program_stages(self) -> list[tuple[int, list[str]]]:
        """Each program stage as the names of its processes, once each (a stop has one placement per
        instance where the process runs)."""
        return [(sequence, list(dict.fromkeys(p.process_name for p in stage))) for sequence, stage in self.stages]

    def to_dict(self) -> dict[str, Any]:
        return {"application_name": self.application_name, "sequence": self.sequence,
                "distribution": self.distribution.value, "starting_strategy": self.strategy.value,
                "note": self.note,
                "stages": [{"sequence": seq, "processes": [p.to_dict() for p in stage]}
                           for seq, stage in self.stages]}


@dataclass(frozen=True)
class Plan:
    """Application stages, each a group of applications run in parallel: what ``--dry-run`` prints and
    what the run (``executor.Run``) executes, stage after stage."""

    kind: RunKind
    stages: tuple[tuple[int, tuple[ApplicationPlan, ...]], ...]
    #: ``--strategy``: the starting strategy used instead of each application's own (None: their own)
    strategy: StartingStrategy | None = None
    #: processes named one by one (``supv start|stop|restart``, the controller's process restarts): one
    #: stage, no starting failure strategy
    single: bool = False
    #: with ``single``: wait for wait_exit programs and start an expected EXITED one again (``supv
    #: start``); False treats them as any program (the controller's process restarts)
    wait_exit: bool = True

    def applications(self) -> Iterator[ApplicationPlan]:
        for _, stage in self.stages:
            yield from stage

    def placements(self) -> Iterator[Placement]:
        for application in self.applications():
            yield from application.placements()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind,
                "stages": [{"sequence": seq, "applications": [a.to_dict() for a in stage]}
                           for seq, stage in self.stages]}
