"""The starts in flight (controller/inflight.py), a part the controller holds: what a leader's state line
adds, and when a start sent is forgotten (a real answer of its instance after the send)."""

from __future__ import annotations

import pytest

from supv_cli.controller.inflight import InFlight
from supv_cli.model.snapshot import InstanceSnapshot, Snapshot, Unreachable
from supv_cli.plan.run_types import Request

from .plan_helpers import instances

CLUSTER = instances("s1", "s2")


@pytest.mark.parametrize(("state", "taken"), [
    (None, []),
    ({}, []),
    ({"acting": False, "in_flight": [["app:a", "s1"]]}, []),              # a standby's line: not the leader's
    ({"acting": True, "in_flight": [["app:a", "s1"], ["app:b", "s2"]]}, [("app:a", "s1"), ("app:b", "s2")]),
    ({"acting": True, "in_flight": [["app:a"], ["app:a", 3], "app:a s1", ["app:b", "s2"]]}, [("app:b", "s2")]),
    ({"acting": True, "in_flight": "app:a s1"}, []),                          # not a list (another version)
    ({"acting": True, "in_flight": 7}, []),
    ({"acting": True}, []),
])
def test_leader_state_adds_its_well_formed_starts(state, taken):
    starts = InFlight()
    starts.take_leader_state(state)
    assert starts.peer == taken


def answers(fresh: frozenset[str] | None, *down: str) -> Snapshot:
    snaps = tuple(InstanceSnapshot(i, "UNREACHABLE", "refused", error_kind=Unreachable.REFUSED) if i.nick in down
                  else InstanceSnapshot(i, "RUNNING") for i in CLUSTER)
    return Snapshot(snaps, 100.0, fresh)


@pytest.mark.parametrize(("snapshot", "now", "kept"), [
    (answers(None), 5.0, False),                  # a real answer of s1 after the send: it tells
    (answers(None), 1.0, True),                   # the send of this very cycle: kept
    (answers(frozenset({"s2"})), 5.0, True),      # s1's answer reused: it may predate the send
    (answers(None, "s1"), 5.0, True),             # s1 did not answer
])
def test_a_start_is_forgotten_on_a_real_answer_of_its_instance_after_it(snapshot, now, kept):
    starts = InFlight()
    starts.note([Request(CLUSTER.find("s1"), "supervisor.startProcess", ("app:a", False)),
                 Request(CLUSTER.find("s1"), "supervisor.stopProcess", ("app:b", False))], now=1.0)
    assert starts.listed() == [["app:a", "s1"]]   # only starts are in flight
    starts.forget(snapshot, now)
    assert (("app:a", "s1") in starts.sent) is kept


def test_the_leaders_starts_join_at_the_next_cycle():
    starts = InFlight()
    starts.take_leader_state({"acting": True, "in_flight": [["app:a", "s2"]]})
    assert starts.sent == {}
    starts.forget(answers(frozenset(), "s2"), now=3.0)
    assert starts.sent == {("app:a", "s2"): 3.0} and starts.peer == []
