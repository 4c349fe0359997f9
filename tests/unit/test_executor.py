"""The executor's state machine (pure): stages, completion rules (§3.5), failure strategies (§3.6),
deadlines, lost instances. Snapshots come from a scripted model of supervisord's process states."""

from __future__ import annotations

import pytest

from supv_cli.cluster.client import CallError
from supv_cli.model.snapshot import Unreachable
from supv_cli.plan.executor import Run
from supv_cli.plan.planner import build_start_plan, build_stop_plan
from supv_cli.plan.run_types import RunOptions

from .plan_helpers import S, Script, info, instances, rules_of, snapshot, status_of

CLUSTER = instances("1", "2", "3")


def planned(rules, snap, kind="start", names=(), options=None) -> Run:
    """The run of the plan the planner makes from ``snap`` (what ``--dry-run`` prints)."""
    options = options or RunOptions()
    status = status_of(rules, snap)
    plan = build_start_plan(rules, snap, status, names, options.local) if kind == "start" else \
        build_stop_plan(rules, snap, status, names)
    return Run(rules, plan, options)


def run_script(rules, script: Script, kind="start", names=(), options=None, until=200.0, tick=0.25,
               events=None):
    """Drive a Run with a fake clock; return (run, script)."""
    now = 0.0
    run = planned(rules, script.at(now), kind, names, options)
    while not run.finished and now < until:
        snap = script.at(now)
        requests = run.step(snap, status_of(rules, snap), now)
        if requests:
            for request, result in zip(requests, script.send(requests, now)):
                run.on_result(request, result, now)
        if events is not None:
            events.extend(run.drain_events())
        now += tick
    return run


APP = """<application name="app"><start_sequence>1</start_sequence>
    <starting_failure_strategy>{strategy}</starting_failure_strategy><programs>
    <program name="a"><start_sequence>1</start_sequence><required>true</required></program>
    <program name="b"><start_sequence>1</start_sequence></program>
    <program name="c"><start_sequence>2</start_sequence></program>
    <program name="w"><start_sequence>3</start_sequence><wait_exit>true</wait_exit></program>
    <program name="d"><start_sequence>4</start_sequence></program>
    </programs></application>"""
NAMES = ["app:a", "app:b", "app:c", "app:w", "app:d"]


def base(startsecs=1, extra=()):
    return snapshot(CLUSTER, {"*": [info(n, startsecs=startsecs) for n in NAMES] + list(extra)})


def outcomes(run):
    return {(r["process_name"]): r["outcome"] for r in run.report()}


def test_stages_in_order_and_completion_rules(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    script = Script(rules, base(), {"app:w": ("EXIT", 0.5, 0)})
    run = run_script(rules, script)
    assert outcomes(run) == {"a": "RUNNING", "b": "RUNNING", "c": "RUNNING", "w": "EXITED", "d": "RUNNING"}
    starts = {namespec: t for t, method, namespec, _ in script.log}
    # no stage starts before the previous one is done (startsecs 1, w exits 0.5 s after RUNNING)
    assert starts["app:a"] == starts["app:b"] == 0
    assert 1 <= starts["app:c"] < 1.5
    assert starts["app:w"] >= starts["app:c"] + 1
    assert starts["app:d"] >= starts["app:w"] + 1.5
    assert not run.failed()


@pytest.mark.parametrize("strategy, expected", [
    ("ABORT", {"a": "FAILED", "b": "RUNNING", "c": "NOT_STARTED", "w": "NOT_STARTED", "d": "NOT_STARTED"}),
    ("CONTINUE", {"a": "FAILED", "b": "RUNNING", "c": "RUNNING", "w": "EXITED", "d": "RUNNING"}),
    ("STOP", {"a": "FAILED", "b": "RUNNING", "c": "NOT_STARTED", "w": "NOT_STARTED", "d": "NOT_STARTED",
              "stop b": "STOPPED", "stop a": "ALREADY"}),
])
def test_starting_failure_strategies(tmp_path, strategy, expected):
    rules = rules_of(tmp_path, APP.format(strategy=strategy), CLUSTER)
    script = Script(rules, base(), {"app:a": ("FATAL", 0.5), "app:w": ("EXIT", 0.2, 0)})
    run = run_script(rules, script)
    got = {}
    for row in run.report():
        key = row["process_name"] if row["action"] in ("start", "wait") else f"stop {row['process_name']}"
        got.setdefault(key, row["outcome"])
    assert {k: v for k, v in got.items() if k in expected} == expected
    assert run.failed()
    stops = [n for _, m, n, _ in script.log if m == "stopProcess"]
    assert stops == (["app:b"] if strategy == "STOP" else [])


def test_optional_failure_does_not_stop_the_application(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    script = Script(rules, base(), {"app:b": ("FATAL", 0.5), "app:w": ("EXIT", 0.2, 0)})
    run = run_script(rules, script)
    assert outcomes(run) == {"a": "RUNNING", "b": "FAILED", "c": "RUNNING", "w": "EXITED", "d": "RUNNING"}


@pytest.mark.parametrize("script_outcome, outcome, detail", [
    (("EXIT", 0.2, 3), "FAILED", "exited with code 3 (not in exitcodes)"),
    (("HANG",), "TIMEOUT", "no RUNNING within 3s"),
    (("RUNNING",), "TIMEOUT", "no exit within 4s of RUNNING"),        # a wait_exit program that never exits
])
def test_wait_exit_failures_and_deadlines(tmp_path, script_outcome, outcome, detail):
    rules = rules_of(tmp_path, APP.format(strategy="CONTINUE"), CLUSTER)
    script = Script(rules, base(), {"app:w": script_outcome})
    run = run_script(rules, script, options=RunOptions(start_timeout=2, exit_timeout=4))
    row = next(r for r in run.report() if r["process_name"] == "w")
    assert row["outcome"] == outcome
    assert detail in row["detail"]
    assert outcomes(run)["d"] == "RUNNING"          # CONTINUE


def test_timeout_of_a_required_program_applies_its_strategy(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    script = Script(rules, base(), {"app:a": ("HANG",)})
    run = run_script(rules, script, options=RunOptions(start_timeout=2))
    assert outcomes(run)["a"] == "TIMEOUT"
    assert outcomes(run)["c"] == "NOT_STARTED"


def test_lost_instance_during_a_stage(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="CONTINUE"), CLUSTER)
    script = Script(rules, base(startsecs=3), {"app:w": ("EXIT", 0.2, 0)})
    now, events = 0.0, []
    run = planned(rules, script.at(0))
    while not run.finished and now < 60:
        if now >= 1.0:
            script.down.add("1")         # instance 1 dies while a and b are STARTING there
        snap = script.at(now)
        requests = run.step(snap, status_of(rules, snap), now)
        for request, result in zip(requests, script.send(requests, now)):
            run.on_result(request, result, now)
        events.extend(run.drain_events())
        now += 0.25
    got = outcomes(run)
    assert got["a"] == "LOST" and got["b"] == "LOST"
    # CONTINUE: the next stages go on, on the instances left
    assert got["c"] == "RUNNING"
    c_row = next(r for r in run.report() if r["process_name"] == "c")
    assert c_row["instance"] in ("2", "3")


def test_already_running_programs_are_not_restarted(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    running = snapshot(CLUSTER, {"*": [info(n) for n in NAMES],
                                 "2": [info("app:a", S.RUNNING), info("app:b", S.RUNNING), info("app:c", S.RUNNING),
                                       info("app:w", S.EXITED, exitstatus=0, stop=100.0), info("app:d", S.RUNNING)]})
    script = Script(rules, running)
    run = run_script(rules, script)
    assert script.log == []
    assert set(outcomes(run).values()) == {"ALREADY"}


def test_application_stages_wait_for_each_other(tmp_path):
    body = """<application name="first"><start_sequence>1</start_sequence><programs>
        <program name="p"><start_sequence>1</start_sequence></program></programs></application>
        <application name="second"><start_sequence>2</start_sequence><programs>
        <program name="p"><start_sequence>1</start_sequence></program></programs></application>
        <application name="also_first"><start_sequence>1</start_sequence><programs>
        <program name="p"><start_sequence>1</start_sequence></program></programs></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("first:p", startsecs=2), info("second:p"), info("also_first:p")]})
    script = Script(rules, snap)
    run_script(rules, script)
    starts = {namespec: t for t, _, namespec, _ in script.log}
    assert starts["first:p"] == starts["also_first:p"] == 0      # same start_sequence: in parallel
    assert starts["second:p"] >= 2                              # after the slower one of stage 1


def test_refused_start_and_already_started(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="CONTINUE"), CLUSTER)
    snap = base()
    run = planned(rules, snap)
    requests = run.step(snap, status_of(rules, snap), 0.0)
    a, b = requests
    run.on_result(a, CallError(a.instance, Unreachable.FAULT, "fault: NO_FILE: /bin/nothing", 20), 0.0)
    run.on_result(b, CallError(b.instance, Unreachable.FAULT, "fault: ALREADY_STARTED: app:b", 60), 0.0)
    got = {r["process_name"]: (r["outcome"], r["detail"]) for r in run.report()}
    assert got["a"] == ("FAILED", "refused by supervisord: fault: NO_FILE: /bin/nothing")
    assert got["b"][0] == "IN_PROGRESS"


@pytest.mark.parametrize("later_state, outcome, detail", [
    # supervisord retried (startretries) and the second spawn stayed up: a success, as for Supvisors
    (S.RUNNING, "RUNNING", "RUNNING"),
    # retries exhausted: the failure comes from the state, with supervisord's reason
    (S.FATAL, "FAILED", "FATAL: Exited too quickly (process log may have details)"),
])
def test_spawn_error_leaves_the_verdict_to_the_process_state(tmp_path, later_state, outcome, detail):
    """SPAWN_ERROR from startProcess(wait=False) means the child died before the call returned (a race
    with supervisord's reap); supervisord then puts it in BACKOFF and retries it, so it is no failure yet."""
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    snap = base()
    run = planned(rules, snap)
    a, b = run.step(snap, status_of(rules, snap), 0.0)
    run.on_result(a, CallError(a.instance, Unreachable.FAULT, "fault: SPAWN_ERROR: app:a", 50), 0.0)
    run.on_result(b, True, 0.0)
    reason = "Exited too quickly (process log may have details)"
    for now, state in ((0.5, S.BACKOFF), (1.5, S.STARTING), (3.0, later_state)):
        states = {"app:a": state, "app:b": S.RUNNING if now > 1 else S.STARTING}
        snap = snapshot(CLUSTER, {a.instance.nick: [info(n, states.get(n, S.STOPPED),
                                                         spawnerr=reason if n == "app:a" else "")
                                                    for n in NAMES]},)
        run.step(snap, status_of(rules, snap), now)
    got = {r["process_name"]: (r["outcome"], r["detail"]) for r in run.report()}
    assert got["a"] == (outcome, detail)
    assert got["c"][0] == ("IN_PROGRESS" if outcome == "RUNNING" else "NOT_STARTED")


def test_interrupt_reports_what_was_done(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    snap = base()
    run = planned(rules, snap)
    for request in run.step(snap, status_of(rules, snap), 0.0):
        run.on_result(request, True, 0.0)
    run.interrupt(0.5)
    got = outcomes(run)
    assert got == {"a": "INTERRUPTED", "b": "INTERRUPTED", "c": "NOT_STARTED", "w": "NOT_STARTED",
                   "d": "NOT_STARTED"}
    assert run.step(snap, status_of(rules, snap), 1.0) == []


def test_stop_run_in_reverse_order(tmp_path):
    rules = rules_of(tmp_path, APP.format(strategy="ABORT"), CLUSTER)
    running = snapshot(CLUSTER, {"*": [info(n) for n in NAMES],
                                 "1": [info("app:a", S.RUNNING), info("app:d", S.RUNNING)],
                                 "3": [info("app:c", S.RUNNING), info("app:d", S.RUNNING)]})
    script = Script(rules, running)
    run = run_script(rules, script, kind="stop")
    order = [(namespec, nick) for _, _, namespec, nick in script.log]
    assert order == [("app:d", "1"), ("app:d", "3"), ("app:c", "3"), ("app:a", "1")]
    assert outcomes(run)["d"] == "STOPPED"


REQUIRED = """<application name="app"><start_sequence>1</start_sequence>
    <starting_failure_strategy>ABORT</starting_failure_strategy><programs>
    <program name="a"><start_sequence>1</start_sequence><required>true</required></program>
    <program name="b"><start_sequence>1</start_sequence></program>
    <program name="c"><start_sequence>2</start_sequence><required>true</required></program>
    <program name="w"><start_sequence>3</start_sequence><wait_exit>true</wait_exit></program>
    <program name="d"><start_sequence>4</start_sequence><required>true</required></program>
    </programs></application>"""


def test_rows_never_reached_say_the_rules_required_value(tmp_path):
    """Issue 17 item 4: an interrupted run's NOT_STARTED rows say ``required`` as the rules (and the dry
    run) do, not False."""
    rules = rules_of(tmp_path, REQUIRED, CLUSTER)
    snap = base()
    run = planned(rules, snap)
    for request in run.step(snap, status_of(rules, snap), 0.0):
        run.on_result(request, True, 0.0)
    run.interrupt(0.5)
    required = {row["process_name"]: (row["outcome"], row["required"]) for row in run.report()}
    assert required == {"a": ("INTERRUPTED", True), "b": ("INTERRUPTED", False), "c": ("NOT_STARTED", True),
                        "w": ("NOT_STARTED", False), "d": ("NOT_STARTED", True)}


def test_the_abort_summary_names_what_was_not_started(tmp_path):
    rules = rules_of(tmp_path, REQUIRED, CLUSTER)
    script = Script(rules, base(), {"app:a": ("FATAL", 0.5), "app:w": ("EXIT", 0.2, 0)})
    events: list = []
    run = run_script(rules, script, events=events)
    rows = {row["process_name"]: row for row in run.report()}
    assert (rows["c"]["outcome"], rows["c"]["required"], rows["c"]["detail"]) == (
        "NOT_STARTED", True, "required a failed (ABORT)")
    summary = [event.message for event in events if "finished" in event.message]
    assert summary == ["start finished: 1 FAILED, 1 RUNNING (required a failed (ABORT); not started: c, w, d)"]
