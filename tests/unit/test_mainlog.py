"""Change detection from supervisord's main log (issue 18): what a tail proves, when an instance is
log-blind, and when the controller asks for full answers (``cluster/mainlog.py``, ``controller/pacing.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from supv_cli.cluster.client import CallError
from supv_cli.cluster.known import Known, note_tail
from supv_cli.cluster.mainlog import fault_verdict, must_be_logged, tail_verdict, transitional
from supv_cli.controller.pacing import (
    FULL_EVERY,
    SAFETY_EVERY,
    STANDBY_FULL_EVERY,
    STANDBY_SAFETY_EVERY,
    full_this_cycle,
    probes_this_cycle,
)
from supv_cli.model.snapshot import Unreachable
from tests.unit.plan_helpers import instances

INFO_TAIL = ("2026-12-07 16:50:00,123 INFO spawned: 'p00' with pid 12\n"
             "2026-12-07 16:50:00,125 INFO success: p00 entered RUNNING state, process has stayed up for > than 0 "
             "seconds (startsecs)\n")
WARN_TAIL = ("2026-12-07 16:50:00,123 CRIT Supervisor is running as root.\n"
             "2026-12-07 16:50:01,001 WARN exited: p00 (exit status 1; not expected)\n")


@pytest.mark.parametrize(("tail", "usable"), [
    (INFO_TAIL, True),
    (INFO_TAIL[20:], True),                  # a line cut at the start of the tail
    ("2026-12-07 16:50:00,123 DEBG fd 8 closed, stopped monitoring\n", True),
    (WARN_TAIL, False),                      # loglevel = warn: transitions at INFO never written
    ("", False),                             # cleared, rotated just now, or /dev/null
    (None, False),
    (b"bytes", False),
])
def test_a_tail_tells_changes_only_when_it_holds_info_lines(tail: Any, usable: bool) -> None:
    assert (tail_verdict(tail) is None) is usable


@pytest.mark.parametrize(("code", "words"), [
    (20, "syslog"),      # NO_FILE: logfile = syslog
    (30, "pipe"),        # FAILED: /dev/stdout a pipe or a terminal (readLog seeks first: never blocks)
    (1, "fault 1"),      # UNKNOWN_METHOD: not a supervisord with readLog
])
def test_a_readlog_fault_says_why_the_instance_is_log_blind(code: int, words: str) -> None:
    assert words in (fault_verdict(code) or "")


def key(*states: int, pid: int = 5) -> tuple[tuple[Any, ...], ...]:
    """A change key as polling.py makes it: (group, name, state, start, stop, pid, exitstatus, spawnerr)."""
    return tuple(("g", f"p{index}", state, 1, 0, pid if state == 20 else 0, 0, "")
                 for index, state in enumerate(states))


RUNNING, STOPPED, STARTING, BACKOFF, STOPPING, EXITED, FATAL = 20, 0, 10, 30, 40, 100, 200


@pytest.mark.parametrize(("old", "new", "logged"), [
    (key(RUNNING), key(RUNNING), False),                      # nothing changed
    (key(RUNNING), key(EXITED), True),                        # "exited:" (INFO or WARN)
    (key(STOPPED), key(STARTING), True),                      # "spawned:"
    (key(STARTING), key(RUNNING), True),                      # "success:"
    (key(BACKOFF), key(FATAL), True),                         # "gave up:"
    (key(STOPPING), key(STOPPED), True),                      # "stopped:"
    (key(RUNNING), key(RUNNING, pid=6), True),                # restarted between two answers
    (key(RUNNING), key(STOPPING), False),                     # "killing ..." is DEBUG
    (key(BACKOFF), key(STOPPED), False),                      # stopped during BACKOFF: DEBUG
    (key(RUNNING), key(RUNNING, STOPPED), False),             # a group added: not logged
    (key(RUNNING, STOPPED), key(RUNNING), False),             # a group removed: not logged
    (None, key(RUNNING), False),                              # no previous answer
    (key(RUNNING, RUNNING), key(STOPPING, EXITED), True),     # one DEBUG move, one logged one
])
def test_a_change_is_blamed_on_the_log_only_when_supervisord_writes_it(old: Any, new: Any, logged: bool) -> None:
    assert must_be_logged(old, new) is logged


@pytest.mark.parametrize(("states", "moving"), [
    ((RUNNING, STOPPED, EXITED, FATAL), False),
    ((RUNNING, STARTING), True),
    ((BACKOFF,), True),
    ((STOPPING, RUNNING), True),
])
def test_a_process_on_its_way_keeps_its_instance_unsure(states: tuple[int, ...], moving: bool) -> None:
    assert transitional(key(*states)) is moving
    assert transitional(None)  # not a usual answer: never certified


AGES = {"s1": 1.0, "s2": 3.0, "s3": 12.0, "s4": 40.0, "s5": 70.0}  # seconds since the last full answer


def due_of(ages: dict[str, float]) -> Any:
    return lambda period: {nick for nick, age in ages.items() if age >= period}


@pytest.mark.parametrize(("acting", "busy", "leader", "unsure", "expected"), [
    # the acting controller, every log readable: full answers only for the safety net
    (True, False, None, set(), {"s4", "s5"}),
    # an unsure instance (log-blind, or a process STARTING) is asked every FULL_EVERY as before
    (True, False, None, {"s2", "s1"}, {"s2", "s4", "s5"}),
    # a job in flight: everyone, every cycle, as before
    (True, True, None, set(), None),
    # no main log known (a poller that cannot read it): as before
    (True, False, None, None, {"s2", "s3", "s4", "s5"}),
    # a standby: its safety net is longer; unsure ones every STANDBY_FULL_EVERY, the leader's every FULL_EVERY
    (False, False, "s2", set(), {"s5"}),
    (False, False, "s2", {"s2", "s3"}, {"s2", "s3", "s5"}),
    (False, False, "s2", None, {"s2", "s3", "s4", "s5"}),
    (False, False, None, set(), None),                       # no leader known: everything
])
def test_full_answers_are_asked_of_instances_the_log_cannot_certify(
        acting: bool, busy: bool, leader: str | None, unsure: set[str] | None, expected: set[str] | None) -> None:
    assert full_this_cycle(acting, busy, leader, due_of(AGES), unsure=unsure) == expected


def test_the_periods_keep_what_takeover_needs() -> None:
    # a standby's last answer of every instance is at most STANDBY_FULL_EVERY old, certified by its tail
    assert FULL_EVERY < STANDBY_FULL_EVERY <= 10.0 < SAFETY_EVERY <= STANDBY_SAFETY_EVERY


@pytest.mark.parametrize(("acting", "leader", "unsure", "expected"), [
    (True, None, set(), set(AGES)),                          # every PROBE_EVERY (1 s)
    (True, None, None, set(AGES)),
    # a standby reads the tails: every STANDBY_FULL_EVERY, the leader's every FULL_EVERY; not the unsure
    (False, "s2", set(), {"s2", "s3", "s4", "s5"}),
    (False, "s1", {"s3"}, {"s4", "s5"}),
    (False, "s2", None, set()),                               # no log: a standby never probes, as before
])
def test_probes_read_the_tails_where_they_certify(acting: bool, leader: str | None, unsure: set[str] | None,
                                                 expected: set[str]) -> None:
    assert probes_this_cycle(acting, due_of(AGES), leader=leader, unsure=unsure) == expected


@pytest.mark.parametrize(("tail", "new", "alone", "tail_after", "blind"), [
    (INFO_TAIL, key(RUNNING), False, INFO_TAIL, None),                 # nothing moved: certified
    (INFO_TAIL + "x", key(EXITED), False, INFO_TAIL + "x", None),      # the crash logged with it
    (INFO_TAIL, key(EXITED), False, None, "not logged"),               # same tail, logged move: blind
    (INFO_TAIL, key(EXITED), True, INFO_TAIL, None),                   # read alone before: proves nothing
    (INFO_TAIL, key(STOPPING), False, INFO_TAIL, None),                # a DEBUG move: not blind
    (WARN_TAIL, key(EXITED), False, None, None),                       # no INFO line: unsure, not blind
    ("", key(RUNNING), True, None, None),                              # empty: unsure
])
def test_a_tail_read_with_a_full_answer(tail: str, new: Any, alone: bool, tail_after: str | None,
                                        blind: str | None) -> None:
    known = Known(tail=INFO_TAIL, key=key(RUNNING), connection=1)
    note_tail(known, tail, new, 1, alone, b"digest" if alone else None)
    assert known.tail == tail_after
    assert (known.blind is None) if blind is None else (blind in (known.blind or ""))


def test_a_readlog_fault_read_with_a_full_answer_makes_the_instance_log_blind() -> None:
    known = Known(tail=INFO_TAIL, key=key(RUNNING), connection=1)
    note_tail(known, CallError(instances("s1")[0], Unreachable.FAULT, "fault: NO_FILE", 20), key(RUNNING), 1)
    assert known.tail is None and "syslog" in (known.blind or "")
