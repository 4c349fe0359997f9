"""Start or stop one helper program (a group or program name) on every instance that has it, and wait.

Used by ``enable_stats`` / ``disable_stats`` (the samplers); ``supv controller hold|release`` sends its
own requests (all at once, a frozen instance last) and shares the wait (:func:`await_switch`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from supv_cli.model.snapshot import ProcessState

if TYPE_CHECKING:
    from supv_cli.cli.app import App
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import ProcessInfo, Snapshot

#: margin over startsecs / stopwaitsecs before a start or stop is failed
MARGIN = 5.0


@dataclass
class Switched:
    """What a switch did: one row per program found, the instances that did not answer."""

    rows: list[dict[str, str]]
    unreachable: list[str]
    found: bool

    @property
    def failed(self) -> bool:
        return any(row["outcome"] in ("FAILED", "TIMEOUT") for row in self.rows)


def programs(snapshot: Snapshot, program: str) -> list[tuple[Instance, ProcessInfo]]:
    """(instance, process info) of every process of that group or program name, in instance order."""
    return [(snap.instance, info) for snap in snapshot.instances if snap.reachable for info in snap.processes
            if program in (info.group, info.name)]


def switch(app: App, program: str, start: bool, dry_run: bool = False) -> Switched:
    """Start (``start``) or stop the program wherever it is not so already (wait=False, then polled up to
    its startsecs / stopwaitsecs + a margin)."""
    from supv_cli.plan.run_types import Request

    snapshot = app.snapshot(with_config=True, need_answer=False)
    down = [s.instance.nick for s in snapshot.unreachable]
    found = programs(snapshot, program)
    verb = "start" if start else "stop"
    todo = [(i, info) for i, info in found if info.running != start]
    outcome = {(i.nick, info.namespec): ("ALREADY", "already " + info.state.name) for i, info in found
               if (i, info) not in todo}
    if dry_run:
        outcome.update({(i.nick, info.namespec): ("DRY-RUN", f"would {verb} ({info.state.name})") for i, info in todo})
        todo = []
    answers = app.session.send([Request(i, f"supervisor.{verb}Process", (info.namespec, False)) for i, info in todo])
    outcome.update(await_switch(app, todo, answers, start))
    return Switched(switch_rows(outcome, verb), down, bool(found))


#: (instance nick, namespec) -> (outcome, detail)
Outcomes = dict[tuple[str, str], tuple[str, str]]


def await_switch(app: App, todo: list[tuple[Instance, ProcessInfo]], answers: Sequence[object],
                 start: bool) -> Outcomes:
    """(nick, namespec) -> (outcome, detail) of each start (``start``) or stop sent without waiting:
    FAILED when supervisord refused it, else polled until RUNNING / stopped (FAILED on FATAL or EXITED
    for a start), TIMEOUT after startsecs / stopwaitsecs + :data:`MARGIN`."""
    budget = max([(info.startsecs if start else info.stopwaitsecs) for _, info in todo] or [0]) + MARGIN
    deadline = time.monotonic() + budget
    outcome: Outcomes = {}
    pending = {}
    for (instance, info), answer in zip(todo, answers):
        if answer is True:
            pending[(instance.nick, info.namespec)] = instance
        else:
            outcome[(instance.nick, info.namespec)] = ("FAILED", str(getattr(answer, "reason", answer)))
    while pending and time.monotonic() < deadline:
        time.sleep(0.1)
        current = app.session.snapshot(with_config=False)
        for key, instance in list(pending.items()):
            seen = current.info(instance, key[1])
            if seen is None:
                continue
            if seen.state is ProcessState.RUNNING if start else seen.stopped:
                outcome[key] = ("RUNNING" if start else "STOPPED", seen.state.name)
                pending.pop(key)
            elif start and seen.state in (ProcessState.FATAL, ProcessState.EXITED):
                outcome[key] = ("FAILED", seen.state.name)
                pending.pop(key)
    for key in pending:
        outcome[key] = ("TIMEOUT", f"not {'RUNNING' if start else 'stopped'} within {budget:g}s")
    return outcome


def switch_rows(outcome: Outcomes, verb: str) -> list[dict[str, str]]:
    """The report rows of a switch, one per (instance, program)."""
    return [{"instance": nick, "namespec": namespec, "action": verb, "outcome": result, "detail": detail}
            for (nick, namespec), (result, detail) in outcome.items()]
