"""What changed between two consecutive snapshots: the events of ``supv events`` and ``supv top``. Pure.

Supervisor's XML-RPC interface has no event stream (its event listeners would have to be installed
inside supervisord), so changes are seen by comparing what the instances answer at each poll. A
:class:`ChangeDetector` is fed the snapshots one after the other and remembers, per instance, the last
process states that instance reported; it returns, in instance order:

* ``instance`` changes: an instance lost (``RUNNING -> UNREACHABLE``, with the reason) or back;
  an instance that answers but is not RUNNING (SHUTDOWN, RESTARTING) counts as UNREACHABLE;
* ``process`` changes on an instance that answered: a new state, or the same state with another pid (a
  restart complete between two polls); a process that appears (reread/update, or an instance back with
  a new configuration) comes from ``NONE``, one that disappears goes to ``NONE``. While an instance is
  unreachable its last answer is kept, so when it is back only what really changed there is reported;
* ``conflict`` changes: a process active on several instances (``NONE -> CONFLICT``) and back on one
  or none (``CONFLICT -> NONE``); the caller says which processes are in conflict (only managed ones,
  from the status core).

The first snapshot, and the first answer of an instance never seen before, only set the baseline: a
change is something seen to change. A state that lasts less than the poll interval may not be seen.
An instance answer that is the very object fed last time (what an economical poller gives when nothing
changed, ``cluster/polling.py``) is not compared again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, Snapshot, SupervisorState
from supv_cli.model.text import iso_time

if TYPE_CHECKING:
    from supv_cli.status import ClusterStatus

#: the state of a process that an instance does not know (added or removed since the last poll)
NONE = "NONE"
CONFLICT = "CONFLICT"


@dataclass(frozen=True)
class Change:
    """One change seen between two polls.

    ``instance`` is the nick (for a conflict: the first instance where the process is active),
    ``instances`` where a conflicting process is active, ``pid`` the process's pid after the change
    (None when it has none), ``reason`` a detail (spawn error, why an instance did not answer).
    """

    time: float
    kind: str
    instance: str | None
    from_state: str
    to_state: str
    application_name: str | None = None
    process_name: str | None = None
    pid: int | None = None
    reason: str = ""
    instances: tuple[str, ...] = ()

    @property
    def subject(self) -> str:
        """``APP:PROC``, or ``-`` for an instance change."""
        if self.application_name is None:
            return "-"
        return f"{self.application_name}:{self.process_name}"

    def line(self, when: str | None = None) -> str:
        """The plain line: ``TIME NICK APP:PROC FROM -> TO`` and the pid / reason when there are some.
        A conflict names every instance where the process is active, comma separated."""
        who = ",".join(self.instances) if self.kind == "conflict" and self.instances else (self.instance or "-")
        text = f"{when if when is not None else iso_time(self.time)} {who} {self.subject} " \
               f"{self.from_state} -> {self.to_state}"
        details = [f"pid {self.pid}"] if self.pid else []
        if self.reason:
            details.append(self.reason)
        return text + (f" ({'; '.join(details)})" if details else "")

    def to_dict(self) -> dict[str, object]:
        """The ``events --json`` object (cli.md), plus ``reason`` and ``instances``."""
        return {"time": iso_time(self.time), "kind": self.kind, "instance": self.instance,
                "application_name": self.application_name, "process_name": self.process_name,
                "from": self.from_state, "to": self.to_state, "pid": self.pid, "reason": self.reason,
                "instances": list(self.instances)}


class ChangeDetector:
    """Feed it consecutive snapshots; it returns what changed since the previous one (see module doc)."""

    def __init__(self) -> None:
        self._up: dict[str, bool] = {}
        #: nick -> namespec -> what that instance last reported (kept while the instance is away)
        self._processes: dict[str, dict[str, ProcessInfo]] = {}
        self._conflicts: dict[str, tuple[str, ...]] = {}
        #: nick -> the answer last compared (an economical poller gives the same object when unchanged)
        self._answers: dict[str, InstanceSnapshot] = {}
        self._fed = False

    def feed(self, snapshot: Snapshot, conflicts: Mapping[str, Sequence[str]] | None = None) -> list[Change]:
        """The changes from the previous snapshot to ``snapshot`` (none for the first one).

        ``conflicts``: namespec -> nicks where it is active, for the processes in conflict now (None:
        conflicts are not followed).
        """
        when = snapshot.taken_at
        changes: list[Change] = []
        for snap in snapshot.instances:
            changes += self._instance_changes(snap, when)
        if conflicts is not None:
            changes += self._conflict_changes(conflicts, when)
        self._fed = True
        return changes

    def _instance_changes(self, snap: InstanceSnapshot, when: float) -> list[Change]:
        nick = snap.instance.nick
        if self._answers.get(nick) is snap:  # the very same answer as last time: nothing changed there
            return []
        self._answers[nick] = snap
        up = snap.usable
        changes: list[Change] = []
        if self._fed and self._up.get(nick, False) != up:
            running, unreachable = SupervisorState.RUNNING, SupervisorState.UNREACHABLE
            before, after = (unreachable, running) if up else (running, unreachable)
            changes.append(Change(when, "instance", nick, before, after, reason="" if up else snap.reason))
        self._up[nick] = up
        if not up:
            return changes
        now = {info.namespec: info for info in snap.processes}
        before_map = self._processes.get(nick)
        self._processes[nick] = now
        if before_map is None:  # first answer of this instance: the baseline
            return changes
        for namespec, seen in now.items():
            old = before_map.get(namespec)
            if old is None:
                changes.append(self._process(when, nick, seen, NONE))
            elif old.state != seen.state or (old.pid and seen.pid and old.pid != seen.pid):
                changes.append(self._process(when, nick, seen, old.state.name))
        for namespec, old in before_map.items():
            if namespec not in now:
                changes.append(Change(when, "process", nick, old.state.name, NONE, old.group, old.name))
        return changes

    @staticmethod
    def _process(when: float, nick: str, seen: ProcessInfo, before: str) -> Change:
        return Change(when, "process", nick, before, seen.state.name, seen.group, seen.name, seen.pid or None,
                      seen.spawnerr)

    def _conflict_changes(self, conflicts: Mapping[str, Sequence[str]], when: float) -> list[Change]:
        changes: list[Change] = []
        current = {namespec: tuple(nicks) for namespec, nicks in conflicts.items()}
        if self._fed:
            for namespec, nicks in current.items():
                if namespec not in self._conflicts:
                    changes.append(_conflict(when, namespec, NONE, CONFLICT, nicks))
            for namespec, nicks in self._conflicts.items():
                if namespec not in current:
                    changes.append(_conflict(when, namespec, CONFLICT, NONE, nicks))
        self._conflicts = current
        return changes


def conflicts_in(status: ClusterStatus) -> dict[str, tuple[str, ...]]:
    """namespec -> nicks of the conflicts of an evaluated status (what :meth:`ChangeDetector.feed` and
    ``top``'s frame are given)."""
    return {p.namespec: tuple(i.nick for i in p.identifiers) for p in status.conflicts()}


def _conflict(when: float, namespec: str, before: str, after: str, nicks: tuple[str, ...]) -> Change:
    group, _, name = namespec.partition(":")
    return Change(when, "conflict", nicks[0] if nicks else None, before, after, group, name, instances=nicks)
