"""Which instances answer, which are lost, what each answered last, and which controller leads.

Kept by every controller, acting or standing by, so that the one that takes over knows what ran on an
instance that stopped answering. Pure: it only looks at the snapshots it is given, however often (a
standby may poll less often than the acting controller: nothing here counts on seeing every cycle).

The one rule for every decision that depends on an instance being gone: it must be *lost*, i.e. have
missed ``lost_after`` polls in a row. A single missed poll changes nothing: the instance keeps its last
answer (its programs still count as running there), its leadership and its vote in the quorum.
"""

from __future__ import annotations

from typing import Iterator

from supv_cli.cluster.polling import NOT_ASKED_YET
from supv_cli.compat import StrEnum
from supv_cli.controller.events import EventKind
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import RUNNING_STATES, InstanceSnapshot, Snapshot


class Health(StrEnum):
    """What a controller knows of one instance."""

    ANSWERING = "answering"   # answered the last poll
    MISSED = "missed"         # missed fewer than lost_after polls: its last answer still counts
    LOST = "lost"             # missed lost_after polls in a row
    UNSEEN = "unseen"         # never answered this controller, not lost yet


class Membership:
    """Liveness of the instances (``lost_after`` consecutive missed polls make an instance lost)."""

    def __init__(self, instances: InstanceList, lost_after: int) -> None:
        self.instances = instances
        self.lost_after = lost_after
        #: the last snapshot each instance answered
        self.seen: dict[str, InstanceSnapshot] = {}
        self._runs: dict[str, tuple[InstanceSnapshot, str, bool]] = {}
        self.misses: dict[str, int] = {}
        self.lost: set[str] = set()
        #: instances back from a loss -> answers in a row since; they lead again after lost_after of them
        self.recovering: dict[str, int] = {}
        #: lost instances -> polls since they were declared lost
        self.lost_for: dict[str, int] = {}
        self._order = {instance.nick: position for position, instance in enumerate(instances)}

    def index(self, nick: str) -> int:
        """Position in the instance list (unknown nicks last)."""
        return self._order.get(nick, len(self._order))

    def update(self, snapshot: Snapshot) -> Iterator[tuple[EventKind, str, str]]:
        """Take a new snapshot into account; yield ``(kind, nick, message)`` for each instance newly
        LOST or BACK."""
        for snap in snapshot.instances:
            nick = snap.instance.nick
            if snap.reachable:
                self.misses[nick] = 0
                if nick in self.recovering:
                    self.recovering[nick] += 1
                    if self.recovering[nick] >= self.lost_after:
                        del self.recovering[nick]
                if nick in self.lost:
                    self.lost.discard(nick)
                    self.lost_for.pop(nick, None)
                    self.recovering[nick] = 1
                    yield EventKind.BACK, nick, "answers again"
                self.seen[nick] = snap
                continue
            if snap.reason == NOT_ASKED_YET and nick not in self.seen:
                continue  # never asked (every worker busy with hung instances): not a missed poll
            self.misses[nick] = self.misses.get(nick, 0) + 1
            self.recovering.pop(nick, None)
            if nick in self.lost:
                self.lost_for[nick] = self.lost_for.get(nick, 0) + 1
            elif self.misses[nick] >= self.lost_after:
                self.lost.add(nick)
                self.lost_for[nick] = 0
                yield EventKind.LOST, nick, f"lost after {self.misses[nick]} missed polls ({snap.reason})"

    def health(self, nick: str) -> Health:
        if nick in self.lost:
            return Health.LOST
        if nick not in self.seen:
            return Health.UNSEEN
        return Health.MISSED if self.misses.get(nick, 0) else Health.ANSWERING

    def visible(self) -> int:
        """How many instances this controller sees: they answered, and are not lost (a missed poll
        keeps an instance visible, as it keeps it out of the lost ones)."""
        return sum(1 for instance in self.instances
                   if self.health(instance.nick) in (Health.ANSWERING, Health.MISSED))

    def known(self, nick: str) -> bool:
        """Complete evidence about ``nick``: an answer (now or its last one) or a declared loss."""
        return nick in self.seen or nick in self.lost

    def everyone_seen(self, snapshot: Snapshot) -> bool:
        return all(s.instance.nick in self.seen for s in snapshot.instances)

    def augmented(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with each instance that did not answer replaced by what it answered last: a
        missed poll is not an empty instance (status marks the lost ones lost)."""
        snaps = tuple(self.seen.get(s.instance.nick, s) if not s.reachable else s for s in snapshot.instances)
        return Snapshot(snaps, snapshot.taken_at)

    def runs_controller(self, nick: str, program: str) -> bool:
        """The last answer of ``nick`` shows the controller program active."""
        last = self.seen.get(nick)
        if last is None:
            return False
        # asked for every instance at every cycle: answered from the last look at the same answer object
        cached = self._runs.get(nick)
        if cached is not None and cached[0] is last and cached[1] == program:
            return cached[2]
        runs = any(program in (info.group, info.name) and info.state in RUNNING_STATES for info in last.processes)
        self._runs[nick] = (last, program, runs)
        return runs

    def leader(self, program: str, besides: str | None = None) -> str | None:
        """The first instance of the list, not lost, whose last answer shows the controller program
        active, and that has not just come back (it leads again after ``lost_after`` answers in a row):
        leadership moves only on a declared loss, never on one missed poll. An instance never seen and
        not lost yet may run the leader: it is presumed to until it answers or is lost. A leader just
        declared lost leads one poll more: the controller cut off there stops acting as soon as it misses
        a majority's answers, which then comes first. ``besides``: the one that would lead without that
        instance (the successor of the leader)."""
        for instance in self.instances:
            nick = instance.nick
            if nick == besides:
                continue
            if nick in self.lost and self.lost_for.get(nick, 0) < 1 and self.runs_controller(nick, program):
                return nick
            if nick in self.lost or nick in self.recovering:
                continue
            if nick not in self.seen or self.runs_controller(nick, program):
                return nick
        return None
