"""How the controller handles failures (behaviour spec §3.9): an instance lost, a process crashed.

A mixin of :class:`~supv_cli.controller.core.Controller`, kept apart to keep each file about one thing:
it turns failed processes into jobs (RESTART_PROCESS, RESTART_APPLICATION, STOP_APPLICATION, or
SHUTDOWN / RESTART of every supervisord), per application the strongest strategy, within the restart
budget. It uses the controller's ``rules``, ``instances``, ``options``, ``members``, ``restarts``,
``deferred``, ``jobs`` and its ``_event`` / ``_busy`` / ``_add_job`` methods.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Sequence

from supv_cli.cluster.snapshot import RUNNING_STATES, InstanceSnapshot, ProcessState, Snapshot
from supv_cli.controller.jobs import Job, JobKind, Step
from supv_cli.plan.placement import resolve_identifiers
from supv_cli.rules.model import RunningFailureStrategy as RFS

if TYPE_CHECKING:
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus

#: per application, the strongest strategy wins
PRIORITY = {RFS.STOP_APPLICATION: 3, RFS.RESTART_APPLICATION: 2, RFS.RESTART_PROCESS: 1, RFS.CONTINUE: 0}


class FailureDecisions:
    """Failure handling of the controller (mixin)."""

    rules: Any
    instances: Any
    options: Any
    members: Any
    restarts: dict[str, deque[float]]
    deferred: dict[str, tuple[RFS, set[str], str | None]]
    jobs: list[Any]

    if TYPE_CHECKING:  # provided by the controller
        def _event(self, kind: str, subject: str, message: str, process: str | None = None,
                   instance: str | None = None) -> None: ...

        def _busy(self, application: str) -> bool: ...

        def _add_job(self, job: Job, message: str) -> None: ...

    # ------------------------------------------------------------------ failures
    def _budget(self, key: str, now: float) -> bool:
        history = self.restarts.setdefault(key, deque())
        while history and now - history[0] > self.options.budget_window:
            history.popleft()
        if len(history) >= self.options.restart_budget:
            self._event("budget", key, f"restarted {len(history)} times in {self.options.budget_window:g}s: "
                        "not restarting again (fix it, then run supv run-plan)")
            return False
        history.append(now)
        return True


    def _instance_lost(self, nick: str, previous: dict[str, InstanceSnapshot], status: ClusterStatus,
                       now: float) -> None:
        """Apply the running failure strategies to what ran on a lost instance."""
        last = previous.get(nick) or self.members.seen.get(nick)
        if last is not None:
            active = [info.namespec for info in last.processes if info.state in RUNNING_STATES]
        else:
            active = self._derived(nick, status)
            if active:
                self._event("derive", nick, "never seen by this controller: from the rules, it may have run "
                            + ", ".join(active), instance=nick)
        failed = [status.processes[n] for n in active if n in status.processes and not status.processes[n].running_on]
        self._decide(failed, status, now, path="lost", where=nick)

    def _derived(self, nick: str, status: ClusterStatus) -> list[str]:
        """Programs that may have run on an instance never seen: sequenced programs of applications that
        still run (a stopped application may have been stopped on purpose) that now run nowhere and whose
        candidates include it."""
        result = []
        instance = self.instances.find(nick)
        for application in status.applications.values():
            if not application.rules.managed or application.statename == "STOPPED":
                continue
            for process in application.processes:
                if process.rules.start_sequence <= 0 or process.running_on:
                    continue
                if process.rules.wait_exit:
                    continue
                candidates = resolve_identifiers(process.rules.identifiers or ("*",), self.instances)
                if instance in candidates:
                    result.append(process.namespec)
        return result

    def _crashes(self, snapshot: Snapshot, previous: dict[str, InstanceSnapshot], status: ClusterStatus,
                 now: float) -> None:
        """Processes that were running on a live instance and are now FATAL / exited unexpectedly."""
        crashed: list[ProcessStatus] = []
        for snap in snapshot.instances:
            before = previous.get(snap.instance.nick)
            if not snap.reachable or before is None:
                continue
            old = {info.namespec: info for info in before.processes}
            for info in snap.processes:
                was = old.get(info.namespec)
                if was is None or was.state not in RUNNING_STATES:
                    continue
                if info.state in (ProcessState.FATAL, ProcessState.UNKNOWN) or (
                        info.state is ProcessState.EXITED and not info.expected_exit):
                    process = status.processes.get(info.namespec)
                    if process is not None and not process.running_on:
                        self._event("crash", process.application_name,
                                    f"{info.state.name} (exit {info.exitstatus})", process.process_name,
                                    snap.instance.nick)
                        crashed.append(process)
        self._decide(crashed, status, now, path="crash", where=None)

    def _decide(self, failed: Sequence[ProcessStatus], status: ClusterStatus, now: float, path: str,
                where: str | None) -> None:
        by_app: dict[str, list[ProcessStatus]] = {}
        for process in failed:
            by_app.setdefault(process.application_name, []).append(process)
        for name, processes in by_app.items():
            application = status.applications.get(name)
            if application is None or not application.managed:
                self._event("decision", name, "unmanaged: nothing to do")
                continue
            strongest = RFS.CONTINUE
            restart: list[ProcessStatus] = []
            considered = 0
            for process in processes:
                strategy = process.rules.running_failure_strategy
                if path == "crash" and strategy in (RFS.SHUTDOWN, RFS.RESTART):
                    self._shutdown_all(strategy, process, now)
                    continue
                if path == "crash" and strategy is RFS.RESTART_PROCESS:
                    self._event("decision", name, "RESTART_PROCESS: left to Supervisor's autorestart",
                                process.process_name)
                    continue
                if strategy in (RFS.SHUTDOWN, RFS.RESTART):
                    self._event("decision", name, f"{strategy.value}: not applied on an instance loss "
                                "(as Supvisors)", process.process_name)
                    continue
                considered += 1
                if (strategy is RFS.RESTART_PROCESS and process.rules.start_sequence > 0
                        and application.statename == "STOPPED"):
                    strategy = RFS.RESTART_APPLICATION  # nothing of the application runs any more
                if strategy is RFS.RESTART_PROCESS:
                    restart.append(process)
                if PRIORITY[strategy] > PRIORITY[strongest]:
                    strongest = strategy
            if considered:
                self._job_for(application, strongest, restart, now, where)

    def _job_for(self, application: ApplicationStatus, strategy: RFS, restart: list[ProcessStatus], now: float,
                 where: str | None) -> None:
        name = application.application_name
        cause = " (retry)" if where == "retry" else (f" (lost {where})" if where else "")
        if strategy is RFS.CONTINUE:
            self._event("decision", name, f"CONTINUE{cause}: nothing restarted")
            return
        if self._busy(name):
            self._event("decision", name, f"{strategy.value}{cause}: deferred until the current job of the "
                        "application ends")
            previous, programs, _ = self.deferred.get(name, (RFS.CONTINUE, set(), where))
            self.deferred[name] = (strategy if PRIORITY[strategy] > PRIORITY[previous] else previous,
                                   programs | {p.process_name for p in restart}, where)
            return
        running = any(p.running_on for p in application.processes)
        # the budget is for programs that fail (a crash, a restart that failed), not for moving the
        # programs of a lost instance: a server lost four times in a row must not strand its programs
        charged = where is None or where == "retry"

        def allowed(key: str) -> bool:
            return self._budget(key, now) if charged else True

        if strategy is RFS.STOP_APPLICATION:
            if running:
                self._add_job(Job(JobKind.STOP_APPLICATION, (name,), [("stop", None)]), f"STOP_APPLICATION{cause}")
            return
        if strategy is RFS.RESTART_APPLICATION:
            if allowed(name):
                steps: list[Step] = [("stop", None)] if running else []
                steps.append(("start", None))
                self._add_job(Job(JobKind.RESTART_APPLICATION, (name,), steps), f"RESTART_APPLICATION{cause}")
            return
        names = [p.process_name for p in restart if allowed(p.namespec)]
        if names:
            self._add_job(Job(JobKind.RESTART_PROCESS, (name,), [("start", {name: names})]),
                          f"RESTART_PROCESS{cause}: {', '.join(names)}")


    def _shutdown_all(self, strategy: RFS, process: ProcessStatus, now: float) -> None:
        if not self._budget(f"{strategy.value}:{process.namespec}", now):
            return
        method = "supervisor.shutdown" if strategy is RFS.SHUTDOWN else "supervisor.restart"
        self._event("decision", process.application_name, f"{strategy.value}: {method} on every instance",
                    process.process_name)
        self.jobs.append(Job(JobKind(strategy.value), (process.application_name,), [(method, None)]))

