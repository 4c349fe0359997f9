"""The status core: what the cluster looks like, as Supvisors would show it. Pure: no network, no click.

From one :class:`~supv_cli.cluster.snapshot.Snapshot` (what every instance answered) and the rules,
:func:`evaluate` computes, deterministically:

* the synthetic state of every process across instances (behaviour spec §2.1, decisions.md):
  the instances where a process is STARTING / RUNNING / BACKOFF / STOPPING are its *active*
  instances (Supvisors' ``running_identifiers``); two or more is a conflict, whose state is the first
  of RUNNING, BACKOFF, STARTING, STOPPING present there; exactly one gives that instance's state; none
  gives the info with the greatest ``stop`` time (ties: the instance listed first). ``expected_exit``
  of an EXITED process is ``exitstatus in exitcodes`` (or, in a snapshot taken without the
  configuration, the absence of Supervisor's ``Bad exit code N`` spawn error: the same answer); of
  another stopped state, "no spawn error".
* the state of every application (§2.3): STOPPING > STARTING (BACKOFF counts) > RUNNING > STOPPED,
  over all its processes, managed or not;
* major / minor failures (§2.4), or the ``operational_status`` formula when the rules give one (§2.5),
  evaluated by a small AST walker (never ``eval``); a formula that cannot be evaluated gives a major
  failure and a note saying why;
* the operational status string (§2.6): only for RUNNING applications;
* instance and node loads (§3.2): the ``expected_loading`` of every process whose synthetic state is
  STARTING / RUNNING / BACKOFF, counted on each of its active instances, summed per instance and then
  per node.

Unmanaged applications (no rules element, or no rules at all) get a state from their processes and
never a failure. ``lost`` instances (declared by the caller, e.g. the controller) are treated as
Supvisors treats an instance it lost: what ran there and runs nowhere else is FATAL with the reason
``Supervisor <nick> lost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any, Iterable, Sequence

from supv_cli.cluster.instances import Instance
from supv_cli.cluster.snapshot import (
    RUNNING_STATES,
    STOPPED_STATES,
    InstanceSnapshot,
    ProcessInfo,
    ProcessState,
    Snapshot,
)
from supv_cli.rules.model import ApplicationRules, ProcessRules
from supv_cli.status_formula import FormulaError, evaluate_formula

__all__ = [
    "ApplicationState",
    "ApplicationStatus",
    "ClusterStatus",
    "FormulaError",
    "ProcessStatus",
    "application_state",
    "evaluate",
    "evaluate_formula",
    "failures",
    "operational_status",
    "instance_counts",
    "process_counts",
    "synthesize",
]

OPERATIONAL = "Operational"
DEGRADED = "Degraded"
NOT_OPERATIONAL = "Not Operational"

#: the order in which a conflict picks its synthetic state (Supvisors' ``running_state``)
_CONFLICT_ORDER = (ProcessState.RUNNING, ProcessState.BACKOFF, ProcessState.STARTING, ProcessState.STOPPING)
_ACTIVE_STATES = RUNNING_STATES | {ProcessState.STOPPING}


class ApplicationState(IntEnum):
    """Supvisors' ``ApplicationStates`` (DELETED is never shown: it is transient in Supvisors)."""

    STOPPED = 0
    STARTING = 1
    RUNNING = 2
    STOPPING = 3


# --------------------------------------------------------------------------------------------- processes

@dataclass(frozen=True)
class ProcessStatus:
    """One process (``group:name``) across every instance that knows it.

    ``state`` is the synthetic state shown to users; ``running_on`` the instances where the process is
    STARTING / RUNNING / BACKOFF and ``stopping_on`` those where it is STOPPING (both in instance
    order); ``infos`` what every instance knowing it reported; ``reason`` the spawn error or the
    description of the info the state comes from; ``conflict`` is True when it is active on several
    instances (only a problem for managed applications, see :meth:`ClusterStatus.conflicts`).
    """

    application_name: str
    process_name: str
    state: ProcessState
    expected_exit: bool
    running_on: tuple[Instance, ...]
    infos: tuple[tuple[Instance, ProcessInfo], ...]
    rules: ProcessRules
    reason: str = ""
    conflict: bool = False
    stopping_on: tuple[Instance, ...] = ()

    @property
    def namespec(self) -> str:
        return f"{self.application_name}:{self.process_name}"

    @property
    def statename(self) -> str:
        return self.state.name

    @property
    def running(self) -> bool:
        """STARTING, RUNNING or BACKOFF (Supvisors' RUNNING_STATES)."""
        return self.state in RUNNING_STATES

    @property
    def stopped(self) -> bool:
        """STOPPED, EXITED, FATAL or UNKNOWN (STOPPING is neither running nor stopped)."""
        return self.state in STOPPED_STATES

    @property
    def crashed(self) -> bool:
        """FATAL, UNKNOWN, or EXITED with an exit code outside ``exitcodes``."""
        return is_crashed(self.state, self.expected_exit)

    @property
    def identifiers(self) -> tuple[Instance, ...]:
        """Supvisors' ``running_identifiers``: where it is STARTING/RUNNING/BACKOFF/STOPPING, in
        instance order (what ``sstatus`` shows in its Supervisor column)."""
        if not self.stopping_on:
            return self.running_on
        active = set(self.running_on) | set(self.stopping_on)
        return tuple(instance for instance, _ in self.infos if instance in active)

    def info_on(self, instance: Instance) -> ProcessInfo | None:
        """What ``instance`` reported for this process, or None when it does not know it."""
        for known, info in self.infos:
            if known == instance:
                return info
        return None

    def to_dict(self) -> dict[str, Any]:
        """The ``sstatus --json`` object: Supvisors' ``get_process_info`` keys (identifiers are the
        instances' nicks), plus the reason, the conflict flag and the state on every instance."""
        return {
            "application_name": self.application_name,
            "process_name": self.process_name,
            "statecode": int(self.state),
            "statename": self.statename,
            "expected_exit": self.expected_exit,
            "identifiers": [instance.nick for instance in self.identifiers],
            "reason": self.reason,
            "conflict": self.conflict,
            "instances": {instance.nick: info.state.name for instance, info in self.infos},
        }


def is_crashed(state: ProcessState, expected_exit: bool) -> bool:
    """Supvisors' failure states: FATAL, UNKNOWN, or EXITED not expected."""
    return state in (ProcessState.FATAL, ProcessState.UNKNOWN) or (
        state == ProcessState.EXITED and not expected_exit)


def _reason(info: ProcessInfo) -> str:
    return info.spawnerr or info.description


def _stopped_expected(info: ProcessInfo) -> bool:
    """``expected`` of a stopped info: the exit code for EXITED (decisions.md), else no spawn error
    (what Supvisors derives from a snapshot)."""
    if info.state == ProcessState.EXITED:
        return info.expected_exit
    return not info.spawnerr


def lost_info(info: ProcessInfo, nick: str) -> ProcessInfo:
    """What Supvisors makes of a process that was active on an instance it lost."""
    return replace(info, state=ProcessState.FATAL, spawnerr=f"Supervisor {nick} lost", description="", pid=0)


def synthesize(application_name: str, process_name: str, infos: Sequence[tuple[Instance, ProcessInfo]],
               rules: ProcessRules | None = None, lost: frozenset[str] = frozenset()) -> ProcessStatus:
    """The synthetic status of one process from what each instance reports (in instance order).

    ``lost`` holds nicks of instances declared lost: a process active there becomes FATAL there.
    """
    rules = rules if rules is not None else ProcessRules(application_name, process_name)
    effective: list[tuple[Instance, ProcessInfo]] = []
    lost_on: list[Instance] = []
    for instance, info in infos:
        if instance.nick in lost and info.state in _ACTIVE_STATES:
            info = lost_info(info, instance.nick)
            lost_on.append(instance)
        effective.append((instance, info))
    active = [(instance, info) for instance, info in effective if info.state in _ACTIVE_STATES]
    running_on = tuple(instance for instance, info in active if info.state in RUNNING_STATES)
    stopping_on = tuple(instance for instance, info in active if info.state == ProcessState.STOPPING)
    if len(active) > 1:
        present = {info.state for _, info in active}
        state = next((s for s in _CONFLICT_ORDER if s in present), ProcessState.UNKNOWN)
        chosen = next((info for _, info in active if info.state == state), active[0][1])
        return ProcessStatus(application_name, process_name, state, True, running_on, tuple(effective), rules,
                             _reason(chosen), True, stopping_on)
    if active:
        chosen = active[0][1]
        return ProcessStatus(application_name, process_name, chosen.state, True, running_on, tuple(effective),
                             rules, _reason(chosen), False, stopping_on)
    if lost_on:
        return ProcessStatus(application_name, process_name, ProcessState.FATAL, False, (), tuple(effective),
                             rules, f"Supervisor {lost_on[0].nick} lost")
    # nowhere active: the most recent stop wins (decisions.md), ties to the instance listed first
    best: ProcessInfo | None = None
    for _, info in effective:
        if best is None or info.stop > best.stop:
            best = info
    if best is None:  # known nowhere: nothing to say but UNKNOWN
        return ProcessStatus(application_name, process_name, ProcessState.UNKNOWN, False, (), (), rules,
                             "not known by any reachable instance")
    return ProcessStatus(application_name, process_name, best.state, _stopped_expected(best), (),
                         tuple(effective), rules, _reason(best))


# --------------------------------------------------------------------------------------------- applications

def application_state(states: Iterable[ProcessState]) -> ApplicationState:
    """Spec §2.3: STOPPING > STARTING (or BACKOFF) > RUNNING > STOPPED."""
    starting = running = False
    for state in states:
        if state == ProcessState.STOPPING:
            return ApplicationState.STOPPING
        if state in (ProcessState.STARTING, ProcessState.BACKOFF):
            starting = True
        elif state == ProcessState.RUNNING:
            running = True
    if starting:
        return ApplicationState.STARTING
    return ApplicationState.RUNNING if running else ApplicationState.STOPPED


def failures(state: ApplicationState, processes: Sequence[ProcessStatus], managed: bool,
             formula: str = "") -> tuple[bool, bool, tuple[str, ...]]:
    """``(major, minor, notes)`` of an application (spec §2.4 / §2.5).

    Every process of a managed application is in its start sequence (sequence 0 included); an
    unmanaged application has none and never fails.
    """
    if not managed:
        return False, False, ()
    if formula:
        notes: tuple[str, ...] = ()
        statuses = {p.process_name: p.running or (p.state == ProcessState.EXITED and p.expected_exit)
                    for p in processes}
        try:
            major = not evaluate_formula(formula, statuses)
        except FormulaError as error:
            major, notes = True, (f"operational_status {formula!r}: {error}",)
        minor = not major and any(p.crashed for p in processes)
        return major, minor, notes
    major = minor = possible_major = False
    for process in processes:
        if process.crashed:
            if process.rules.required:
                major = True
            else:
                minor = True
        elif process.state == ProcessState.STOPPED and process.rules.required:
            possible_major = True
    if state != ApplicationState.STOPPED:
        major |= possible_major
    return major, (minor and not major), ()


def operational_status(state: ApplicationState, major: bool, minor: bool) -> str:
    """Spec §2.6: only a RUNNING application has one."""
    if state != ApplicationState.RUNNING:
        return ""
    if major:
        return NOT_OPERATIONAL
    return DEGRADED if minor else OPERATIONAL


@dataclass(frozen=True)
class ApplicationStatus:
    """One application (a Supervisor group) across the cluster.

    ``notes`` say why a failure could not be computed normally (a formula error, for instance).
    """

    application_name: str
    managed: bool
    state: ApplicationState
    major_failure: bool
    minor_failure: bool
    operational_status: str
    processes: tuple[ProcessStatus, ...]
    rules: ApplicationRules
    notes: tuple[str, ...] = ()

    @property
    def statename(self) -> str:
        return self.state.name

    @property
    def healthy(self) -> bool:
        """What ``application-info --check`` wants of a managed application: RUNNING, no major failure."""
        return self.state == ApplicationState.RUNNING and not self.major_failure

    def to_dict(self) -> dict[str, Any]:
        """The ``application-info --json`` object (cli.md)."""
        return {
            "application_name": self.application_name,
            "managed": self.managed,
            "statecode": int(self.state),
            "statename": self.statename,
            "major_failure": self.major_failure,
            "minor_failure": self.minor_failure,
            "operational_status": self.operational_status,
        }


def application_status(rules: ApplicationRules, processes: Sequence[ProcessStatus]) -> ApplicationStatus:
    """State, failures and operational status of one application from its processes."""
    state = application_state(p.state for p in processes)
    major, minor, notes = failures(state, processes, rules.managed, rules.status_formula if rules.managed else "")
    return ApplicationStatus(rules.application_name, rules.managed, state, major, minor,
                             operational_status(state, major, minor), tuple(processes), rules, notes)


# --------------------------------------------------------------------------------------------- cluster

@dataclass(frozen=True)
class ClusterStatus:
    """Everything :func:`evaluate` computes from one snapshot.

    ``applications`` and ``processes`` are in discovery order (the first instance's Supervisor order,
    then what later instances add); loads are keyed by instance nick and by node.
    """

    applications: dict[str, ApplicationStatus]
    processes: dict[str, ProcessStatus]
    instance_loads: dict[str, int]
    node_loads: dict[str, int]
    unreachable: list[InstanceSnapshot]
    snapshot: Snapshot = field(repr=False, compare=False, default_factory=lambda: Snapshot(()))
    lost: frozenset[str] = frozenset()

    def application(self, name: str) -> ApplicationStatus | None:
        return self.applications.get(name)

    def process(self, namespec: str) -> ProcessStatus | None:
        return self.processes.get(namespec)

    def conflicts(self) -> list[ProcessStatus]:
        """Processes of managed applications active on several instances."""
        return [p for app in self.applications.values() if app.managed for p in app.processes if p.conflict]

    @property
    def notes(self) -> list[str]:
        """Every application note (formula errors...), in application order."""
        return [f"{app.application_name}: {note}" for app in self.applications.values() for note in app.notes]


def evaluate(rules: Any, snapshot: Snapshot, lost: frozenset[str] = frozenset()) -> ClusterStatus:
    """The status of the whole cluster from ``snapshot`` (``rules``: a Rules object, or None to make
    every application unmanaged). ``lost``: nicks of instances to treat as lost (see module doc).

    May raise :class:`~supv_cli.errors.RulesError` when the rules of an application cannot be resolved
    against the instance list (an application ``#`` naming no known instance).
    """
    per_process: dict[str, list[tuple[Instance, ProcessInfo]]] = {}
    names: dict[str, tuple[str, str]] = {}
    for snap in snapshot.instances:
        for info in snap.processes:
            key = info.namespec
            if key not in per_process:
                per_process[key] = []
                names[key] = (info.group, info.name)
            per_process[key].append((snap.instance, info))
    by_app: dict[str, list[ProcessStatus]] = {}
    processes: dict[str, ProcessStatus] = {}
    for key, infos in per_process.items():
        group, name = names[key]
        process_rules = rules.process_rules(group, name) if rules is not None else ProcessRules(group, name)
        status = synthesize(group, name, infos, process_rules, lost)
        processes[key] = status
        by_app.setdefault(group, []).append(status)
    applications: dict[str, ApplicationStatus] = {}
    for group, members in by_app.items():
        app_rules = rules.application_rules(group) if rules is not None else ApplicationRules(group)
        applications[group] = application_status(app_rules, members)
    instance_loads = {snap.instance.nick: 0 for snap in snapshot.instances}
    for status in processes.values():
        if status.running and status.rules.expected_loading:
            for instance in status.identifiers:
                instance_loads[instance.nick] = instance_loads.get(instance.nick, 0) + status.rules.expected_loading
    node_loads: dict[str, int] = {}
    for snap in snapshot.instances:
        node = snap.instance.node
        node_loads[node] = node_loads.get(node, 0) + instance_loads.get(snap.instance.nick, 0)
    return ClusterStatus(applications, processes, instance_loads, node_loads, list(snapshot.unreachable),
                         snapshot, frozenset(lost))


def process_counts(snap: InstanceSnapshot) -> dict[str, int]:
    """How many processes an instance reports in each Supervisor state (every state name present,
    zeros included, in Supervisor's code order)."""
    counts = {state.name: 0 for state in ProcessState}
    for info in snap.processes:
        counts[info.state.name] += 1
    return counts


def instance_counts(snap: InstanceSnapshot) -> dict[str, int]:
    """How many processes an instance reports ``running`` (STARTING, RUNNING, BACKOFF, STOPPING),
    ``stopped``, ``failed`` (FATAL, UNKNOWN, EXITED unexpected) and in all (``total``)."""
    running = failed = 0
    for info in snap.processes:
        if info.running or info.state == ProcessState.STOPPING:
            running += 1
        elif is_crashed(info.state, info.expected_exit):
            failed += 1
    total = len(snap.processes)
    return {"running": running, "stopped": total - running - failed, "failed": failed, "total": total}
