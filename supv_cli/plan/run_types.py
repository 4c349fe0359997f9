"""The vocabulary of runs: options and deadlines, commands (one process on one instance), the
requests they send, the events they log, how they end, and the jobs (one application within a run)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from supv_cli.model.instances import Instance
from supv_cli.model.runs import CommandKind, Outcome, RunKind
from supv_cli.model.snapshot import ProcessState
from supv_cli.plan.stages import Placement

if TYPE_CHECKING:
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.status import ClusterStatus

#: default margin added to a program's startsecs before its start is failed (``--start-timeout``)
DEFAULT_START_TIMEOUT = 10.0
#: default time a wait_exit program has to exit (``--exit-timeout``)
DEFAULT_EXIT_TIMEOUT = 60.0
#: default margin added to stopwaitsecs before a stop is failed
DEFAULT_STOP_TIMEOUT = 5.0
#: consecutive unanswered polls after which an instance is lost for a command
DEFAULT_LOST_AFTER = 2


@dataclass(frozen=True)
class RunOptions:
    start_timeout: float = DEFAULT_START_TIMEOUT
    exit_timeout: float = DEFAULT_EXIT_TIMEOUT
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    lost_after: int = DEFAULT_LOST_AFTER
    local: Instance | None = None


@dataclass
class Command:
    """One process on one instance, within a stage."""

    placement: Placement
    kind: CommandKind
    created: float
    instance: Instance | None = None
    sent: float | None = None
    deadline: float | None = None
    outcome: Outcome | None = None
    detail: str = ""
    finished: float | None = None
    state: ProcessState | None = None  # last state seen
    missed: int = 0
    pending_load: bool = False

    @property
    def namespec(self) -> str:
        return self.placement.namespec

    @property
    def elapsed(self) -> float:
        end = self.finished if self.finished is not None else time.monotonic()
        return max(0.0, end - (self.sent if self.sent is not None else self.created))

    def to_dict(self) -> dict[str, object]:
        return {"application_name": self.placement.application_name,
                "process_name": self.placement.process_name, "namespec": self.placement.namespec,
                "sequence": self.placement.sequence,
                "action": self.kind, "instance": self.instance.nick if self.instance else None,
                "outcome": self.outcome.value if self.outcome else "IN_PROGRESS",
                "required": self.placement.required, "elapsed": round(self.elapsed, 3),
                "detail": self.detail or self.placement.reason}


@dataclass(frozen=True)
class Request:
    """An XML-RPC call the driver must make (for a command of a run, or for the controller itself)."""

    instance: Instance
    method: str
    args: tuple[Any, ...]  # Any: XML-RPC arguments, any value it marshals (names, flags, offsets)
    command: Command | None = None


@dataclass(frozen=True)
class Event:
    """Something worth one line in a log."""

    kind: str
    application: str
    message: str
    process: str | None = None
    instance: str | None = None

    def line(self) -> str:
        subject = f"{self.application}:{self.process}" if self.process else self.application
        where = f" on {self.instance}" if self.instance else ""
        return f"{self.kind:<10} {subject}{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"event": self.kind, "application_name": self.application, "process_name": self.process,
                "instance": self.instance, "message": self.message}


@dataclass
class ApplicationJob:
    """The program stages of one application within a run."""

    name: str
    kind: RunKind
    stages: list[tuple[int, list[str]]]   # (sequence, process names) still to open
    current: list[Command] = field(default_factory=list)
    done: list[Command] = field(default_factory=list)
    #: stages dropped by the ABORT / STOP strategy
    skipped: list[tuple[int, list[str]]] = field(default_factory=list)
    stop_requested: bool = False
    aborted: str = ""
    prepared: bool = False
    finished: bool = False


class Runner(Protocol):
    """What drives a run and reports it (:func:`supv_cli.plan.executor.drive`, the CLI's progress and
    report) asks of it: :class:`~supv_cli.plan.executor.Run`, or a chain of runs seen as one
    (:class:`~supv_cli.plan.operate.RunChain`, the stop then start of a restart)."""

    @property
    def kind(self) -> str: ...

    @property
    def finished(self) -> bool: ...

    @property
    def interrupted(self) -> bool: ...

    @property
    def jobs(self) -> Sequence[ApplicationJob]: ...

    def step(self, snapshot: Snapshot, status: ClusterStatus, now: float,
             other_pending: dict[str, int] | None = None) -> list[Request]: ...

    def on_result(self, request: Request, result: object, now: float) -> None: ...

    def drain_events(self) -> list[Event]: ...

    def next_wakeup(self, now: float, interval: float) -> float: ...

    def interrupt(self, now: float) -> None: ...

    def commands(self) -> list[Command]: ...

    def failed(self) -> bool: ...

    def report(self) -> list[dict[str, Any]]: ...  # Any: as Run.report, JSON rows read back by the views
