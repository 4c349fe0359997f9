"""Which instances answer, which are lost, what each answered last, and which controller leads.

Kept by every controller, acting or standing by, so that the one that takes over knows what ran on an
instance that stopped answering. Pure: it only looks at the snapshots it is given.
"""

from __future__ import annotations

from typing import Iterator

from supv_cli.cluster.instances import InstanceList
from supv_cli.cluster.snapshot import RUNNING_STATES, InstanceSnapshot, Snapshot


class Membership:
    """Liveness of the instances (``lost_after`` consecutive missed polls make an instance lost)."""

    def __init__(self, instances: InstanceList, lost_after: int) -> None:
        self.instances = instances
        self.lost_after = lost_after
        #: the last snapshot each instance answered
        self.seen: dict[str, InstanceSnapshot] = {}
        self.misses: dict[str, int] = {}
        self.lost: set[str] = set()

    def index(self, nick: str) -> int:
        """Position in the instance list (unknown nicks last)."""
        for position, instance in enumerate(self.instances):
            if instance.nick == nick:
                return position
        return len(self.instances)

    def update(self, snapshot: Snapshot) -> Iterator[tuple[str, str, str]]:
        """Take a new snapshot into account; yield ``(kind, nick, message)`` for each instance newly
        ``lost`` or ``back``."""
        for snap in snapshot.instances:
            nick = snap.instance.nick
            if snap.reachable:
                self.misses[nick] = 0
                if nick in self.lost:
                    self.lost.discard(nick)
                    yield "back", nick, "answers again"
                self.seen[nick] = snap
                continue
            self.misses[nick] = self.misses.get(nick, 0) + 1
            if self.misses[nick] >= self.lost_after and nick not in self.lost:
                self.lost.add(nick)
                yield "lost", nick, f"lost after {self.misses[nick]} missed polls ({snap.reason})"

    def everyone_seen(self, snapshot: Snapshot) -> bool:
        return all(s.instance.nick in self.seen for s in snapshot.instances)

    def augmented(self, snapshot: Snapshot) -> Snapshot:
        """The snapshot with lost instances replaced by what they answered last (status marks it lost)."""
        snaps = tuple(self.seen[s.instance.nick] if s.instance.nick in self.lost and s.instance.nick in self.seen
                      else s for s in snapshot.instances)
        return Snapshot(snaps, snapshot.taken_at)

    def leader(self, snapshot: Snapshot, program: str) -> str | None:
        """The first instance of the list that answers, is not lost, and runs the controller program."""
        for snap in snapshot.instances:
            if snap.reachable and snap.instance.nick not in self.lost and any(
                    program in (info.group, info.name) and info.state in RUNNING_STATES for info in snap.processes):
                return snap.instance.nick
        return None
