"""The controller of ``supv run-plan --watch``: automatic start and failover, level-triggered.

Each cycle it looks at a fresh snapshot and decides, deterministically, from the rules, what the
instances answer now and what each answered last (behaviour spec §3.9, decisions.md, docs/failover.md):

* liveness (:mod:`.membership`): an instance that misses ``lost_after`` consecutive polls is lost; a
  missed poll alone changes nothing (the instance keeps its last answer, its vote and its leadership);
* quorum: the controller acts only while it sees (answering, not lost) ``quorum`` instances, a strict
  majority of the list by default: the minority side of a partition starts and stops nothing;
* leadership: only the controller on the first instance (list order), not lost, whose last answer shows
  a controller program running, acts; the others keep watching and take over when it is *lost*; a
  controller started outside supervisord acts alone (and says so when it sees another one);
* recovery (:mod:`.recovery`; the starts in flight: :mod:`.inflight`): every program last seen active
  on a lost instance, running nowhere now and not stopped on purpose gets its running_failure_strategy,
  every cycle until it runs again or a log line says why not; crashes on live instances get theirs too;
* conciliation (:mod:`.conciliation`): a managed program active on several instances is kept on one;
* automatic start: managed applications with start_sequence > 0 never started, on complete evidence (an
  answer, or a declared loss, from every candidate instance), once every instance answered or the
  start-up grace period is over.

The controller is a pure state machine over snapshots (:meth:`Controller.cycle`); :func:`.loop.watch`
drives it. It holds its parts, each an object with its own state: :class:`~.membership.Membership`,
:class:`~.evidence.Evidence`, :class:`~.pacing.Evaluations`, :class:`~.inflight.InFlight`,
:class:`~.recovery.Recovery` and :class:`~.conciliation.Conciliator`; the last two ask it what its
:class:`~.jobs.Board` says (log an event, is an application busy, add a job), nothing else.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Mapping, Sequence, TypedDict

from supv_cli.controller.conciliation import Conciliator
from supv_cli.controller.events import RECENT
from supv_cli.controller.events import EventKind as K
from supv_cli.controller.evidence import Evidence
from supv_cli.controller.inflight import InFlight
from supv_cli.controller.jobs import Job, JobKind, missed_starts, never_started, step_plan
from supv_cli.controller.membership import Health, Membership
from supv_cli.controller.options import ControllerOptions
from supv_cli.controller.pacing import Evaluations
from supv_cli.controller.recovery import Budget, Recovery, guarded
from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.runs import JobStep
from supv_cli.model.snapshot import Snapshot
from supv_cli.plan.executor import Run
from supv_cli.plan.run_types import Event, Request

if TYPE_CHECKING:
    from supv_cli.rules import Rules
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus

#: seconds after an instance began missing polls during which a standby reads the acting controller's
#: state line (what it has in flight) at each cycle
READ_LEADER_FOR = 30.0
#: seconds before an application still never started (no resource, its instance was down...) is
#: started automatically again; a console that comes back with its HCI never started gets it then
AUTOSTART_RETRY = 30.0


def majority(instances: int) -> int:
    """The default quorum: a strict majority of the instance list."""
    return instances // 2 + 1


class StateLine(TypedDict):
    """What :meth:`Controller.state` says: the controller's state line (``run-plan --watch``'s stdout, read
    by ``supv instances``, ``supv controller status`` and a standby)."""

    acting: bool
    leader: str | None
    lost: list[str]
    missed: list[str]
    quorum: dict[str, int]
    jobs: list[dict[str, str | list[str]]]
    conciliate: str
    in_flight: list[list[str]]
    recent: list[str]


class ControllerState(StateLine, total=False):
    """The state line with what the CLI adds: the last known state of the instances that stopped answering."""

    last_known: Mapping[str, object]


class Controller:
    """Automatic start and failover; call :meth:`cycle` with each new snapshot."""

    def __init__(self, rules: Rules, instances: InstanceList, local: Instance | None,
                 options: ControllerOptions = ControllerOptions(), now: float | None = None,
                 only: frozenset[str] = frozenset()) -> None:
        self.rules = rules
        #: when given, the automatic start is limited to these applications
        self.only = only
        self.instances = instances
        self.local = local
        if local is not None and options.run.local is None:
            # the LOCAL starting strategy of the controller's starts means the instance it runs on
            options = replace(options, run=replace(options.run, local=local))
        self.options = options
        self.quorum = min(options.quorum or majority(len(instances)), len(instances))
        self.started = time.monotonic() if now is None else now
        self.events: list[Event] = []
        self.members = Membership(instances, options.lost_after)
        #: how fresh each instance's answer is; the instances a decision waits for (evidence.py)
        self.evidence = Evidence()
        self.acting = False
        self.leader: str | None = None
        #: False while this controller sees too few instances to act (the minority side of a partition)
        self.in_quorum = True
        #: what the last cycle saw (in_quorum also waits after a minority period), cycles in quorum
        self.quorum_seen = True
        self.quorum_streak = 0
        self.was_minority = False
        self.holding = False
        self.jobs: list[Job] = []
        #: application -> when this controller last started it automatically (retried after AUTOSTART_RETRY)
        self.autostarted: dict[str, float] = {}
        self.rivals: set[str] = set()
        #: rules identifiers -> the instances they resolve to (the instance list never changes)
        self.status: ClusterStatus | None = None
        #: evaluate() again only when an answer changed (pacing.py)
        self.evaluations = Evaluations(rules)
        #: the last decisions, for `supv instances` (read from the controller's stdout by the CLI)
        self.recent: deque[str] = deque(maxlen=10)
        #: the time of the last cycle
        self.now = self.started
        #: the status the guarded instances were last found in, and those (see :attr:`guarded`)
        self._guarded: tuple[ClusterStatus, frozenset[str]] | None = None
        #: the starts sent and not confirmed yet (inflight.py)
        self.starts = InFlight()
        #: programs of lost instances, crashes (recovery.py)
        self.recovery = Recovery(self, instances, self.members, self.evidence, self.starts,
                                 Budget(options.restart_budget, options.budget_window))
        #: programs running on several instances (conciliation.py)
        self.conciliation = Conciliator(self, self.evidence, options.conciliate, self.members.index)

    @property
    def sent(self) -> dict[tuple[str, str], float]:
        """The starts sent and not confirmed yet: (namespec, nick) -> when."""
        return self.starts.sent

    @property
    def guarded(self) -> frozenset[str] | None:
        """The instances the recovery may act on when lost (``recovery.guarded``: probed every second by
        the acting controller, the others every ``pacing.IDLE_PROBE_EVERY``), with the instances a start
        is in flight to; None (every instance) before the first evaluation."""
        if self.status is None:
            return None
        if self._guarded is None or self._guarded[0] is not self.status:
            self._guarded = (self.status, guarded(self.status))
        targets = {nick for _, nick in self.starts.sent}
        return self._guarded[1] | targets if targets else self._guarded[1]

    @property
    def successor(self) -> bool:
        """A standby that would take over first should the leader be lost (the next instance of the list
        running a controller): it watches the leader's instance closely (``pacing``), the others do not."""
        if self.acting or self.local is None or self.leader is None:
            return False
        return self.members.leader(self.options.controller_program, besides=self.leader) == self.local.nick

    def in_flight(self) -> list[list[str]]:
        """The starts sent and not confirmed yet, ``[namespec, nick]``: in the state line, for a standby."""
        return self.starts.listed()

    def take_leader_state(self, state: Mapping[str, object] | None) -> None:
        """The acting controller's last state line (read by a standby while something happens)."""
        self.starts.take_leader_state(state)

    # ------------------------------------------------------------------ events
    def event(self, kind: str, subject: str, message: str, process: str | None = None,
              instance: str | None = None) -> None:
        event = Event(kind, subject, message, process, instance)
        self.events.append(event)
        if kind in RECENT:
            self.recent.append(f"{time.strftime('%H:%M:%S')} {event.line()}")

    def drain_events(self) -> list[Event]:
        events = self.events
        self.events = []
        for job in self.jobs:
            if job.run is not None:
                events += job.run.drain_events()
        return events

    # ------------------------------------------------------------------ the cycle
    def cycle(self, snapshot: Snapshot, now: float) -> list[Request]:
        """One look at the cluster: update liveness, quorum and leadership, decide, step the runs."""
        previous = dict(self.members.seen)
        self.evidence.update(snapshot, now)
        self.now = now
        for kind, nick, message in self.members.update(snapshot):
            self.event(kind, nick, message, instance=nick)
            if kind is K.BACK:
                self.recovery.back(nick)
        status = self.evaluations(self.members.augmented(snapshot), self.members.lost)
        self.status = status
        self.recovery.witness_crashes(snapshot, previous, status)
        self.starts.forget(snapshot, now)
        self._leadership()
        if not self._quorum() or not self.acting:
            self.jobs = []
            return []
        # a majority missed this very poll: hold still this cycle (jobs kept). The controller cut off
        # from the others so stops before they declare it lost and take over; never two acting at once
        self.holding = sum(1 for s in snapshot.instances if s.reachable) < self.quorum
        if self.holding:
            return []
        self._rivals()
        self.recovery.handle_crashes(status, now)
        self.recovery.recover(snapshot, status, now)
        requests = self.conciliation(snapshot, status, now)
        if self.options.autostart:
            self._autostart(snapshot, status, now)
        requests += self._step_jobs(snapshot, status, now)
        self.starts.note(requests, now)
        return requests

    def leader_to_read(self) -> str | None:
        """The instance whose acting controller's state line a standby reads before its next cycle (to
        take over what it has in flight, should it die): only while an instance misses polls or began
        to less than READ_LEADER_FOR seconds ago; None otherwise (nothing is read while nothing happens)."""
        leader = self.leader
        if self.acting or self.local is None or leader is None or leader == self.local.nick \
                or self.members.health(leader) is not Health.ANSWERING:
            return None
        since = max((self.evidence.missed_since(nick) for nick in self.evidence.first_miss), default=float("-inf"))
        return leader if self.now - since < READ_LEADER_FOR else None

    def _quorum(self) -> bool:
        """Enough instances seen to act; said once when lost, once when back. Back from the minority
        side, a controller waits lost_after + 1 cycles before acting: the majority side's controller
        keeps acting until this one's instance answered lost_after polls, so they do not act at once."""
        seen = self.members.visible()
        ok = seen >= self.quorum
        self.quorum_streak = self.quorum_streak + 1 if ok else 0
        if ok != self.quorum_seen:
            if ok:
                self.event(K.QUORUM, "controller", f"sees {seen} of {len(self.instances)} instances again "
                            f"(quorum {self.quorum})")
            else:
                self.event(K.QUORUM, "controller", f"sees only {seen} of {len(self.instances)} instances "
                            f"(quorum {self.quorum}): minority side, starting and stopping nothing")
                self.was_minority = True
        self.quorum_seen = ok
        self.in_quorum = ok and (not self.was_minority or self.quorum_streak > self.options.lost_after)
        return self.in_quorum

    def _leadership(self) -> None:
        if self.local is None:
            leader = None
            acting = True
        else:
            leader = self.members.leader(self.options.controller_program)
            if leader is None:  # no controller seen running (e.g. our own is still STARTING): we act alone
                leader = self.local.nick
            acting = leader == self.local.nick
        if (leader, acting) != (self.leader, self.acting):
            what = "acting" if acting else f"standing by (leader: {leader})"
            self.event(K.LEADER, "controller", what + (f" on {self.local.nick}" if self.local else " (solo)"))
        self.leader, self.acting = leader, acting

    def _rivals(self) -> None:
        """A controller started by hand acts whatever the others do: say so once per other controller
        seen running (stop one of them, or start this one from supervisord)."""
        if self.local is not None:
            return
        program = self.options.controller_program
        for instance in self.instances:
            nick = instance.nick
            if nick not in self.rivals and nick not in self.members.lost \
                    and self.members.runs_controller(nick, program):
                self.rivals.add(nick)
                self.event(K.RIVAL, "controller", f"another controller ({program}) runs on {nick} and acts "
                            "too: two controllers act at once; stop one of them", instance=nick)

    def busy(self, application: str) -> bool:
        """A job still has work for this application: a step to come, or its part of the current run
        (a run of several applications, as the automatic start, frees each one as soon as it is done)."""
        for job in self.jobs:
            if application not in job.applications:
                continue
            if job.run is None or job.steps:
                return True
            if any(part.name == application and not part.finished for part in job.run.jobs):
                return True
        return False

    def add_job(self, job: Job, message: str, process: str | None = None) -> None:
        self.event(K.DECISION, ",".join(job.applications), message, process)
        self.jobs.append(job)

    # ------------------------------------------------------------------ automatic start
    def _autostart(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> None:
        everyone = self.members.everyone_seen(snapshot)
        if not everyone and now - self.started < self.options.startup_grace:
            return
        names, missed = [], {}
        for a in status.applications.values():
            name = a.application_name
            if not a.managed or a.rules.start_sequence <= 0 or (self.only and name not in self.only) \
                    or now - self.autostarted.get(name, -AUTOSTART_RETRY) < AUTOSTART_RETRY or self.busy(name):
                continue
            if never_started(a):
                if self._evidence(a):
                    names.append(name)
            elif (programs := missed_starts(a)) and self._evidence(a):
                missed[name] = programs
        if names:
            self.autostarted.update((name, now) for name in names)
            self.add_job(Job(JobKind.AUTOSTART, tuple(names), [(JobStep.START, None)]),
                          "automatic start: " + ", ".join(names))
        for name, programs in missed.items():
            self.autostarted[name] = now
            self.add_job(Job(JobKind.AUTOSTART, (name,), [(JobStep.START, {name: programs})]),
                          f"automatic start of programs never started: {', '.join(programs)}")

    def _evidence(self, application: ApplicationStatus) -> bool:
        """"Never started" holds only on complete evidence: every candidate instance of the application's
        programs answered (now or its last answer) or is declared lost; a missing answer is not STOPPED."""
        return all(self.members.known(instance.nick)
                   for process in application.processes for instance in self.candidates_of(process))

    def candidates_of(self, process: ProcessStatus) -> Sequence[Instance]:
        """The instances the rules of ``process`` allow (the instance list resolves each list once)."""
        return self.instances.resolve(process.rules.identifiers or ("*",))

    # ------------------------------------------------------------------ jobs
    def _step_jobs(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> list[Request]:
        requests: list[Request] = []
        for job in list(self.jobs):
            if job.run is None or job.run.finished:
                if job.run is not None:
                    self.events += job.run.drain_events()
                if not job.steps:
                    self.jobs.remove(job)
                    continue
                kind, single = job.steps.pop(0)
                if kind.run_kind is None:
                    requests += [Request(s.instance, kind.value, ()) for s in snapshot.instances if s.reachable]
                    continue
                plan = step_plan(self.rules, snapshot, status, (kind, single), job.applications,
                                 self.options.run.local)
                job.run = Run(self.rules, plan, self.options.run)
            others: dict[str, int] = {}
            for other in self.jobs:
                if other is not job and other.run is not None:
                    for nick, load in other.run.pending_loads().items():
                        others[nick] = others.get(nick, 0) + load
            requests += job.run.step(snapshot, status, now, others)
        return requests

    def on_result(self, request: Request, result: object, now: float) -> None:
        """Route an answer to the run that made the request (controller requests are only logged)."""
        if request.command is None:
            if result is not True:
                self.event(K.FAILED, request.args[0] if request.args else request.method,
                            f"{request.method} on {request.instance.nick}: {getattr(result, 'reason', result)}")
            return
        for job in self.jobs:
            if job.run is not None and request.command in job.run.commands():
                job.run.on_result(request, result, now)
                return

    def state(self) -> ControllerState:
        """What the controller knows, for people and for `supv instances` (``acting`` is False on the
        minority side and while a majority misses a poll; ``missed``: instances that missed the last
        poll, not lost; ``quorum``: instances seen and needed)."""
        return {"acting": self.acting and self.in_quorum and not self.holding, "leader": self.leader,
                "lost": sorted(self.members.lost, key=self.members.index),
                "missed": [i.nick for i in self.instances if self.members.health(i.nick) is Health.MISSED],
                "quorum": {"seen": self.members.visible(), "needed": self.quorum},
                "jobs": [{"purpose": j.purpose.value, "applications": list(j.applications)} for j in self.jobs],
                "conciliate": self.options.conciliate.value,
                "in_flight": self.in_flight(),
                "recent": list(self.recent)}
