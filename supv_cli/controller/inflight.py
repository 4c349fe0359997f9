"""Starts in flight: sent, and not confirmed yet by a real answer of their instance.

A start sent to an instance lost before it answered again counts as active there (it was sent, it may
run): the recovery (:mod:`.recovery`) takes it as an orphan of that instance. A standby learns the acting
controller's starts in flight from its state line (``in_flight``), read while something happens, so that
it knows them should it take over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    from supv_cli.model.snapshot import Snapshot
    from supv_cli.plan.run_types import Request


class InFlight:
    """The starts this controller sent (or, on a standby, the acting one said it sent)."""

    def __init__(self) -> None:
        #: (namespec, nick) -> when, until their instance gives a real answer again
        self.sent: dict[tuple[str, str], float] = {}
        #: what the acting controller's last state line said is in flight, merged at the next cycle
        self.peer: list[tuple[str, str]] = []

    def forget(self, snapshot: Snapshot, now: float) -> None:
        """Starts sent to an instance that gave a real answer since (a reused answer may predate them):
        that answer tells what became of them. Then take the acting controller's in-flight starts."""
        fresh = snapshot.fresh
        answering = {s.instance.nick for s in snapshot.instances
                     if s.reachable and (fresh is None or s.instance.nick in fresh)}
        if self.sent:
            self.sent = {key: t for key, t in self.sent.items() if key[1] not in answering or t >= now}
        if self.peer:
            self.sent.update((key, now) for key in self.peer if key not in self.sent)
            self.peer = []

    def note(self, requests: Sequence[Request], now: float) -> None:
        """Remember the starts about to be sent until their instance answers again."""
        self.sent.update(((r.args[0], r.instance.nick), now) for r in requests
                         if r.method == "supervisor.startProcess")

    def listed(self) -> list[list[str]]:
        """The starts sent and not confirmed yet, ``[namespec, nick]``: in the state line, for a standby."""
        return [[namespec, nick] for namespec, nick in sorted(self.sent)]

    def take_leader_state(self, state: Mapping[str, object] | None) -> None:
        """What the acting controller's last state line says is in flight (a standby reads it while
        something happens): those starts count as sent by this controller, should it take over."""
        if not state or not state.get("acting"):
            return
        items = state.get("in_flight") or ()
        if not isinstance(items, (list, tuple)):
            return
        for item in items:
            if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item):
                self.peer.append((item[0], item[1]))
