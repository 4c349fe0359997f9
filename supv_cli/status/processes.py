"""Process synthesis: one process across every instance that knows it, as Supvisors shows it. Pure.

The instances where a process is STARTING / RUNNING / BACKOFF / STOPPING are its *active* instances
(Supvisors' ``running_identifiers``, behaviour spec §2.1, decisions.md): two or more is a conflict,
whose state is the first of RUNNING, BACKOFF, STARTING, STOPPING present there; exactly one gives that
instance's state; none gives the info with the greatest ``stop`` time (ties: the instance listed
first). ``expected_exit`` of an EXITED process is ``exitstatus in exitcodes`` (or, in a snapshot taken
without the configuration, the absence of Supervisor's ``Bad exit code N`` spawn error: the same
answer); of another stopped state, "no spawn error".

``lost`` instances (declared by the caller, e.g. the controller) are treated as Supvisors treats an
instance it lost: what ran there and runs nowhere else is FATAL with the reason
``Supervisor <nick> lost``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import (
    ACTIVE_STATES,
    RUNNING_STATES,
    SLOTS,
    ProcessInfo,
    ProcessState,
    ProcessStateful,
)
from supv_cli.rules.model import ProcessRules

__all__ = ["ProcessStatus", "is_crashed", "lost_info", "synthesize"]

#: the order in which a conflict picks its synthetic state (Supvisors' ``running_state``)
_CONFLICT_ORDER = (ProcessState.RUNNING, ProcessState.BACKOFF, ProcessState.STARTING, ProcessState.STOPPING)


@dataclass(frozen=True, **SLOTS)
class ProcessStatus(ProcessStateful):
    """One process (``group:name``) across every instance that knows it.

    ``state`` is the synthetic state shown to users; ``running_on`` the instances where the process is
    STARTING / RUNNING / BACKOFF and ``stopping_on`` those where it is STOPPING (both in instance
    order); ``infos`` what every instance knowing it reported; ``reason`` the spawn error or the
    description of the info the state comes from; ``conflict`` is True when it is active on several
    instances (:func:`~supv_cli.status.evaluate` clears it for unmanaged applications: a program
    started by hand on several instances is no conflict, as ``supv conflicts`` says).
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

    def to_dict(self) -> dict[str, object]:
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
        if instance.nick in lost and info.state in ACTIVE_STATES:
            info = lost_info(info, instance.nick)
            lost_on.append(instance)
        effective.append((instance, info))
    active = [(instance, info) for instance, info in effective if info.state in ACTIVE_STATES]
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
