"""The executor: a staged start or stop run as a pure state machine, and the loop that drives it.

``Run.step(snapshot, status, now)`` looks at what the instances answered, moves every command on
(behaviour spec §3.5: RUNNING, or EXITED with an expected code for wait_exit programs), applies the
starting failure strategy of required programs (§3.6; timeouts included, decisions.md), opens the next
program stage of each application and the next application stage, and returns the XML-RPC requests to
send. It never touches the network: ``drive`` takes the snapshots and sends the requests. The controller
uses the same machine for automatic start and failover. What an answer or a process state means for
one command is decided in :mod:`supv_cli.plan.verdicts`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from supv_cli.errors import SupvError
from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.runs import CommandKind, Outcome, RunKind
from supv_cli.model.snapshot import RUNNING_STATES, ProcessState, Snapshot
from supv_cli.plan.placer import Placer
from supv_cli.plan.planner import process_stages
from supv_cli.plan.run_types import ApplicationJob, Command, Event, Request, Runner, RunOptions
from supv_cli.plan.stages import Action, Placement, Plan
from supv_cli.plan.verdicts import answer_verdict, budget, start_verdict, stop_verdict
from supv_cli.rules.model import StartingFailureStrategy

if TYPE_CHECKING:
    from supv_cli.rules import Rules
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus

class Run:
    """A staged start or stop: the stages of a :class:`Plan`, executed stage after stage."""

    def __init__(self, rules: Rules, plan: Plan, options: RunOptions | None = None,
                 stop_only_on: dict[str, frozenset[str]] | None = None):
        """``plan``: what the planner made (``planner.build_start_plan`` / ``build_stop_plan``, or
        ``process_plan`` for single processes), the one ``--dry-run`` prints: its application stages and,
        inside each application, its program stages are executed in its order; each process is placed
        again when its stage opens, from the cluster as it is then. ``stop_only_on``: namespec -> the
        nicks where a stop is sent (conciliation), elsewhere the process is left running."""
        self.rules = rules
        self.plan = plan
        self.kind = plan.kind
        self.options = options or RunOptions()
        self.strategy = plan.strategy
        #: single processes (one stage, no failure strategy); their wait_exit programs are waited for
        #: (and an EXITED one started again) only with the plan's wait_exit (``supv start``)
        self.single = plan.single
        self.single_wait_exit = plan.single and plan.wait_exit
        self.stop_only_on = stop_only_on or {}
        self.events: list[Event] = []
        self.targets: dict[str, Any] = {}
        self.fresh: dict[str, bool] = {}
        self.interrupted = False
        #: the instances, built once from the first snapshot (every snapshot of a run is of one list)
        self.instances: InstanceList | None = None
        self.app_stages: list[tuple[int, list[ApplicationJob]]] = [
            (sequence, [ApplicationJob(application.application_name, plan.kind, application.program_stages())
                        for application in applications])
            for sequence, applications in plan.stages]
        self.stage_index = 0
        self.jobs = [job for _, jobs in self.app_stages for job in jobs]

    # ------------------------------------------------------------------ queries
    @property
    def finished(self) -> bool:
        return self.stage_index >= len(self.app_stages)

    def commands(self) -> list[Command]:
        return [c for job in self.jobs for c in job.done + job.current]

    def failed(self) -> bool:
        return any(c.outcome is not None and c.outcome.failed for c in self.commands())

    def report(self) -> list[dict[str, Any]]:
        """Every command, plus the programs never reached, in stage order."""
        rows = [c.to_dict() for c in self.commands()]
        for job in self.jobs:
            for sequence, names in job.skipped + job.stages:
                skipped = (sequence, names) in job.skipped
                # a stage not reached yet is PENDING while the run goes on (the live view shows it)
                outcome = "PENDING" if not (skipped or self.finished or self.interrupted) else \
                    Outcome.NOT_STARTED.value
                for name in names:
                    rows.append({"application_name": job.name, "process_name": name,
                                 "namespec": f"{job.name}:{name}", "sequence": sequence,
                                 "action": RunKind.START if skipped else job.kind,
                                 "instance": None, "outcome": outcome,
                                 "required": self._required(job.name, name), "elapsed": 0.0,
                                 "detail": job.aborted or ("interrupted" if self.interrupted else "")})
        return rows

    def _required(self, application_name: str, process_name: str) -> bool:
        """The rules' ``required`` of a process (a row never reached says it as the dry run does)."""
        try:
            return bool(self.rules.process_rules(application_name, process_name).required)
        except SupvError:
            return False

    def _event(self, kind: str, application: str, message: str, process: str | None = None,
               instance: Instance | None = None) -> None:
        self.events.append(Event(kind, application, message, process, instance.nick if instance else None))

    def drain_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # ------------------------------------------------------------------ the step
    def step(self, snapshot: Snapshot, status: ClusterStatus, now: float,
             other_pending: dict[str, int] | None = None) -> list[Request]:
        """Advance with the cluster as it is now; return the requests to send.

        ``other_pending``: load started by other runs and not running yet (the controller runs several).
        """
        if self.finished or self.interrupted:
            return []
        if self.instances is None:
            self.instances = InstanceList(s.instance for s in snapshot.instances)
        placer = Placer.build(self.rules, snapshot, status, self.options.local, self.targets, self.fresh,
                              self.instances)
        placer.add_pending(other_pending or {})
        # started by this run but not seen running yet (once it is, the snapshot counts its load)
        placer.add_pending(self.pending_loads())
        for job in self._current_jobs():
            for command in list(job.current):
                self._update(job, command, snapshot, status, now)
        requests: list[Request] = []
        while not self.finished:
            jobs = self._current_jobs()
            for job in jobs:
                requests += self._advance(job, placer, status, now)
            if all(job.finished for job in jobs):
                self.stage_index += 1
                continue
            break
        return requests

    def _current_jobs(self) -> list[ApplicationJob]:
        return self.app_stages[self.stage_index][1] if not self.finished else []

    def _advance(self, job: ApplicationJob, placer: Placer, status: ClusterStatus, now: float) -> list[Request]:
        requests: list[Request] = []
        application = status.applications.get(job.name)
        while not job.finished and not job.current:
            if job.stop_requested and job.kind == RunKind.START:
                self._turn_into_stop(job, application)
                continue
            if not job.stages or application is None:
                if application is None and job.stages:
                    job.aborted = "application no longer known by any reachable instance"
                    self._event("failed", job.name, job.aborted)
                job.finished = True
                self._event("done", job.name, self._summary(job))
                break
            if not job.prepared and job.kind == RunKind.START:
                note = placer.prepare(application, self.strategy)
                job.prepared = True
                if note:
                    self._event("placement", job.name, note)
            sequence, names = job.stages.pop(0)
            processes = {p.process_name: p for p in application.processes}
            self._event("stage", job.name, f"{job.kind} stage {sequence}: {', '.join(names)}")
            for name in names:
                process = processes.get(name)
                if process is None:
                    continue
                requests += self._open(job, placer, application, process, sequence, now)
        return requests

    def _open(self, job: ApplicationJob, placer: Placer, application: ApplicationStatus,
              process: ProcessStatus, sequence: int, now: float) -> list[Request]:
        if job.kind == RunKind.STOP:
            placements = placer.place_stop(application, process, sequence)
            only = self.stop_only_on.get(process.namespec)
            if only is not None:
                placements = [p for p in placements if p.instance is None or p.instance.nick in only]
        else:
            alone = self.single and self.single_wait_exit
            placements = [placer.place(application, process, sequence, strategy=self.strategy,
                                       honour_wait_exit=alone or not self.single, again=alone)]
        requests = []
        for placement in placements:
            command = Command(placement=placement, kind=CommandKind(job.kind), created=now, instance=placement.instance)
            if placement.action is Action.DONE:
                self._finish(job, command, Outcome.ALREADY, placement.reason, now)
            elif placement.action is Action.NO_RESOURCE:
                job.current.append(command)
                self._finish(job, command, Outcome.NO_RESOURCE, placement.reason, now)
            elif placement.action is Action.WAIT:
                command.kind = CommandKind.WAIT
                command.sent = now
                command.deadline = now + self._budget(placement, job.kind)
                job.current.append(command)
                self._event("wait", job.name, placement.reason, process.process_name, placement.instance)
            else:
                assert placement.instance is not None
                command.pending_load = placement.action is Action.START
                job.current.append(command)
                method = "supervisor.startProcess" if placement.action is Action.START else "supervisor.stopProcess"
                requests.append(Request(placement.instance, method, (placement.namespec, False), command))
        return requests

    def _budget(self, placement: Placement, kind: RunKind) -> float:
        return budget(placement, kind, self.options)

    # ------------------------------------------------------------------ results of requests
    def on_result(self, request: Request, result: Any, now: float) -> None:
        """What the instance answered to a request (True, or a CallError)."""
        command = request.command
        if command is None:
            return
        job = self._job(command)
        if command.outcome is not None:
            return
        verdict = answer_verdict(command, result)
        if verdict is None:
            command.sent = now
            command.deadline = now + self._budget(command.placement, job.kind)
            verb = "start sent" if command.kind == CommandKind.START else "stop sent"
            self._event(command.kind, command.placement.application_name,
                        f"{verb} ({command.placement.reason})" if command.kind == CommandKind.START else verb,
                        command.placement.process_name, command.instance)
        else:
            self._finish(job, command, *verdict, now)

    def _job(self, command: Command) -> ApplicationJob:
        for job in self.jobs:
            if command in job.current or command in job.done:
                return job
        raise KeyError(command.namespec)

    # ------------------------------------------------------------------ polling
    def _update(self, job: ApplicationJob, command: Command, snapshot: Snapshot, status: ClusterStatus,
                now: float) -> None:
        if command.outcome is not None or command.sent is None:
            return
        placement = command.placement
        if command.kind == CommandKind.WAIT and command.instance is None:
            # waiting for a STOPPING process anywhere, or for one started elsewhere
            process = status.processes.get(placement.namespec)
            state = process.state if process else ProcessState.UNKNOWN
            info = None
        else:
            assert command.instance is not None
            snap = next((s for s in snapshot.instances if s.instance.nick == command.instance.nick), None)
            if snap is None or not snap.reachable:
                command.missed += 1
                if command.missed >= self.options.lost_after:
                    self._finish(job, command, Outcome.LOST,
                                 f"{command.instance.nick} lost ({snap.reason if snap else 'not in the snapshot'})",
                                 now)
                return
            command.missed = 0
            info = snapshot.info(command.instance, placement.namespec)
            if info is None:
                self._finish(job, command, Outcome.FAILED, f"{placement.namespec} unknown on {command.instance.nick}",
                             now)
                return
            state = info.state
        previous, command.state = command.state, state
        if job.kind == RunKind.STOP:
            verdict = stop_verdict(command, state, now, self.options)
            if verdict is not None:
                self._finish(job, command, *verdict, now)
            return
        if state is ProcessState.BACKOFF and previous is not ProcessState.BACKOFF:
            command.deadline = now + self._budget(placement, job.kind)  # Supervisor retries: the clock restarts
        if state is ProcessState.RUNNING and placement.wait_exit and previous is not ProcessState.RUNNING:
            command.deadline = now + self.options.exit_timeout  # RUNNING: now it has to exit
        verdict = start_verdict(command, state, info, now, self.options)
        if verdict is not None:
            self._finish(job, command, *verdict, now)

    # ------------------------------------------------------------------ endings and strategies
    def _finish(self, job: ApplicationJob, command: Command, outcome: Outcome, detail: str, now: float) -> None:
        command.outcome, command.detail, command.finished = outcome, detail, now
        command.pending_load = False
        if command in job.current:
            job.current.remove(command)
        job.done.append(command)
        placement = command.placement
        kind = "failed" if outcome.failed else ("skip" if outcome is Outcome.ALREADY else "ok")
        self._event(kind, job.name, f"{outcome.value}: {detail}", placement.process_name, command.instance)
        if outcome.failed and job.kind == RunKind.START and not self.single:
            self._apply_strategy(job, placement)

    def _apply_strategy(self, job: ApplicationJob, placement: Placement) -> None:
        if not placement.required:
            return
        strategy = placement.starting_failure_strategy
        if strategy is StartingFailureStrategy.CONTINUE:
            self._event("strategy", job.name, f"required {placement.process_name} failed: CONTINUE")
            return
        job.aborted = f"required {placement.process_name} failed ({strategy.value})"
        if job.stages:
            self._event("strategy", job.name, f"required {placement.process_name} failed: {strategy.value}, "
                        "remaining stages dropped")
            job.skipped += job.stages
            job.stages = []
        if strategy is StartingFailureStrategy.STOP:
            job.stop_requested = True

    def _turn_into_stop(self, job: ApplicationJob, application: ApplicationStatus | None) -> None:
        """STOP strategy: once the start job is over, stop the whole application."""
        job.stop_requested = False
        job.kind = RunKind.STOP
        if application is not None:
            job.stages = [(seq, [p.process_name for p in processes])
                          for seq, processes in process_stages(application, RunKind.STOP)]
        self._event("strategy", job.name, "STOP: stopping the application")

    def _summary(self, job: ApplicationJob) -> str:
        outcomes: dict[str, int] = {}
        for command in job.done:
            if command.outcome is not None:
                outcomes[command.outcome.value] = outcomes.get(command.outcome.value, 0) + 1
        text = ", ".join(f"{count} {name}" for name, count in outcomes.items()) or "nothing to do"
        if not job.aborted:
            return f"{job.kind} finished: {text}"
        dropped = [name for _, names in job.skipped for name in names]
        left = f"not started: {', '.join(dropped)}" if dropped else "nothing left to start"
        return f"{job.kind} finished: {text} ({job.aborted}; {left})"

    def interrupt(self, now: float) -> None:
        """Ctrl-C: stop waiting; in-progress commands are reported INTERRUPTED."""
        self.interrupted = True
        for job in self.jobs:
            for command in list(job.current):
                command.outcome, command.detail, command.finished = Outcome.INTERRUPTED, "interrupted", now
                job.current.remove(command)
                job.done.append(command)

    def pending_loads(self) -> dict[str, int]:
        """Load of the programs this run started that are not seen running yet, per instance nick."""
        loads: dict[str, int] = {}
        for command in self.commands():
            if (command.pending_load and command.instance is not None and command.outcome is None
                    and command.state not in RUNNING_STATES):
                nick = command.instance.nick
                loads[nick] = loads.get(nick, 0) + command.placement.expected_loading
        return loads

    def next_wakeup(self, now: float, interval: float) -> float:
        """When to poll next: soon after an in-flight program's startsecs, at the latest after interval."""
        wake = now + interval
        for command in self.commands():
            if command.outcome is None and command.sent is not None:
                expected = command.sent + command.placement.startsecs
                if expected > now:
                    wake = min(wake, expected + 0.02)
        return wake


#: a Run, or a chain of runs (plan/operate.py): drive() gives back what it was given
Driven = TypeVar("Driven", bound=Runner)


def drive(run: Driven, snapshot_fn: Callable[[], Snapshot], status_fn: Callable[[Snapshot], ClusterStatus],
          send_fn: Callable[[list[Request]], list[Any]], on_events: Callable[[list[Event]], None],
          interval: float = 0.2, clock: Callable[[], float] = time.monotonic,
          sleep: Callable[[float], None] = time.sleep) -> Driven:
    """Run to the end: snapshot, step, send, report events, wait a little, again."""
    try:
        while not run.finished:
            snapshot = snapshot_fn()
            requests = run.step(snapshot, status_fn(snapshot), clock())
            if requests:
                results = send_fn(requests)
                now = clock()
                for request, result in zip(requests, results):
                    run.on_result(request, result, now)
            on_events(run.drain_events())
            if run.finished:
                break
            if not requests:
                now = clock()
                sleep(max(0.0, run.next_wakeup(now, interval) - now))
    except KeyboardInterrupt:
        run.interrupt(clock())
        on_events(run.drain_events())
        raise
    return run
