"""The simulated cluster of test_controller_safety.py, seen by each controller the way it sees a real one:
through :func:`~supv_cli.controller.pacing.paced_snapshots` (full answers every 2 s on the acting
controller, every 5 s on a standby, reused answers in between), over a poller of the script
(:class:`SimPoller`), not a fresh snapshot every tick. Times are the simulation's (epoch = sim time):
starts and stops are stamped in whole seconds (as supervisord does), snapshots are taken at the sim time.

The instances' full polls are out of phase (as real timing drifts them apart), so an operator's move
(stop on A, start on B) can be seen with B's answer fresh and A's reused: the race of issue 16.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Collection

from supv_cli.controller.core import ControllerOptions
from supv_cli.controller.pacing import paced_snapshots
from supv_cli.model.snapshot import InstanceSnapshot, Snapshot, Unreachable

from .plan_helpers import S, Script
from .test_controller_safety import OPTIONS, Cluster

#: the phase of each instance's full polls, seconds (added to the age of its first full answer)
PHASES = {"s1": 0.0, "s2": 0.75, "s3": 1.25, "c1": 0.5, "c2": 1.5}


class StampedScript(Script):
    """A script that stamps start and stop times (and supervisord's ``now``) with the sim time, in whole
    seconds as supervisord does."""

    def send(self, requests: Any, now: float) -> list[Any]:
        self.clock = now
        return super().send(requests, now)

    def at(self, now: float) -> Snapshot:
        self.clock = now
        return super().at(now)

    def _set(self, nick: str, namespec: str, state: S, exitstatus: int) -> None:
        snaps = []
        for snap in self.snap.instances:
            if snap.instance.nick == nick:
                infos = []
                for p in snap.processes:
                    if p.namespec == namespec:
                        second = float(int(self.clock))     # supervisord's times are whole seconds
                        stamp: dict[str, float] = {"now": second}
                        if state is S.STARTING:
                            stamp["start"] = second
                        elif state in (S.STOPPED, S.EXITED, S.FATAL):
                            stamp["stop"] = second
                        p = replace(p, state=state, exitstatus=exitstatus, **stamp)
                    infos.append(p)
                snap = replace(snap, processes=tuple(infos))
            snaps.append(snap)
        self.snap = Snapshot(tuple(snaps))


class SimPoller:
    """What :class:`~supv_cli.cluster.polling.Poller` does, over the script's truth: a full poll takes the
    truth (the previous object when nothing changed), a probe or a watched instance keeps its last answer,
    and an instance that is down (its connection closed) is asked at once and misses the poll."""

    def __init__(self, cluster: PacedCluster, local: str | None) -> None:
        self.cluster = cluster
        self.local = local
        self.last: dict[str, InstanceSnapshot] = {}
        self.answered_at: dict[str, float] = {}
        self.asked_at: dict[str, float] = {}
        self.full_polls = 0

    def due(self, period: float, full: bool = True) -> set[str]:
        now = self.cluster.now
        ages = self.answered_at if full else self.asked_at
        return {nick for nick in PHASES if now - ages.get(nick, float("-inf")) >= period}

    def poll(self, full: Collection[str] | None = None, probe: Collection[str] = (),
             skip: Collection[str] = ()) -> Snapshot:
        c = self.cluster
        truth = c.truth
        snaps, fresh = [], set()
        cut = c.hidden.get(self.local, set())
        for snap in truth.instances:
            nick = snap.instance.nick
            last = self.last.get(nick)
            down = not snap.reachable or (nick in cut and nick != self.local)
            if nick in skip and last is not None:
                snaps.append(last)
                continue
            settled = last is not None and last.usable
            if full is None or nick in full or not settled:
                kind = "full"
            elif nick in probe or down:
                kind = "probe"
            else:
                snaps.append(last)         # watched: its connection is open, its last answer stands
                continue
            if down:
                answer = InstanceSnapshot(snap.instance, "UNREACHABLE", "refused", error_kind=Unreachable.REFUSED)
            elif kind == "full":
                self.full_polls += 1
                answer = last if last is not None and last.reachable and last.processes == snap.processes else snap
                # the first full answer counts as PHASES[nick] older: the instances' polls stay out of phase
                self.answered_at[nick] = c.now - (PHASES[nick] if nick not in self.answered_at else 0.0)
                fresh.add(nick)
            else:
                answer = last                  # a probe: alive, its processes those of its last full answer
            if answer.reachable:
                self.asked_at[nick] = c.now
            self.last[nick] = answer
            snaps.append(answer)
        return Snapshot(tuple(snaps), taken_at=c.now, fresh=frozenset(fresh))


class PacedCluster(Cluster):
    """:class:`Cluster` whose controllers see the cluster through the pacing (see the module doc)."""

    def __init__(self, tmp_path: Path, snap: Snapshot, locals_: tuple[str | None, ...] = ("s1", "s2"),
                 options: ControllerOptions = OPTIONS, start: float = 10.0, read_states: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(tmp_path, snap, locals_, options, **kwargs)
        self.script = StampedScript(self.rules, snap)
        self.now = start
        self.truth = self.script.at(start)
        self.pollers = {local: SimPoller(self, local) for local in locals_}
        self.views = {local: paced_snapshots(self.controllers[local], self.pollers[local]) for local in locals_}
        #: a standby reads the acting controller's state line when it asks to (with_leader_state); False:
        #: never (the acting one died before its line could be read)
        self.read_states = read_states
        self.reads = 0

    def begin_tick(self) -> None:
        self.truth = self.script.at(self.now)

    def cycle_of(self, local: str | None, controller: Any) -> list[Any]:
        """Its paced view, and the acting controller's state line when it asks for it."""
        snap = self.views[local]()
        leader = controller.leader_to_read()
        if self.read_states and leader is not None and leader in self.controllers \
                and leader not in self.script.down:
            self.reads += 1
            controller.take_leader_state(self.controllers[leader].state())
        return controller.cycle(snap, self.now)

    # ------------------------------------------------------------------ an operator
    def move(self, namespec: str, source: str, target: str, startsecs: float = 1.0) -> None:
        """``supv restart NAMESPEC --strategy ...``: stopped on ``source``, then started on ``target``."""
        self.script.clock = self.now
        self.script._set(source, namespec, S.STOPPED, 0)
        self.script._set(target, namespec, S.STARTING, 0)
        self.script.timeline.append((self.now + startsecs, target, namespec, (S.RUNNING, 0)))

    def stops(self) -> list[tuple[str, str]]:
        """The stops the controllers sent."""
        return [(ns, nick) for _, method, ns, nick in self.script.log if method == "stopProcess"]
