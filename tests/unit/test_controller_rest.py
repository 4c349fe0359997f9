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
from supv_cli.controller.pacing import (
    FULL_EVERY,
    PROBE_EVERY,
    SAFETY_EVERY,
    STANDBY_FULL_EVERY,
    STANDBY_SAFETY_EVERY,
    at_rest,
)

INTERVAL = 0.5


def run_rest(first: float, closes_at: float | None, due_at: list[float],
             skipped: Any = lambda seconds: None) -> tuple[list[float], float]:
    """resting() over a simulated clock: ``wait(seconds)`` advances it (to ``closes_at`` when a
    connection closes meanwhile), ``quiet`` says the seconds to the next of ``due_at``; returns the
    waits asked and the clock when the next cycle runs (``skipped``: resting's)."""
    now = [0.0]
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(round(seconds, 6))
        if closes_at is not None and now[0] <= closes_at < now[0] + seconds:
            now[0] = closes_at
            return True
        now[0] += seconds
        return False

    def quiet() -> float:
        return max(0.0, min((at - now[0] for at in due_at if at >= now[0]), default=float("inf")))

    resting(wait, quiet, clock=lambda: now[0], skipped=skipped)(first)
    return waits, now[0]


@pytest.mark.parametrize("first, closes_at, due_at, waits, cycle_at", [
    # something due at the end of the interval: the next cycle then, as with a plain sleep
    (0.4, None, [0.4], [0.4], 0.4),
    # nothing due: one cycle at least every LONGEST_REST, after one wait past the interval
    (0.5, None, [], [0.5, LONGEST_REST - 0.5], LONGEST_REST),
    # the acting controller's probe due 1 s after the last: one wait until then, no tick between
    (0.5, None, [1.0], [0.5, 0.5], 1.0),
    (0.3, None, [1.7], [0.3, 1.4], 1.7),
    # a connection closes during the first wait: the cycle at once
    (0.5, 0.2, [], [0.5], 0.2),
    # ... or during a skipped cycle: at once too
    (0.5, 1.3, [], [0.5, LONGEST_REST - 0.5], 1.3),
    # a cycle longer than the interval: no wait first, then the same
    (0.0, None, [0.0], [0.0], 0.0),
])
def test_resting_skips_quiet_cycles_and_wakes_on_a_closed_connection(first, closes_at, due_at, waits, cycle_at):
    asked, at = run_rest(first, closes_at, due_at)
    assert asked == pytest.approx(waits)
    assert at == pytest.approx(cycle_at)


@dataclass
class StubPoller:
    """What at_rest reads of a Poller: what is due (full answers / any answer), whether all settled,
    which are unsure, and when each last answered (``until_due``)."""

    full_due: dict[float, set[str]] = field(default_factory=dict)
    any_due: dict[float, set[str]] = field(default_factory=dict)
    all_settled: bool = True
    use_log: bool = True
    not_sure: set[str] = field(default_factory=set)
    asked_at: dict[str, float] = field(default_factory=lambda: {"s1": 0.0, "s2": 0.2, "s3": 0.4})
    now: float = 0.5

    def due(self, period: float, full: bool = True) -> set[str]:
        return set((self.full_due if full else self.any_due).get(period, set()))

    def settled(self) -> bool:
        return self.all_settled

    def unsure(self) -> set[str]:
        return set(self.not_sure)

    def until_due(self, period: float, nicks: Any = None) -> float:
        return min((at + period - self.now for nick, at in self.asked_at.items() if nicks is None or nick in nicks),
                   default=float("inf"))


def controller(acting: bool = True, leader: str | None = "s1", jobs: Any = (), wanted: Any = (),
               guarded: Any = None, successor: bool = True) -> Any:
    return SimpleNamespace(acting=acting, leader=leader, jobs=list(jobs), guarded=guarded, successor=successor,
                           evidence=SimpleNamespace(wanted=set(wanted)))


@pytest.mark.parametrize("ctl, poller, pause", [
    # acting, nothing due: until the first probe due (s1 asked at 0.0, now 0.5: in 0.5 s)
    (controller(), StubPoller(), PROBE_EVERY - 0.5),
    (controller(), StubPoller(any_due={PROBE_EVERY: {"s2"}}), 0.0),             # its 1 s probe is due
    (controller(), StubPoller(full_due={SAFETY_EVERY: {"s2"}}), 0.0),           # a full answer is due
    (controller(jobs=["job"]), StubPoller(), 0.0),                              # a job in flight
    (controller(), StubPoller(all_settled=False), 0.0),                         # an instance not answering
    (controller(wanted={"s3"}), StubPoller(), 0.0),                             # a decision waits
    (controller(), StubPoller(not_sure={"s2"}), INTERVAL),                      # its full answers at phases
    (controller(), StubPoller(use_log=False), INTERVAL),                        # no main log
    # standby, nothing due: until the leader's tail (s1 asked at 0.0: 2 s after)
    (controller(acting=False), StubPoller(), FULL_EVERY - 0.5),
    # ... the leader being s3 (asked at 0.4): 2 s after
    (controller(acting=False, leader="s3"), StubPoller(), FULL_EVERY - 0.1),
    # ... the others' every 10 s come first when they were asked long ago
    (controller(acting=False), StubPoller(asked_at={"s1": 0.0, "s2": -9.0}), STANDBY_FULL_EVERY - 9.5),
    # an unsure instance's full answer due: the leader's every 2 s, another's every 10 s
    (controller(acting=False), StubPoller(full_due={FULL_EVERY: {"s1"}}, not_sure={"s1"}), 0.0),
    (controller(acting=False), StubPoller(full_due={STANDBY_FULL_EVERY: {"s3"}}, not_sure={"s3"}), 0.0),
    (controller(acting=False), StubPoller(any_due={STANDBY_FULL_EVERY: {"s3"}}), 0.0),   # a tail due
    (controller(acting=False), StubPoller(full_due={STANDBY_SAFETY_EVERY: {"s2"}}), 0.0),  # a full one
    (controller(acting=False, leader=None), StubPoller(), 0.0),                 # no leader known: all
])
def test_at_rest_says_how_long_a_cycle_would_ask_and_do_nothing(ctl, poller, pause):
    assert at_rest(ctl, poller, INTERVAL)() == pytest.approx(pause)


class Client:
    """A client whose transport keeps one end of a socket pair (the other end plays supervisord)."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.transport = SimpleNamespace(kept_socket=sock)


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


@pytest.mark.parametrize("due_at, closes_at, rested", [
    ([], None, LONGEST_REST - 0.5),    # nothing due: every skipped interval is told, to be counted as cycles
    ([1.0], None, 0.5),                 # the probe due at 1 s
    ([0.5], None, 0.0),                 # due at the end of the first wait: nothing skipped
    ([], 1.3, 0.8),                     # a connection closed during the rest: up to then
])
def test_resting_tells_the_time_skipped(due_at, closes_at, rested):
    told: list[float] = []
    run_rest(0.5, closes_at, due_at, skipped=told.append)
    assert sum(told) == pytest.approx(rested)
