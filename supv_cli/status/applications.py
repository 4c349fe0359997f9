"""Application state, major / minor failures and operational status (behaviour spec §2.3-§2.6). Pure.

* the state of an application: STOPPING > STARTING (BACKOFF counts) > RUNNING > STOPPED, over all its
  processes, managed or not;
* major / minor failures (§2.4), or the ``operational_status`` formula when the rules give one (§2.5,
  :mod:`supv_cli.status.formula`); a formula that cannot be evaluated gives a major failure and a
  note saying why;
* the operational status string (§2.6): only for RUNNING applications.

Unmanaged applications (no rules element, or no rules at all) get a state from their processes and
never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable, Sequence

from supv_cli.model.snapshot import ProcessState
from supv_cli.rules.model import ApplicationRules
from supv_cli.status.formula import FormulaError, evaluate_formula
from supv_cli.status.processes import ProcessStatus

__all__ = ["DEGRADED", "NOT_OPERATIONAL", "OPERATIONAL", "ApplicationState", "ApplicationStatus",
           "application_state", "application_status", "failures", "operational_status"]

OPERATIONAL = "Operational"
DEGRADED = "Degraded"
NOT_OPERATIONAL = "Not Operational"


class ApplicationState(IntEnum):
    """Supvisors' ``ApplicationStates`` (DELETED is never shown: it is transient in Supvisors)."""

    STOPPED = 0
    STARTING = 1
    RUNNING = 2
    STOPPING = 3


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

    def to_dict(self) -> dict[str, object]:
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
