"""The controller's part of conflicts: a managed program active on several instances (a partition that
healed, a frozen server that woke up) is reported once and, by the conciliation rule, kept on one
instance (behaviour spec §3.9).

Which copies are stopped is the pure rule of :mod:`supv_cli.plan.conciliation` (``supv conciliate`` asks
it too; its names are re-exported here). This part decides *when*: only on fresh answers of every
instance a copy runs on (:mod:`.evidence`), not while the application has a job, and a stop is sent
again for the same copy only after ``RETRY`` seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from supv_cli.controller.events import EventKind as K
from supv_cli.plan.conciliation import CONCILIATE_STRATEGIES, Conciliation, victims
from supv_cli.plan.run_types import Request

if TYPE_CHECKING:
    from supv_cli.controller.evidence import Evidence
    from supv_cli.controller.jobs import Board
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.status import ClusterStatus

__all__ = ["CONCILIATE_STRATEGIES", "RETRY", "Conciliation", "Conciliator", "victims"]

#: seconds before a conciliation stop is sent again for the same process and instance
RETRY = 5.0


class Conciliator:
    """Reports each conflict once and stops the copies the rule picks (the controller sends the stops)."""

    def __init__(self, board: Board, evidence: Evidence, rule: Conciliation, index: Callable[[str], int]) -> None:
        self.board = board
        self.evidence = evidence
        self.rule = rule
        #: position of an instance in the list: ties on the start time, the same on every controller
        self.index = index
        #: (namespec, nick) -> when a stop was last sent there
        self.sent: dict[tuple[str, str], float] = {}
        #: conflicts said (once each, until they end)
        self.reported: set[str] = set()

    def __call__(self, snapshot: Snapshot, status: ClusterStatus, now: float) -> list[Request]:
        """The stops to send this cycle."""
        requests: list[Request] = []
        answering = {s.instance.nick for s in snapshot.instances if s.reachable}
        for process in status.conflicts():
            if self.board.busy(process.application_name):
                continue
            nicks = [i.nick for i in process.running_on]
            seen = all(nick in answering for nick in nicks)
            if seen and not self.evidence.fresh_since(nicks, now):
                continue  # a reused answer may predate a move (stop there, start here): asked again
            if process.namespec not in self.reported:
                self.board.event(K.CONFLICT, process.application_name, f"running on {', '.join(nicks)}",
                                 process.process_name)
                self.reported.add(process.namespec)
            if not seen:
                continue  # a copy known only from a last answer: settle it once every copy is seen
            for victim in victims(process, self.rule, self.index):
                key = (process.namespec, victim.nick)
                if now - self.sent.get(key, -1e9) < RETRY:
                    continue
                self.sent[key] = now
                self.board.event(K.CONCILIATE, process.application_name, f"{self.rule}: stopping it on {victim.nick}",
                                 process.process_name, victim.nick)
                requests.append(Request(victim, "supervisor.stopProcess", (process.namespec, False)))
        for namespec in list(self.reported):
            current = status.processes.get(namespec)
            if current is None or not current.conflict:
                self.reported.discard(namespec)
        return requests
