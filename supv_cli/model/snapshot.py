"""Snapshots: what every instance answered at one moment. Pure data, no network here.

A Snapshot is built by ``ClusterSession.snapshot`` (one ``system.multicall`` per instance, or the cheaper
polls of ``cluster/polling.py``) and consumed by the pure ``status`` and ``plan`` modules.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Iterator

from supv_cli.compat import StrEnum
from supv_cli.model.instances import Instance


class ProcessState(int, Enum):
    """Supervisor process states (supervisor.states.ProcessStates)."""

    STOPPED = 0
    STARTING = 10
    RUNNING = 20
    BACKOFF = 30
    STOPPING = 40
    EXITED = 100
    FATAL = 200
    UNKNOWN = 1000

    @classmethod
    def from_code(cls, code: int) -> ProcessState:
        try:
            return cls(code)
        except ValueError:
            return cls.UNKNOWN


class SupervisorState(StrEnum):
    """The state of a supervisord (``supervisor.getState``, supervisor.states.SupervisorStates), or
    UNREACHABLE when it did not answer. An answer may name another state (a newer supervisord): compare
    with these, never assume the list is whole."""

    RUNNING = "RUNNING"
    RESTARTING = "RESTARTING"
    SHUTDOWN = "SHUTDOWN"
    FATAL = "FATAL"
    UNREACHABLE = "UNREACHABLE"


class Faults(IntEnum):
    """Supervisor's XML-RPC fault codes (``supervisor.xmlrpc.Faults``), for callers that must react to
    one (an executor treats ALREADY_STARTED as success, for instance)."""

    UNKNOWN_METHOD = 1
    INCORRECT_PARAMETERS = 2
    BAD_ARGUMENTS = 3
    SIGNATURE_UNSUPPORTED = 4
    SHUTDOWN_STATE = 6
    BAD_NAME = 10
    BAD_SIGNAL = 11
    NO_FILE = 20
    NOT_EXECUTABLE = 21
    FAILED = 30
    ABNORMAL_TERMINATION = 40
    SPAWN_ERROR = 50
    ALREADY_STARTED = 60
    NOT_RUNNING = 70
    SUCCESS = 80
    ALREADY_ADDED = 90
    STILL_RUNNING = 91
    CANT_REREAD = 92


RUNNING_STATES = frozenset({ProcessState.RUNNING, ProcessState.BACKOFF, ProcessState.STARTING})
STOPPED_STATES = frozenset({ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL,
                            ProcessState.UNKNOWN})
#: where a process is counted as present (Supvisors' ``running_identifiers``): running or stopping
ACTIVE_STATES = RUNNING_STATES | {ProcessState.STOPPING}


class Unreachable(str, Enum):
    """Why an instance did not answer (shown to users)."""

    REFUSED = "connection refused"
    TIMEOUT = "timeout"
    AUTH = "authentication failed"
    PROTOCOL = "not a supervisord"
    FAULT = "fault"
    ERROR = "error"


#: a controller keeps one ProcessInfo per process of every instance (12000 at 300 x 40), and one
#: ProcessStatus and ProcessRules per process: no __dict__ (``@dataclass(frozen=True, **SLOTS)``)
SLOTS: dict[str, bool] = {"slots": True} if sys.version_info >= (3, 10) else {}
_SLOTS = SLOTS


class ProcessStateful:
    """``running`` and ``stopped`` of what has a process ``state`` (:class:`ProcessInfo`, one instance's
    report; ``status.ProcessStatus``, the process across the cluster)."""

    __slots__ = ()
    state: ProcessState

    @property
    def running(self) -> bool:
        """STARTING, RUNNING or BACKOFF (Supvisors' RUNNING_STATES)."""
        return self.state in RUNNING_STATES

    @property
    def stopped(self) -> bool:
        """STOPPED, EXITED, FATAL or UNKNOWN (STOPPING is neither running nor stopped)."""
        return self.state in STOPPED_STATES


@dataclass(frozen=True, **_SLOTS)
class ProcessInfo(ProcessStateful):
    """One process as one instance reports it (getAllProcessInfo merged with getAllConfigInfo)."""

    group: str
    name: str
    state: ProcessState
    start: float = 0.0
    stop: float = 0.0
    now: float = 0.0
    pid: int = 0
    exitstatus: int = 0
    spawnerr: str = ""
    description: str = ""
    # from getAllConfigInfo (defaults are Supervisor's)
    startsecs: int = 1
    stopwaitsecs: int = 10
    exitcodes: tuple[int, ...] = (0,)
    autostart: bool = True
    #: False when the snapshot was taken without getAllConfigInfo (``session.snapshot(with_config=False)``):
    #: the four fields above are then Supervisor's defaults, not the program's
    config_known: bool = True

    @property
    def namespec(self) -> str:
        return f"{self.group}:{self.name}"

    @property
    def expected_exit(self) -> bool:
        """EXITED with a code listed in the program's ``exitcodes`` (decisions.md).

        Without the configuration, the same answer comes from ``spawnerr``: Supervisor sets it to
        ``Bad exit code N`` exactly when N is not in ``exitcodes``, and clears it at every spawn.
        """
        if not self.config_known:
            return not self.spawnerr
        return self.exitstatus in self.exitcodes


@dataclass(frozen=True)
class InstanceSnapshot:
    """What one instance answered (or why it did not)."""

    instance: Instance
    #: supervisord state name (a :class:`SupervisorState`, or a name a newer supervisord added), or UNREACHABLE
    state: str
    reason: str = ""
    processes: tuple[ProcessInfo, ...] = ()
    #: seconds the round trip took
    elapsed: float = 0.0
    error_kind: Unreachable | None = None

    @property
    def reachable(self) -> bool:
        return self.error_kind is None

    @property
    def usable(self) -> bool:
        """Answering and RUNNING: processes may be started there."""
        return self.reachable and self.state == SupervisorState.RUNNING

    def process(self, namespec: str) -> ProcessInfo | None:
        for info in self.processes:
            if info.namespec == namespec:
                return info
        return None


@dataclass(frozen=True)
class Snapshot:
    """Every instance's answer, in instance order."""

    instances: tuple[InstanceSnapshot, ...]
    taken_at: float = 0.0
    #: the instances whose answer was asked for in full for this snapshot (a real answer, possibly the
    #: same object as before when nothing changed); None: every answer is one (a fresh snapshot). The
    #: others' answers are reused from an earlier poll (``cluster/polling.py``)
    fresh: frozenset[str] | None = None
    _index: dict[str, dict[str, ProcessInfo]] = field(default_factory=dict, compare=False, repr=False)


    def __iter__(self) -> Iterator[InstanceSnapshot]:
        return iter(self.instances)

    @property
    def reachable(self) -> list[InstanceSnapshot]:
        return [s for s in self.instances if s.reachable]

    @property
    def unreachable(self) -> list[InstanceSnapshot]:
        return [s for s in self.instances if not s.reachable]

    def info(self, instance: Instance, namespec: str) -> ProcessInfo | None:
        """The process as ``instance`` reports it, or None when it does not know it."""
        if not self._index and self.instances:  # built on first use: a controller's cycle often needs none
            for snap in self.instances:
                self._index[snap.instance.nick] = {info.namespec: info for info in snap.processes}
        return self._index.get(instance.nick, {}).get(namespec)

    def namespecs(self) -> list[str]:
        """Every process known anywhere, applications in discovery order then Supervisor order."""
        seen: dict[str, None] = {}
        for snap in self.instances:
            for info in snap.processes:
                seen.setdefault(info.namespec, None)
        return list(seen)
