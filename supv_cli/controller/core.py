"""The controller of ``supv run-plan --watch``: automatic start and failover, level-triggered.

Each cycle it looks at a fresh snapshot and decides, deterministically, from the rules and what the
instances answer (behaviour spec §3.9, decisions.md):

* liveness: an instance that misses ``lost_after`` consecutive polls is lost; what it was running is
  known from the last snapshot it answered (every controller, acting or standing by, keeps it), or, for
  an instance this controller never saw, re-derived from the rules (the sequenced programs of running
  applications that may run there and now run nowhere);
* leadership: only the controller on the first live instance (instance-list order) that runs a
  controller program acts; the others watch and take over when it is lost; a controller started outside
  supervisord acts alone;
* instance lost: each process that ran there and runs nowhere else gets its running_failure_strategy,
  per application the strongest of STOP_APPLICATION > RESTART_APPLICATION > RESTART_PROCESS > CONTINUE,
  RESTART_PROCESS promoted to RESTART_APPLICATION when the application is now stopped; SHUTDOWN and
  RESTART do nothing on this path (as Supvisors);
* process crash on a live instance (FATAL or unexpected exit after running): STOP_APPLICATION and
  RESTART_APPLICATION act, RESTART_PROCESS and CONTINUE leave it to Supervisor's autorestart, SHUTDOWN and
  RESTART shut down / restart every supervisord;
* every restart has a budget (``restart_budget`` per ``budget_window`` seconds, per program or application);
* a managed program active on several instances is reported and kept on one (``conciliate``);
* automatic start: managed applications with start_sequence > 0 never started, once every instance
  answered or the start-up grace period is over.

The controller is a pure state machine over snapshots (``cycle``); ``watch`` drives it.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from supv_cli.cluster.instances import Instance, InstanceList
from supv_cli.cluster.snapshot import Snapshot
from supv_cli.controller.conciliation import RETRY as _CONCILIATION_RETRY
from supv_cli.controller.conciliation import Conciliation, victims
from supv_cli.controller.jobs import Job, JobKind, never_started
from supv_cli.controller.membership import Membership
from supv_cli.controller.pacing import Evaluations
from supv_cli.controller.recovery import FailureDecisions
from supv_cli.plan.commands import Event, Request, RunOptions
from supv_cli.plan.executor import Run
from supv_cli.rules.model import RunningFailureStrategy as RFS

if TYPE_CHECKING:
    from supv_cli.rules import Rules
    from supv_cli.status import ClusterStatus

#: seconds before an application still never started (no resource, its instance was down...) is
#: started automatically again; a console that comes back with its HCI never started gets it then
AUTOSTART_RETRY = 30.0


@dataclass(frozen=True)
class ControllerOptions:
    interval: float = 0.5
    lost_after: int = 2
    conciliate: Conciliation = Conciliation.INFANTICIDE
    restart_budget: int = 3
    budget_window: float = 300.0
    startup_grace: float = 10.0
    autostart: bool = True
    #: the group or program name of the controller itself on the instances (leader election)
    controller_program: str = "supv_controller"
    run: RunOptions = field(default_factory=RunOptions)


class Controller(FailureDecisions):
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
        self.started = time.monotonic() if now is None else now
        self.events: list[Event] = []
        self.members = Membership(instances, options.lost_after)
        self.acting = False
        self.leader: str | None = None
        self.jobs: list[Job] = []
        #: application -> when this controller last started it automatically (retried after AUTOSTART_RETRY)
        self.autostarted: dict[str, float] = {}
        self.restarts: dict[str, deque[float]] = {}
        self.conciliations: dict[tuple[str, str], float] = {}
        self.reported_conflicts: set[str] = set()
        self.status: ClusterStatus | None = None
        #: evaluate() again only when an answer changed (pacing.py)
        self.evaluations = Evaluations(rules)
        #: the last decisions, for `supv instances` (read from the controller's stdout by the CLI)
        self.recent: deque[str] = deque(maxlen=10)
        #: decisions waiting for a job of the same application to end: app -> (strategy, programs, where)
        self.deferred: dict[str, tuple[RFS, set[str], str | None]] = {}

    # ------------------------------------------------------------------ events
    def _event(self, kind: str, subject: str, message: str, process: str | None = None,
               instance: str | None = None) -> None:
        event = Event(kind, subject, message, process, instance)
        self.events.append(event)
        if kind in ("lost", "back", "decision", "budget", "conciliate", "derive"):
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
        """One look at the cluster: update liveness and leadership, decide, step the runs."""
        previous = dict(self.members.seen)
        newly_lost = set()
        for kind, nick, message in self.members.update(snapshot):
            self._event(kind, nick, message, instance=nick)
            if kind == "lost":
                newly_lost.add(nick)
        status = self.evaluations(self.members.augmented(snapshot), self.members.lost)
        self.status = status
        self._leadership(snapshot)
        if not self.acting:
            self.jobs = []
            return []
        for nick in sorted(newly_lost, key=self.members.index):
            self._instance_lost(nick, previous, status, now)
        self._crashes(snapshot, previous, status, now)
        requests = self._conciliate(snapshot, status, now)
        if self.options.autostart:
            self._autostart(snapshot, status, now)
        self._retry_deferred(status, now)
        return requests + self._step_jobs(snapshot, status, now)

    def _retry_deferred(self, status: ClusterStatus, now: float) -> None:
        """Decisions deferred while their application had a job: apply them now if still needed."""
        for name in list(self.deferred):
            application = status.applications.get(name)
            if self._busy(name) or application is None:
                continue
            strategy, programs, where = self.deferred.pop(name)
            restart = [p for p in application.processes if p.process_name in programs and not p.running_on]
            if strategy is RFS.RESTART_PROCESS and not restart:
                continue  # they run again: nothing left to do
            self._job_for(application, strategy, restart, now, where)

    def _leadership(self, snapshot: Snapshot) -> None:
        if self.local is None:
            leader = None
            acting = True
        else:
            leader = self.members.leader(snapshot, self.options.controller_program)
            if leader is None:  # no controller seen running (e.g. our own is still STARTING): we act alone
                leader = self.local.nick
            acting = leader == self.local.nick
        if (leader, acting) != (self.leader, self.acting):
            what = "acting" if acting else f"standing by (leader: {leader})"
            self._event("leader", "controller", what + (f" on {self.local.nick}" if self.local else " (solo)"))
        self.leader, self.acting = leader, acting

    def _busy(self, application: str) -> bool:
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

    def _add_job(self, job: Job, message: str) -> None:
        self._event("decision", ",".join(job.applications), message)
        self.jobs.append(job)

    # ------------------------------------------------------------------ conflicts
    def _conciliate(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> list[Request]:
        requests: list[Request] = []
        for process in status.conflicts():
            if self._busy(process.application_name):
                continue
            where = ", ".join(i.nick for i in process.running_on)
            if process.namespec not in self.reported_conflicts:
                self._event("conflict", process.application_name, f"running on {where}", process.process_name)
                self.reported_conflicts.add(process.namespec)
            rule = self.options.conciliate
            for victim in victims(process, rule, self.members.index):
                key = (process.namespec, victim.nick)
                if now - self.conciliations.get(key, -1e9) < _CONCILIATION_RETRY:
                    continue
                self.conciliations[key] = now
                self._event("conciliate", process.application_name, f"{rule}: stopping it on {victim.nick}",
                            process.process_name, victim.nick)
                requests.append(Request(victim, "supervisor.stopProcess", (process.namespec, False)))
        for namespec in list(self.reported_conflicts):
            current = status.processes.get(namespec)
            if current is None or not current.conflict:
                self.reported_conflicts.discard(namespec)
        return requests

    # ------------------------------------------------------------------ automatic start
    def _autostart(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> None:
        everyone = self.members.everyone_seen(snapshot)
        if not everyone and now - self.started < self.options.startup_grace:
            return
        names = [a.application_name for a in status.applications.values()
                 if a.managed and a.rules.start_sequence > 0
                 and now - self.autostarted.get(a.application_name, -AUTOSTART_RETRY) >= AUTOSTART_RETRY
                 and (not self.only or a.application_name in self.only)
                 and not self._busy(a.application_name) and never_started(a)]
        if names:
            self.autostarted.update((name, now) for name in names)
            self._add_job(Job(JobKind.AUTOSTART, tuple(names), [("start", None)]),
                          "automatic start: " + ", ".join(names))

    # ------------------------------------------------------------------ jobs
    def _step_jobs(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> list[Request]:
        requests: list[Request] = []
        for job in list(self.jobs):
            if job.run is None or job.run.finished:
                if job.run is not None:
                    self.events += job.run.drain_events()
                if not job.steps:
                    self.jobs.remove(job)
                    self._retry_failed_restarts(job, status)
                    continue
                kind, single = job.steps.pop(0)
                if kind.startswith("supervisor."):
                    requests += [Request(s.instance, kind, ()) for s in snapshot.instances if s.reachable]
                    continue
                selected = [status.applications[n] for n in job.applications if n in status.applications]
                job.run = Run(self.rules, kind, selected, self.options.run, single)
            others: dict[str, int] = {}
            for other in self.jobs:
                if other is not job and other.run is not None:
                    for nick, load in other.run.pending_loads().items():
                        others[nick] = others.get(nick, 0) + load
            requests += job.run.step(snapshot, status, now, others)
        return requests

    def _retry_failed_restarts(self, job: Job, status: ClusterStatus) -> None:
        """A RESTART_PROCESS that failed (its new instance died, no resource...) is tried again while its
        budget lasts: the failure is still there, the controller is level-triggered."""
        if job.purpose is not JobKind.RESTART_PROCESS or job.run is None:
            return
        for command in job.run.commands():
            process = status.processes.get(command.namespec)
            if command.outcome is not None and command.outcome.failed and process is not None \
                    and not process.running_on:
                name = command.placement.application_name
                _, programs, _ = self.deferred.get(name, (RFS.RESTART_PROCESS, set(), None))
                self.deferred[name] = (RFS.RESTART_PROCESS, programs | {command.placement.process_name}, "retry")

    def on_result(self, request: Request, result: Any, now: float) -> None:
        """Route an answer to the run that made the request (controller requests are only logged)."""
        if request.command is None:
            if result is not True:
                self._event("failed", request.args[0] if request.args else request.method,
                            f"{request.method} on {request.instance.nick}: {getattr(result, 'reason', result)}")
            return
        for job in self.jobs:
            if job.run is not None and request.command in job.run.commands():
                job.run.on_result(request, result, now)
                return

    def state(self) -> dict[str, Any]:
        """What the controller knows, for people and for `supv instances`."""
        return {"acting": self.acting, "leader": self.leader, "lost": sorted(self.members.lost, key=self.members.index),
                "jobs": [{"purpose": j.purpose.value, "applications": list(j.applications)} for j in self.jobs],
                "recent": list(self.recent)}
