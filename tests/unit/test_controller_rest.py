"""A controller at rest (issue 18, idle side by side with Supvisors): the cycles that would ask nothing
are skipped, a kept connection that closes ends the rest at once, ``--interval`` stays the period of
the cycles whenever anything is due (``controller/loop.resting``, ``controller/pacing.at_rest``,
``cluster/idle.wait_closed``)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from supv_cli.cluster.idle import wait_closed
from supv_cli.controller.loop import LONGEST_REST, resting
from supv_cli.controller.pacing import FULL_EVERY, PROBE_EVERY, STANDBY_FULL_EVERY, at_rest

INTERVAL = 0.5


def run_rest(first: float, closes_at: float | None, quiet_until: float) -> tuple[list[float], float]:
    """resting() over a simulated clock: ``wait(seconds)`` advances it (to ``closes_at`` when a
    connection closes meanwhile); returns the waits asked and the clock when the next cycle runs."""
    now = [0.0]
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if closes_at is not None and now[0] <= closes_at < now[0] + seconds:
            now[0] = closes_at
            return True
        now[0] += seconds
        return False

    resting(wait, lambda: now[0] < quiet_until, INTERVAL, clock=lambda: now[0])(first)
    return waits, now[0]


@pytest.mark.parametrize("first, closes_at, quiet_until, waits, cycle_at", [
    # something due after the interval: the next cycle at the interval, as with a plain sleep
    (0.4, None, 0.0, [0.4], 0.4),
    # nothing due: cycles skipped by intervals, one at least every LONGEST_REST
    (0.5, None, 99.0, [0.5] * int(LONGEST_REST / INTERVAL), LONGEST_REST),
    # due again after 1 s (the acting controller's probe): the cycle then
    (0.5, None, 1.0, [0.5, 0.5], 1.0),
    # a connection closes during the first wait: the cycle at once
    (0.5, 0.2, 99.0, [0.5], 0.2),
    # ... or during a skipped cycle: at once too
    (0.5, 1.3, 99.0, [0.5, 0.5, 0.5], 1.3),
    # a cycle longer than the interval: no wait first, then the same
    (0.0, None, 0.0, [0.0], 0.0),
])
def test_resting_skips_quiet_cycles_and_wakes_on_a_closed_connection(first, closes_at, quiet_until, waits,
                                                                     cycle_at):
    asked, at = run_rest(first, closes_at, quiet_until)
    assert asked == waits
    assert at == pytest.approx(cycle_at)


@dataclass
class StubPoller:
    """What at_rest reads of a Poller: what is due (full answers / any answer) and whether all settled."""

    full_due: dict[float, set[str]] = field(default_factory=dict)
    any_due: dict[float, set[str]] = field(default_factory=dict)
    all_settled: bool = True

    def due(self, period: float, full: bool = True) -> set[str]:
        return set((self.full_due if full else self.any_due).get(period, set()))

    def settled(self) -> bool:
        return self.all_settled


def controller(acting: bool = True, leader: str | None = "s1", jobs: Any = (), wanted: Any = ()) -> Any:
    return SimpleNamespace(acting=acting, leader=leader, jobs=list(jobs),
                           evidence=SimpleNamespace(wanted=set(wanted)))


@pytest.mark.parametrize("ctl, poller, quiet", [
    (controller(), StubPoller(), True),                                          # acting, nothing due
    (controller(), StubPoller(any_due={PROBE_EVERY: {"s2"}}), False),            # its 1 s probe is due
    (controller(), StubPoller(full_due={FULL_EVERY: {"s2"}}), False),            # a full answer is due
    (controller(jobs=["job"]), StubPoller(), False),                             # a job in flight
    (controller(), StubPoller(all_settled=False), False),                        # an instance not answering
    (controller(wanted={"s3"}), StubPoller(), False),                            # a decision waits
    (controller(acting=False), StubPoller(), True),                              # standby, nothing due
    (controller(acting=False), StubPoller(full_due={FULL_EVERY: {"s1"}}), False),         # the leader's
    (controller(acting=False), StubPoller(full_due={STANDBY_FULL_EVERY: {"s3"}}), False),  # another's
    (controller(acting=False), StubPoller(full_due={FULL_EVERY: {"s3"}}), True),  # not the leader: 10 s
    (controller(acting=False, leader=None), StubPoller(), False),                # no leader known: all
])
def test_at_rest_only_when_a_cycle_would_ask_and_do_nothing(ctl, poller, quiet):
    assert at_rest(ctl, poller)() is quiet


class Client:
    """A client whose transport keeps one end of a socket pair (the other end plays supervisord)."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.transport = SimpleNamespace(_sock=sock)


def test_wait_closed_ends_at_once_when_a_kept_connection_closes():
    ours, theirs = socket.socketpair()
    other, other_peer = socket.socketpair()
    try:
        started = time.monotonic()
        assert wait_closed([Client(ours), Client(other), Client(None)], 0.2) is False   # nothing closed
        assert time.monotonic() - started >= 0.19
        theirs.close()                                                              # supervisord dies
        started = time.monotonic()
        assert wait_closed([Client(other), Client(ours)], 30.0) is True
        assert time.monotonic() - started < 5.0
    finally:
        for sock in (ours, other, other_peer):
            sock.close()


def test_wait_closed_without_kept_connections_sleeps():
    started = time.monotonic()
    assert wait_closed([Client(None)], 0.1) is False
    assert time.monotonic() - started >= 0.09
    assert wait_closed([], 0.0) is False
