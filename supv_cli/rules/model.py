"""The resolved rules: enums and immutable dataclasses, serialised as Supvisors' XML-RPC does."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from supv_cli.model.identifiers import WILDCARD
from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.snapshot import SLOTS


class Distribution(str, Enum):
    ALL_INSTANCES = "ALL_INSTANCES"
    SINGLE_INSTANCE = "SINGLE_INSTANCE"
    SINGLE_NODE = "SINGLE_NODE"


class StartingStrategy(str, Enum):
    CONFIG = "CONFIG"
    LESS_LOADED = "LESS_LOADED"
    MOST_LOADED = "MOST_LOADED"
    LOCAL = "LOCAL"
    LESS_LOADED_NODE = "LESS_LOADED_NODE"
    MOST_LOADED_NODE = "MOST_LOADED_NODE"


class StartingFailureStrategy(str, Enum):
    ABORT = "ABORT"
    CONTINUE = "CONTINUE"
    STOP = "STOP"


class RunningFailureStrategy(str, Enum):
    CONTINUE = "CONTINUE"
    RESTART_PROCESS = "RESTART_PROCESS"
    STOP_APPLICATION = "STOP_APPLICATION"
    RESTART_APPLICATION = "RESTART_APPLICATION"
    SHUTDOWN = "SHUTDOWN"
    RESTART = "RESTART"


@dataclass(frozen=True)
class ApplicationRules:
    """Rules of one application (a Supervisor group), as Supvisors resolves them.

    ``identifiers`` is what the rules file said (``('*',)``, names as written) or, after ``#``
    resolution, the nick of the one instance of this application, as Supvisors shows it; that instance
    itself is ``hash_instance`` (when the rules were resolved against an instance list): placement
    takes it from :meth:`candidates` and never resolves its nick again. ``source`` is the ``file:line``
    of the matching ``<application>`` element; ``notes`` explain adjustments (``#`` not resolvable, ...).
    """

    application_name: str
    managed: bool = False
    distribution: Distribution = Distribution.ALL_INSTANCES
    identifiers: tuple[str, ...] = (WILDCARD,)
    start_sequence: int = 0
    stop_sequence: int = 0
    starting_strategy: StartingStrategy = StartingStrategy.CONFIG
    starting_failure_strategy: StartingFailureStrategy = StartingFailureStrategy.ABORT
    running_failure_strategy: RunningFailureStrategy = RunningFailureStrategy.CONTINUE
    status_formula: str = ""
    at_identifiers: tuple[str, ...] = ()
    hash_identifiers: tuple[str, ...] = ()
    source: str | None = None
    notes: tuple[str, ...] = ()
    #: the instance the application-level ``#`` picked, resolved once with the rules (None otherwise)
    hash_instance: Instance | None = field(default=None, repr=False, compare=False)

    def candidates(self, instances: InstanceList) -> tuple[Instance, ...]:
        """The instances of ``instances`` this application's rules allow, in the rules order: the one its
        ``#`` picked, else its identifiers resolved by the list (each list once per instance list)."""
        if self.hash_instance is not None:
            return (self.hash_instance,) if instances.holds(self.hash_instance) else ()
        return instances.resolve(self.identifiers)

    def to_dict(self) -> dict[str, object]:
        """Keys and values of Supvisors' ``get_application_rules``."""
        payload: dict[str, object] = {"application_name": self.application_name, "managed": self.managed}
        if self.managed:
            payload.update(
                distribution=self.distribution.value,
                identifiers=list(self.identifiers),
                start_sequence=self.start_sequence,
                stop_sequence=self.stop_sequence,
                starting_strategy=self.starting_strategy.value,
                starting_failure_strategy=self.starting_failure_strategy.value,
                running_failure_strategy=self.running_failure_strategy.value,
                status_formula=self.status_formula,
            )
        return payload


@dataclass(frozen=True, **SLOTS)
class ProcessRules:
    """Rules of one process (``group:process``), as Supvisors resolves them.

    ``at_identifiers`` / ``hash_identifiers`` keep the program-level ``@`` / ``#`` lists (homogeneous
    groups); the planner resolves them, so ``identifiers`` is empty while one of them is set.
    ``matched_by`` is ``"name"``, ``"pattern"`` or None (no program element).
    """

    application_name: str
    process_name: str
    identifiers: tuple[str, ...] = (WILDCARD,)
    at_identifiers: tuple[str, ...] = ()
    hash_identifiers: tuple[str, ...] = ()
    start_sequence: int = 0
    stop_sequence: int = 0
    required: bool = False
    wait_exit: bool = False
    expected_loading: int = 0
    starting_failure_strategy: StartingFailureStrategy = StartingFailureStrategy.ABORT
    running_failure_strategy: RunningFailureStrategy = RunningFailureStrategy.CONTINUE
    matched_by: str | None = None
    source: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def namespec(self) -> str:
        return f"{self.application_name}:{self.process_name}"

    def to_dict(self) -> dict[str, object]:
        """Keys and values of Supvisors' ``get_process_rules``."""
        return {
            "application_name": self.application_name,
            "process_name": self.process_name,
            "identifiers": list(self.identifiers),
            "start_sequence": self.start_sequence,
            "stop_sequence": self.stop_sequence,
            "required": self.required,
            "wait_exit": self.wait_exit,
            "expected_loading": self.expected_loading,
            "starting_failure_strategy": self.starting_failure_strategy.value,
            "running_failure_strategy": self.running_failure_strategy.value,
        }
