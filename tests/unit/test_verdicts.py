"""What an answer or a process state means for one command (plan/verdicts.py), table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from supv_cli.cluster.client import CallError
from supv_cli.model.instances import parse_instance
from supv_cli.model.runs import Outcome
from supv_cli.model.snapshot import ProcessInfo, ProcessState, Unreachable
from supv_cli.plan.run_types import Command, RunOptions
from supv_cli.plan.stages import Action, Placement
from supv_cli.plan.verdicts import answer_verdict, budget, start_verdict, stop_verdict

S = ProcessState
I1 = parse_instance("<one>127.0.0.1:61001")
OPTIONS = RunOptions(start_timeout=10.0, exit_timeout=60.0, stop_timeout=5.0)


def command(kind: str = "start", wait_exit: bool = False, deadline: float | None = 100.0) -> Command:
    placement = Placement("app", "p", 1, Action.START, I1, "test", wait_exit=wait_exit, startsecs=2,
                          stopwaitsecs=7)
    return Command(placement=placement, kind=kind, created=0.0, instance=I1, deadline=deadline)


def fault(code: int) -> CallError:
    return CallError(I1, Unreachable.FAULT, f"fault {code}", fault_code=code)


@pytest.mark.parametrize(("kind", "result", "expected"), [
    ("start", True, None),
    ("start", fault(60), None),                       # ALREADY_STARTED: its state decides
    ("start", fault(50), None),                       # SPAWN_ERROR on a start: BACKOFF decides
    ("stop", fault(50), (Outcome.FAILED, "refused by supervisord: fault 50")),
    ("stop", fault(70), (Outcome.STOPPED, "was not running")),
    ("start", fault(70), (Outcome.FAILED, "refused by supervisord: fault 70")),
    ("start", CallError(I1, Unreachable.TIMEOUT, "timed out"), (Outcome.LOST, "instance unreachable: timed out")),
    ("start", "what?", (Outcome.FAILED, "unexpected answer 'what?'")),
])
def test_answer_verdict(kind: str, result: Any, expected: tuple[Outcome, str] | None) -> None:
    assert answer_verdict(command(kind), result) == expected


def exited(exitstatus: int, exitcodes: tuple[int, ...] = (0,), spawnerr: str = "") -> ProcessInfo:
    return ProcessInfo("app", "p", S.EXITED, exitstatus=exitstatus, exitcodes=exitcodes, spawnerr=spawnerr)


@pytest.mark.parametrize(("wait_exit", "state", "info", "now", "expected"), [
    (False, S.RUNNING, None, 1.0, (Outcome.RUNNING, "RUNNING")),
    (True, S.RUNNING, None, 1.0, None),                                   # running: now it has to exit
    (True, S.RUNNING, None, 101.0, (Outcome.TIMEOUT, "no exit within 60s of RUNNING (state RUNNING)")),
    (True, S.EXITED, exited(0), 1.0, (Outcome.EXITED, "exited with expected code 0")),
    (True, S.EXITED, exited(3), 1.0, (Outcome.FAILED, "exited with code 3 (not in exitcodes)")),
    (False, S.EXITED, exited(0), 1.0, (Outcome.FAILED, "exited with code 0")),
    (False, S.EXITED, None, 1.0, (Outcome.FAILED, "exited with code None (not in exitcodes)")),
    (False, S.FATAL, ProcessInfo("app", "p", S.FATAL, spawnerr="no such file"), 1.0,
     (Outcome.FAILED, "FATAL: no such file")),
    (False, S.STOPPED, None, 1.0, (Outcome.FAILED, "STOPPED")),
    (False, S.STARTING, None, 99.0, None),
    (False, S.BACKOFF, None, 101.0, (Outcome.TIMEOUT, "no RUNNING within 12s (state BACKOFF)")),
])
def test_start_verdict(wait_exit: bool, state: ProcessState, info: ProcessInfo | None, now: float,
                       expected: tuple[Outcome, str] | None) -> None:
    assert start_verdict(command(wait_exit=wait_exit), state, info, now, OPTIONS) == expected


@pytest.mark.parametrize(("state", "now", "deadline", "expected"), [
    (S.STOPPED, 1.0, 100.0, (Outcome.STOPPED, "STOPPED")),
    (S.EXITED, 1.0, 100.0, (Outcome.STOPPED, "EXITED")),
    (S.FATAL, 1.0, 100.0, (Outcome.STOPPED, "FATAL")),
    (S.STOPPING, 99.0, 100.0, None),
    (S.STOPPING, 101.0, 100.0, (Outcome.TIMEOUT, "not stopped within 12s (state STOPPING)")),
    (S.RUNNING, 1e9, None, None),                                          # no deadline yet: never times out
])
def test_stop_verdict(state: ProcessState, now: float, deadline: float | None,
                      expected: tuple[Outcome, str] | None) -> None:
    assert stop_verdict(command("stop", deadline=deadline), state, now, OPTIONS) == expected


def test_budget_is_startsecs_or_stopwaitsecs_plus_the_margin() -> None:
    placement = command().placement
    assert (budget(placement, "start", OPTIONS), budget(placement, "stop", OPTIONS)) == (12.0, 12.0)
    assert budget(placement, "start", RunOptions(start_timeout=1.0)) == 3.0
