"""How the controller handles failures (behaviour spec §3.9): programs of lost instances, crashes.

Level-triggered: every cycle the acting controller derives from the answers it has (the current ones and
the last answer of every instance, kept by every controller, acting or not) which programs are
*orphans*: last seen active on an instance that is now lost (or started there and never confirmed, or
maybe moved there since its last real answer: :mod:`.desired`), running nowhere now, and not stopped on
purpose since; concluded only from fresh answers of the other instances (:mod:`.evidence`). Each orphan
gets its running_failure_strategy, whether the loss happened before or after this controller started
acting, and whoever sent the starts that put it where it was last seen. An orphan is acted on once for
free (moving a program off a lost instance is not a failure of the program); while it stays an orphan
(its restart failed: no resource, its new instance died...) it is tried again, charged to the restart
budget. Nothing stays an orphan without a log line saying why.

Crashes on a live instance are edges (a process that was active and is now FATAL or exited
unexpectedly): every controller records the ones it sees, so that a standby that takes over before the
acting one handled a crash still handles it.

Held by :class:`~supv_cli.controller.core.Controller`, it reads the parts it is given (membership,
evidence, the starts in flight, the instance list, the budget) and asks the controller only what its
:class:`~supv_cli.controller.jobs.Board` says: to log, whether an application is busy, to add a job.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Hashable, Sequence

from supv_cli.controller.desired import maybe_moved
from supv_cli.controller.events import EventKind as K
from supv_cli.controller.jobs import Job, JobKind, Step
from supv_cli.model.runs import JobStep
from supv_cli.model.snapshot import RUNNING_STATES, InstanceSnapshot, ProcessState, Snapshot
from supv_cli.rules.model import RunningFailureStrategy as RFS
from supv_cli.status.applications import ApplicationState

if TYPE_CHECKING:
    from supv_cli.controller.evidence import Evidence
    from supv_cli.controller.inflight import InFlight
    from supv_cli.controller.jobs import Board
    from supv_cli.controller.membership import Membership
    from supv_cli.model.instances import InstanceList
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus

#: per application, the strongest strategy wins
PRIORITY = {RFS.STOP_APPLICATION: 3, RFS.RESTART_APPLICATION: 2, RFS.RESTART_PROCESS: 1, RFS.CONTINUE: 0}
#: seconds between two tries of the same orphan (its restart failed)
RETRY_PAUSE = 1.0


def guarded(status: ClusterStatus) -> frozenset[str]:
    """The instances whose loss, or a crash on which, the recovery may act on: where a program of a managed
    application with a running_failure_strategy other than CONTINUE is active (running, or stopping). The
    others (consoles running CONTINUE programs only, instances running nothing managed) may be watched
    more lazily (``pacing.IDLE_PROBE_EVERY``): whatever happens there, the recovery starts and stops nothing."""
    nicks: set[str] = set()
    for application in status.applications.values():
        if application.managed:
            for process in application.processes:
                if process.rules.running_failure_strategy is not RFS.CONTINUE:
                    nicks.update(instance.nick for instance in process.running_on + process.stopping_on)
    return frozenset(nicks)


#: identifies one loss of one program: (namespec, lost instance, start time there; 0 when derived)
LossKey = tuple[str, str, float]


@dataclass(frozen=True)
class Orphan:
    """A program last seen active on a lost instance, running nowhere now."""

    process: ProcessStatus
    nick: str
    key: LossKey
    #: why it is one: "seen" (the last answer of the lost instance), "sent" (a start sent there, never
    #: confirmed), "moved" (stopped elsewhere since the last real answer: it may have moved there),
    #: "derived" (the instance was never seen)
    why: str = "seen"


@dataclass(frozen=True)
class Budget:
    """``--restart-budget``: at most ``restarts`` restarts of a program (or an application) in ``window``
    seconds; a first move off a lost instance is free."""

    restarts: int = 3
    window: float = 300.0


class Recovery:
    """Failure handling of the controller: orphans of lost instances, crashes on live ones. Held by the
    controller, which it asks through its :class:`~supv_cli.controller.jobs.Board`."""

    def __init__(self, board: Board, instances: InstanceList, members: Membership, evidence: Evidence,
                 starts: InFlight, budget: Budget) -> None:
        self.board = board
        self.instances = instances
        self.members = members
        self.evidence = evidence
        #: the starts sent and not confirmed: a start sent to a lost instance makes an orphan there
        self.starts = starts
        self.budget = budget
        self.restarts: dict[str, deque[float]] = {}
        #: loss key -> when it was first acted on (a later try is a retry, charged to the budget)
        self.handled: dict[LossKey, float] = {}
        #: program or application -> when it was last tried
        self.tried: dict[str, float] = {}
        #: (what was said, about what): each reason for not acting is logged once
        self.said: set[tuple[str, Hashable]] = set()
        #: crashes seen and not handled yet: (namespec, nick, stop time) -> namespec
        self.crashes: dict[tuple[str, str, float], str] = {}

    def back(self, nick: str) -> None:
        """``nick`` answers again: a later loss of it is a new loss, moved for free again."""
        self.handled = {key: t for key, t in self.handled.items() if key[1] != nick}

    def _say_once(self, reason: str, about: Hashable, kind: str, subject: str, message: str,
                  process: str | None = None, instance: str | None = None) -> None:
        if (reason, about) not in self.said:
            self.said.add((reason, about))
            self.board.event(kind, subject, message, process, instance)

    # ------------------------------------------------------------------ budget
    def _budget(self, key: str, now: float, about: Hashable = None) -> bool:
        history = self.restarts.setdefault(key, deque())
        while history and now - history[0] > self.budget.window:
            history.popleft()
        if len(history) >= self.budget.restarts:
            self._say_once("budget", (key, about, history[0]), K.BUDGET, key,
                           f"restarted {len(history)} times in {self.budget.window:g}s: "
                           "not restarting again (fix it, then run supv run-plan)")
            return False
        history.append(now)
        return True

    # ------------------------------------------------------------------ orphans of lost instances
    def _orphans(self, status: ClusterStatus) -> dict[str, list[Orphan]]:
        """application -> its orphans, from the last answers of the lost instances (or, for a lost
        instance never seen, from the rules), the starts sent to them since, and the programs that may
        have moved onto them since their last real answer (:mod:`.desired`)."""
        found: dict[str, Orphan] = {}
        for (namespec, nick), when in self.starts.sent.items():
            process = status.processes.get(namespec)
            if nick in self.members.lost and process is not None and not process.running_on:
                found[namespec] = Orphan(process, nick, (namespec, nick, when), "sent")
        for nick in sorted(self.members.lost, key=self.members.index):
            last: InstanceSnapshot | None = self.members.seen.get(nick)
            if last is None:
                for namespec in self._derived(nick, status):
                    found.setdefault(namespec, Orphan(status.processes[namespec], nick, (namespec, nick, 0.0),
                                                      "derived"))
                continue
            for info in last.processes:
                process = status.processes.get(info.namespec)
                if info.state not in RUNNING_STATES or process is None or process.running_on:
                    continue
                known = found.get(info.namespec)
                if known is None or info.start > known.key[2]:   # the most recent start wins
                    found[info.namespec] = Orphan(process, nick, (info.namespec, nick, info.start))
            instance = self.instances.find(nick)
            moved = [] if instance is None else maybe_moved(status, nick, instance, self.board.candidates_of,
                                                            self._real_answer(nick), self.evidence.loss_began(nick))
            for process, stop, where in moved:
                if process.namespec not in found:
                    found[process.namespec] = Orphan(process, nick, (process.namespec, nick, -stop), "moved")
                    self._say_once("moved", (process.namespec, nick, stop), K.DECISION, process.application_name,
                                   f"stopped on {where} after the last answer of {nick} and before its loss: it "
                                   f"may have moved there, so it is recovered (even if it was stopped by hand)",
                                   process.process_name, nick)
        by_app: dict[str, list[Orphan]] = {}
        for orphan in found.values():
            if not self._stopped_on_purpose(orphan, status):
                by_app.setdefault(orphan.process.application_name, []).append(orphan)
        return by_app

    def _derived(self, nick: str, status: ClusterStatus) -> list[str]:
        """Programs that may have run on an instance never seen: sequenced programs of applications that
        still run (a stopped application may have been stopped on purpose) that now run nowhere and whose
        candidates include it. Said once per lost instance."""
        result = []
        instance = self.instances.find(nick)
        for application in status.applications.values():
            if not application.rules.managed or application.state is ApplicationState.STOPPED:
                continue
            for process in application.processes:
                if process.rules.start_sequence <= 0 or process.running_on or process.rules.wait_exit:
                    continue
                if instance in self.board.candidates_of(process):
                    result.append(process.namespec)
        if result:
            self._say_once("derive", (nick, tuple(result)), K.DERIVE, nick, "never seen by this controller: "
                           "from the rules, it may have run " + ", ".join(result), instance=nick)
        return result

    def _real_answer(self, nick: str) -> float:
        """Epoch of the last real answer of ``nick`` (not a reused one): the last full poll it answered,
        and at least the latest time its last answer gives (supervisord's ``now``, a start or a stop)."""
        last = self.members.seen.get(nick)
        answered = max((max(info.now, info.start, info.stop) for info in last.processes), default=0.0) \
            if last is not None else 0.0
        return max(answered, self.evidence.real_at.get(nick, 0.0))

    def _loss_began(self, nick: str) -> float:
        """Epoch of the first poll ``nick`` missed before its loss; at least its last real answer."""
        return max(self.evidence.loss_began(nick), self._real_answer(nick))

    def _stopped_on_purpose(self, orphan: Orphan, status: ClusterStatus) -> bool:
        """Stopped since the loss (after the first poll the lost instance missed): the program itself
        (moved, then stopped), or its whole application (nothing of it runs and a program of it was
        stopped): it is left alone, and that is said once."""
        if orphan.why in ("derived", "moved"):
            return False  # derived: no time to compare with; moved: stopped before the loss (desired.py)
        since = self._loss_began(orphan.nick)

        def stopped_after(process: ProcessStatus) -> bool:
            return not process.running_on and any(
                info.state is ProcessState.STOPPED and info.stop > since and instance.nick not in self.members.lost
                for instance, info in process.infos)

        process = orphan.process
        application = status.applications.get(process.application_name)
        whole = application is not None and not any(p.running_on for p in application.processes) \
            and any(stopped_after(p) for p in application.processes)
        if stopped_after(process) or whole:
            what = "its application was" if whole and not stopped_after(process) else "it was"
            self._say_once("purpose", orphan.key, K.DECISION, process.application_name,
                           f"{what} stopped after {orphan.nick} was lost: not restarted", process.process_name)
            return True
        return False

    def recover(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> None:
        """Apply the running failure strategies to every orphan (each cycle: level-triggered), once every
        answering instance gave a real answer since the first missed poll of every lost instance."""
        if not self.members.lost:
            return
        since = max(self.evidence.missed_since(nick) for nick in self.members.lost)
        answering = [s.instance.nick for s in snapshot.instances if s.reachable]
        if not self.evidence.fresh_since(answering, since):
            return  # asked again in full: decided next cycle
        for name, orphans in self._orphans(status).items():
            if self.board.busy(name):
                for orphan in orphans:
                    self._say_once("busy", orphan.key, K.DECISION, name, f"lost {orphan.nick}: deferred until "
                                   "the current job of the application ends", orphan.process.process_name)
                continue
            self._decide_lost(name, orphans, status, now)

    def _decide_lost(self, name: str, orphans: Sequence[Orphan], status: ClusterStatus, now: float) -> None:
        application = status.applications.get(name)
        where = ",".join(sorted({o.nick for o in orphans}, key=self.members.index))
        if application is None or not application.managed:
            self._say_once("unmanaged", tuple(o.key for o in orphans), K.DECISION, name,
                           f"unmanaged (lost {where}): nothing to do")
            return
        strongest, considered = RFS.CONTINUE, []
        for orphan in orphans:
            strategy = orphan.process.rules.running_failure_strategy
            if strategy in (RFS.SHUTDOWN, RFS.RESTART):
                self._say_once("shutdown", orphan.key, K.DECISION, name, f"{strategy.value} (lost {orphan.nick}): "
                               "not applied on an instance loss (as Supvisors)", orphan.process.process_name)
                continue
            if (strategy is RFS.RESTART_PROCESS and orphan.process.rules.start_sequence > 0
                    and application.state is ApplicationState.STOPPED):
                strategy = RFS.RESTART_APPLICATION  # nothing of the application runs any more
            considered.append((orphan, strategy))
            if PRIORITY[strategy] > PRIORITY[strongest]:
                strongest = strategy
        if not considered:
            return
        keys = tuple(o.key for o, _ in considered)
        cause = f" (lost {where})"
        if strongest is RFS.CONTINUE:
            self._say_once("continue", keys, K.DECISION, name, f"CONTINUE{cause}: nothing restarted")
            return
        if strongest is RFS.STOP_APPLICATION:
            if any(p.running_on for p in application.processes):
                self.board.add_job(Job(JobKind.STOP_APPLICATION, (name,), [(JobStep.STOP, None)]),
                                   f"STOP_APPLICATION{cause}")
            else:
                self._say_once("stopped", keys, K.DECISION, name, f"STOP_APPLICATION{cause}: nothing of it runs")
            return
        if strongest is RFS.RESTART_APPLICATION:
            note = self._try(name, keys, now)
            if note is not None:
                self._restart_application(application, cause + note)
            return
        names, notes = [], set()
        for orphan, strategy in considered:
            note = self._try(orphan.process.namespec, [orphan.key], now) \
                if strategy is RFS.RESTART_PROCESS else None
            if note is not None:
                names.append(orphan.process.process_name)
                notes.add(note)
        if names:
            self.board.add_job(Job(JobKind.RESTART_PROCESS, (name,), [(JobStep.START, {name: names})]),
                          f"RESTART_PROCESS{cause}{''.join(sorted(notes))}: {', '.join(names)}")

    def _try(self, subject: str, keys: Sequence[LossKey], now: float) -> str | None:
        """May ``subject`` (a program or an application) be restarted for these losses? The first try of
        a loss is free (``""``); a retry (``" (retry)"``) waits RETRY_PAUSE and is charged to the budget;
        None: not now."""
        fresh = [key for key in keys if key not in self.handled]
        if fresh:
            self.handled.update((key, now) for key in fresh)
            note = ""
        elif now - self.tried.get(subject, -1e9) < RETRY_PAUSE or not self._budget(subject, now, about=keys[0]):
            return None
        else:
            note = " (retry)"
        self.tried[subject] = now
        return note

    def _restart_application(self, application: ApplicationStatus, cause: str) -> None:
        name = application.application_name
        steps: list[Step] = [(JobStep.STOP, None)] if any(p.running_on for p in application.processes) else []
        steps.append((JobStep.START, None))
        self.board.add_job(Job(JobKind.RESTART_APPLICATION, (name,), steps), f"RESTART_APPLICATION{cause}")

    # ------------------------------------------------------------------ crashes on live instances
    def witness_crashes(self, snapshot: Snapshot, previous: dict[str, InstanceSnapshot],
                         status: ClusterStatus) -> None:
        """Record the processes that were active and are now FATAL / exited unexpectedly (every
        controller does, acting or not), and forget those that run again."""
        for snap in snapshot.instances:
            before = previous.get(snap.instance.nick)
            if not snap.reachable or before is None or before is snap:  # the same answer: nothing changed
                continue
            old = {info.namespec: info for info in before.processes}
            for info in snap.processes:
                was = old.get(info.namespec)
                if was is None or was.state not in RUNNING_STATES:
                    continue
                if info.state in (ProcessState.FATAL, ProcessState.UNKNOWN) or (
                        info.state is ProcessState.EXITED and not info.expected_exit):
                    self.crashes[(info.namespec, snap.instance.nick, info.stop)] = info.namespec
        for key in list(self.crashes):
            process = status.processes.get(key[0])
            if process is None or process.running_on:
                del self.crashes[key]

    def handle_crashes(self, status: ClusterStatus, now: float) -> None:
        by_app: dict[str, list[tuple[ProcessStatus, str]]] = {}
        for key in list(self.crashes):
            namespec, nick, _ = key
            process = status.processes[namespec]
            if self.board.busy(process.application_name):
                continue  # handled once the application's job ends, if still crashed
            del self.crashes[key]
            instance = self.instances.find(nick)
            info = process.info_on(instance) if instance is not None else None
            detail = f"{info.state.name} (exit {info.exitstatus})" if info else "crashed"
            self.board.event(K.CRASH, process.application_name, detail, process.process_name, nick)
            by_app.setdefault(process.application_name, []).append((process, nick))
        for name, crashed in by_app.items():
            self._decide_crash(name, crashed, status, now)

    def _decide_crash(self, name: str, crashed: Sequence[tuple[ProcessStatus, str]], status: ClusterStatus,
                      now: float) -> None:
        application = status.applications.get(name)
        if application is None or not application.managed:
            self.board.event(K.DECISION, name, "unmanaged: nothing to do")
            return
        strongest = RFS.CONTINUE
        for process, _ in crashed:
            strategy = process.rules.running_failure_strategy
            if strategy in (RFS.SHUTDOWN, RFS.RESTART):
                self._shutdown_all(strategy, process, now)
            elif strategy in (RFS.RESTART_PROCESS, RFS.CONTINUE):
                self.board.event(K.DECISION, name, f"{strategy.value}: left to Supervisor's autorestart",
                            process.process_name)
            elif PRIORITY[strategy] > PRIORITY[strongest]:
                strongest = strategy
        if strongest is RFS.STOP_APPLICATION:
            if any(p.running_on for p in application.processes):
                self.board.add_job(Job(JobKind.STOP_APPLICATION, (name,), [(JobStep.STOP, None)]), "STOP_APPLICATION")
        elif strongest is RFS.RESTART_APPLICATION and self._budget(name, now):
            self._restart_application(application, "")

    def _shutdown_all(self, strategy: RFS, process: ProcessStatus, now: float) -> None:
        if not self._budget(f"{strategy.value}:{process.namespec}", now):
            return
        method = JobStep.SHUTDOWN if strategy is RFS.SHUTDOWN else JobStep.RESTART
        self.board.add_job(Job(JobKind(strategy.value), (process.application_name,), [(method, None)]),
                           f"{strategy.value}: {method} on every instance", process.process_name)
