"""How fresh what each instance said is: the controller decides only on answers newer than the change.

The controller's view is paced (:mod:`.pacing`): most cycles an instance's answer is its last full one,
reused, possibly seconds old. That is fine to watch, not to decide on. So the two decisions that act on
a change (issue 16):

* conciliation: a program RUNNING on two instances is stopped on one only when the answers of both were
  real answers of this very cycle; else both are asked again, in full, and the decision waits one cycle
  (an operator's move, stop on A then start on B, seen with A's answer reused, is no conflict);
* recovery: the programs of a lost instance are concluded only from answers of the other instances
  newer than the instance's first missed poll (every answering instance is asked in full the cycle
  after a first miss, so that by the time the instance is lost, ``--lost-after`` polls later, the
  evidence is fresh: no delay).

The controller asks (:attr:`Evidence.wanted`), the pacing honours it the next cycle and the snapshot
says which answers were real (``Snapshot.fresh``). Nothing is asked while nothing happens: the idle
cost of watching does not change.

Also here, the times the recovery compares stop times with (epoch, the controller's clock for
snapshots): the last *real* answer of an instance (a reused one says nothing new) and its first missed
poll (when its loss began, as far as this controller can tell).
"""

from __future__ import annotations

from typing import Collection

from supv_cli.model.snapshot import Snapshot


class Evidence:
    """Per instance: when it last gave a real answer, when its current streak of missed polls began."""

    def __init__(self) -> None:
        #: nick -> the controller time (``now`` of a cycle) of its last real answer
        self.fresh_at: dict[str, float] = {}
        #: nick -> ``Snapshot.taken_at`` (epoch) of its last real answer
        self.real_at: dict[str, float] = {}
        #: nick -> (controller time, epoch) of the first poll it missed in its current streak
        self.first_miss: dict[str, tuple[float, float]] = {}
        #: instances to ask in full next cycle (read by the pacing, cleared at each cycle)
        self.wanted: set[str] = set()

    def update(self, snapshot: Snapshot, now: float) -> None:
        self.wanted = set()
        fresh = snapshot.fresh
        began = False
        for snap in snapshot.instances:
            nick = snap.instance.nick
            if not snap.reachable:
                if nick not in self.first_miss:
                    began = True
                    self.first_miss[nick] = (now, snapshot.taken_at)
                continue
            self.first_miss.pop(nick, None)
            if fresh is None or nick in fresh:
                self.fresh_at[nick] = now
                self.real_at[nick] = snapshot.taken_at
        if began:  # an instance began missing polls: the others' fresh answers are ready if it is lost
            self.wanted.update(s.instance.nick for s in snapshot.instances if s.reachable)

    def fresh_since(self, nicks: Collection[str], since: float) -> bool:
        """Every one of ``nicks`` gave a real answer at controller time ``since`` or later; if not, all of
        them are asked again (in full, next cycle: their answers are then of the same cycle)."""
        if all(self.fresh_at.get(nick, float("-inf")) >= since for nick in nicks):
            return True
        self.wanted.update(nicks)
        return False

    def missed_since(self, nick: str) -> float:
        """Controller time of the first missed poll of ``nick`` in its current streak (-inf: none)."""
        return self.first_miss.get(nick, (float("-inf"), 0.0))[0]

    def loss_began(self, nick: str) -> float:
        """Epoch of the first poll ``nick`` missed in its current streak (0.0: none, or unknown)."""
        return self.first_miss.get(nick, (0.0, 0.0))[1]
