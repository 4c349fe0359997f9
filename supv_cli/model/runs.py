"""The vocabulary of runs (run-plan, stop-plan, the controller's jobs...): how a command ended."""

from __future__ import annotations

from enum import Enum


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
