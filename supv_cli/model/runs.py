"""The vocabulary of runs (run-plan, stop-plan, the controller's jobs...): what a run and each of its
commands do, and how a command ended. Str enums: JSON and text show their values."""

from __future__ import annotations

from enum import Enum

from supv_cli.compat import StrEnum


class Outcome(str, Enum):
    """How a command ended."""

    RUNNING = "RUNNING"          # started
    EXITED = "EXITED"            # wait_exit program exited with an expected code
    STOPPED = "STOPPED"          # stopped
    ALREADY = "ALREADY"          # nothing to do (already running / exited / stopped before the run)
    FAILED = "FAILED"            # FATAL, unexpected exit, refused by supervisord...
    TIMEOUT = "TIMEOUT"          # no RUNNING / exit / stop before the deadline
    NO_RESOURCE = "NO_RESOURCE"  # no instance could take it
    LOST = "LOST"                # its instance stopped answering
    NOT_STARTED = "NOT_STARTED"  # its stage never came (ABORT / STOP strategy)
    INTERRUPTED = "INTERRUPTED"  # Ctrl-C while it was in progress

    @property
    def failed(self) -> bool:
        return self in (Outcome.FAILED, Outcome.TIMEOUT, Outcome.NO_RESOURCE, Outcome.LOST)


class RunKind(StrEnum):
    """What a run (and its Plan, and each application job in it) does: start or stop; RESTART is a stop
    then a start (two runs one after the other, and the plan that shows both)."""

    START = "start"
    STOP = "stop"
    RESTART = "restart"


class CommandKind(StrEnum):
    """What one command of a run does to one process: the run's kind, or WAIT for a process that started
    before the run and has not finished yet (a wait_exit program still running)."""

    START = "start"
    STOP = "stop"
    WAIT = "wait"


class JobStep(StrEnum):
    """A step of a controller job: a run that starts or stops its applications, or one call to every
    supervisord that answers (the running failure strategies SHUTDOWN and RESTART); the value of those is
    the XML-RPC method."""

    START = "start"
    STOP = "stop"
    SHUTDOWN = "supervisor.shutdown"
    RESTART = "supervisor.restart"

    @property
    def run_kind(self) -> RunKind | None:
        """The kind of the run this step makes; None for a call to every supervisord."""
        return RunKind(self.value) if self in (JobStep.START, JobStep.STOP) else None
