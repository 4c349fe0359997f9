"""The per-instance health bookkeeping of a cluster session (pure: no network)."""

from __future__ import annotations

import pytest

from supv_cli.cluster.health import PROBE_PAUSE, Health, HealthBoard, InstanceHealth
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import Unreachable

INSTANCES = InstanceList.parse(["<a>127.0.0.1:1 <b>127.0.0.1:2"])
A, B = list(INSTANCES)


@pytest.mark.parametrize(("elapsed", "health"), [(0.1, Health.ANSWERING), (2.5, Health.ANSWERING),
                                                 (2.6, Health.SLOW), (4.9, Health.SLOW)])
def test_an_answer_is_answering_or_slow(elapsed: float, health: Health) -> None:
    state = InstanceHealth(A)
    state.answered(elapsed, timeout=5.0)
    assert (state.health, state.answering, state.unresponsive) == (health, True, False)


@pytest.mark.parametrize(("kind", "unresponsive"), [(Unreachable.TIMEOUT, True), (Unreachable.REFUSED, False),
                                                     (Unreachable.AUTH, False), (Unreachable.PROTOCOL, False),
                                                     (Unreachable.ERROR, False)])
def test_only_a_timeout_makes_an_instance_unresponsive(kind: Unreachable, unresponsive: bool) -> None:
    state = InstanceHealth(A)
    state.failed(kind, "why", 5.0)
    assert (state.health, state.unresponsive, state.reason) == (Health.UNREACHABLE, unresponsive, "why")


def test_an_answer_after_a_timeout_clears_it() -> None:
    state = InstanceHealth(A)
    state.failed(Unreachable.TIMEOUT, "timeout", 5.0)
    state.answered(0.01, timeout=5.0)
    assert (state.health, state.unresponsive, state.kind, state.reason) == (Health.ANSWERING, False, None, "")


@pytest.mark.parametrize(("unresponsive", "probing", "ended", "now", "expected"), [
    (True, False, 0.0, 100.0, True),
    (True, True, 0.0, 100.0, False),                       # one probe at a time
    (True, False, 100.0, 100.0 + PROBE_PAUSE / 2, False),  # a pause between two probes
    (True, False, 100.0, 100.0 + PROBE_PAUSE, True),
    (False, False, 0.0, 100.0, False),                     # an answering instance is not probed
])
def test_probe_pace(unresponsive: bool, probing: bool, ended: float, now: float, expected: bool) -> None:
    state = InstanceHealth(A, unresponsive=unresponsive, probing=probing, probe_ended=ended)
    assert state.should_probe(now) is expected


def test_an_unreachable_instance_is_reported_once_until_it_answers_again() -> None:
    board = HealthBoard(INSTANCES)
    board[A].failed(Unreachable.TIMEOUT, "timeout", 5.0)
    board[B].answered(0.1, 5.0)
    assert [h.instance.nick for h in board.unreported()] == ["a"]
    assert board.unreported() == []
    board[A].answered(0.1, 5.0)
    board[A].failed(Unreachable.REFUSED, "connection refused", 0.0)
    assert [h.reason for h in board.unreported()] == ["connection refused"]
