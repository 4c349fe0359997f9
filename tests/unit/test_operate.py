"""Operating by hand (pure parts): single-process placement, restart ordering, the wait_exit rerun of a
stopped application, supv wait's completeness criterion, process names, conciliation picks."""

from __future__ import annotations

import pytest

from supv_cli.errors import UsageError
from supv_cli.plan.executor import Run
from supv_cli.plan.operate import (
    conciliation_plan,
    conciliation_run,
    readiness,
    restart_plan,
    restart_run,
    restart_start,
    select_processes,
)
from supv_cli.plan.planner import Action, build_start_plan, build_stop_plan, process_plan
from supv_cli.plan.run_types import RunOptions
from supv_cli.rules.model import StartingStrategy

from .plan_helpers import S, Script, info, instances, rules_of, snapshot, status_of


def restart_applications(rules, snap, names):
    """``restart-plan NAMES``: the stop plan, the start plan made on the cluster once stopped, executed."""
    status = status_of(rules, snap)
    stop = build_stop_plan(rules, snap, status, names, "restart-plan")
    start = restart_start(rules, snap, stop,
                          lambda s, st: build_start_plan(rules, s, st, names, command="restart-plan"))
    return restart_run(rules, stop, start, RunOptions())


def restart_processes(rules, snap, processes, strategy=None):
    """``supv restart APP:PROC...``: the stop plan of the processes, then their start plan, executed."""
    stop = process_plan(rules, snap, status_of(rules, snap), "stop", processes)
    start = restart_start(rules, snap, stop, lambda s, st: process_plan(rules, s, st, "start", processes, strategy))
    return restart_run(rules, stop, start, RunOptions())

#: instances 1 and 2 share node A, 3 is alone on node B
CLUSTER = instances("1@A", "2@A", "3@B")
#: running load: instance 1: 40, 2: 10, 3: 30 -> node A 50, node B 30
LOAD = """<application name="load"><programs>
    <program name="l1"><expected_loading>40</expected_loading></program>
    <program name="l2"><expected_loading>10</expected_loading></program>
    <program name="l3"><expected_loading>30</expected_loading></program></programs></application>"""


def loaded(tmp_path, app: str, names: list[str], running: dict[str, list] | None = None):
    """Rules, snapshot and status: ``names`` known (STOPPED) everywhere, LOAD running, plus ``running``."""
    rules = rules_of(tmp_path, LOAD + app, CLUSTER)
    common = [info(n) for n in names + ["load:l1", "load:l2", "load:l3"]]
    processes = {"*": common, **{nick: [info(f"load:l{nick}", S.RUNNING)] + list((running or {}).get(nick, []))
                                 for nick in ("1", "2", "3")}}
    snap = snapshot(CLUSTER, processes)
    return rules, snap, status_of(rules, snap)


def one(plan):
    [placement] = list(plan.placements())
    return placement


P = '<application name="app"><programs><program name="p"><expected_loading>{load}</expected_loading>{ids}' \
    '</program></programs></application>'


@pytest.mark.parametrize("strategy, load, ids, local, expected", [
    ("CONFIG", 20, "", None, "1"),
    ("LESS_LOADED", 20, "", None, "2"),            # instance loads 40, 10, 30
    ("MOST_LOADED", 20, "", None, "1"),
    ("LESS_LOADED_NODE", 20, "", None, "3"),       # node loads A 50, B 30
    ("MOST_LOADED_NODE", 20, "", None, "1"),
    ("LOCAL", 20, "", "3", "3"),
    ("LOCAL", 20, "", None, None),                 # no local instance: no resource
    ("CONFIG", 60, "", None, "3"),                 # node A would reach 110: the cap skips 1 and 2
    ("LESS_LOADED", 80, "", None, None),           # over 100 everywhere
    ("CONFIG", 20, "<identifiers>3,2</identifiers>", None, "3"),
    ("CONFIG", 20, "<identifiers>ghost</identifiers>", None, None),
])
def test_single_process_placement(tmp_path, strategy, load, ids, local, expected):
    rules, snap, status = loaded(tmp_path, P.format(load=load, ids=ids), ["app:p"])
    local_one = CLUSTER.find(local) if local else None
    placement = one(process_plan(rules, snap, status, "start", {"app": ["p"]}, StartingStrategy(strategy),
                                 local_one))
    assert (placement.instance.nick if placement.instance else None) == expected
    if expected is None:
        assert placement.action is Action.NO_RESOURCE and placement.reason.startswith("No resource available")
    else:
        assert placement.action is Action.START


def test_single_process_uses_the_application_strategy_unless_given(tmp_path):
    app = ('<application name="app"><starting_strategy>MOST_LOADED_NODE</starting_strategy><programs>'
           '<program name="p"><expected_loading>5</expected_loading></program></programs></application>')
    rules, snap, status = loaded(tmp_path, app, ["app:p"])
    assert one(process_plan(rules, snap, status, "start", {"app": ["p"]})).instance.nick == "1"
    forced = process_plan(rules, snap, status, "start", {"app": ["p"]}, StartingStrategy.LESS_LOADED)
    assert one(forced).instance.nick == "2"


def test_single_process_hash_and_at(tmp_path):
    app = """<application name="m"><programs>
        <program pattern="w_"><identifiers>#,3,1</identifiers></program>
        <program pattern="d_"><identifiers>@,2,3</identifiers></program></programs></application>"""
    names = ["m:w_01", "m:w_02", "m:w_03", "m:d_00", "m:d_01", "m:d_02"]
    rules, snap, status = loaded(tmp_path, app, names)
    plan = process_plan(rules, snap, status, "start", select_processes(status, ["m:w_02", "m:w_03", "m:d_02"]))
    where = {p.process_name: p.instance.nick if p.instance else None for p in plan.placements()}
    # '#' by index over [3, 1] with roll-over; '@' one per instance, the third has none
    assert where == {"w_02": "1", "w_03": "3", "d_02": None}
    assert "'@' over 2,3 leaves no instance for d_02" in next(p.reason for p in plan.placements()
                                                              if p.process_name == "d_02")


def test_single_process_already_running_and_wait_exit(tmp_path):
    app = """<application name="app"><programs><program name="p"/>
        <program name="chk"><wait_exit>true</wait_exit></program></programs></application>"""
    rules, snap, status = loaded(tmp_path, app, ["app:p", "app:chk"],
                                 {"2": [info("app:p", S.RUNNING), info("app:chk", S.EXITED, exitstatus=0)]})
    plan = process_plan(rules, snap, status, "start", {"app": ["p", "chk"]})
    actions = {p.process_name: (p.action, p.wait_exit) for p in plan.placements()}
    # already running: left alone; an exited check is started again by an explicit start, and waited for
    assert actions == {"p": (Action.DONE, False), "chk": (Action.START, True)}


def test_select_processes(tmp_path):
    rules, snap, status = loaded(tmp_path, P.format(load=0, ids=""), ["app:p", "app:q"])
    assert select_processes(status, ["app:*", "app:p", "load:l1"]) == {"app": ["p", "q"], "load": ["l1"]}
    for bad, message in (("app", "APP:PROC"), ("nope:p", "unknown application 'nope'"),
                         ("app:zz", "unknown process 'app:zz': app has p, q")):
        with pytest.raises(UsageError, match=message):
            select_processes(status, [bad])


# ----------------------------------------------------------------------------------- restarts
APP = """<application name="app"><start_sequence>1</start_sequence><programs>
    <program name="chk"><start_sequence>1</start_sequence><wait_exit>true</wait_exit></program>
    <program name="a"><start_sequence>2</start_sequence><stop_sequence>2</stop_sequence></program>
    <program name="b"><start_sequence>2</start_sequence><stop_sequence>1</stop_sequence></program>
    </programs></application>"""
ALL = ["app:chk", "app:a", "app:b"]
UP = {"*": [info(n) for n in ALL],
      "1": [info("app:chk", S.EXITED, exitstatus=0), info("app:a", S.RUNNING), info("app:b", S.RUNNING)]}


def drive(rules, script, run, until=60.0, tick=0.25):
    now = 0.0
    while not run.finished and now < until:
        snap = script.at(now)
        requests = run.step(snap, status_of(rules, snap), now)
        for request, result in zip(requests, script.send(requests, now)):
            run.on_result(request, result, now)
        now += tick
    assert run.finished
    return run


def test_restart_plan_stops_everything_then_starts_from_scratch(tmp_path):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    script = Script(rules, snapshot(CLUSTER3, UP), {"app:chk": ("EXIT", 0.2, 0)})
    first = script.at(0.0)
    run = drive(rules, script, restart_applications(rules, first, ["app"]))
    log = [(method, namespec) for _, method, namespec, _ in script.log]
    # stop a (stop_sequence 2), then b (1, with the check, not running), start the check again, then a and b
    assert log[:2] == [("stopProcess", "app:a"), ("stopProcess", "app:b")]
    assert log[2] == ("startProcess", "app:chk")
    assert sorted(log[3:]) == [("startProcess", "app:a"), ("startProcess", "app:b")]
    times = [t for t, *_ in script.log]
    assert times[1] > times[0] and times[2] > times[1] and min(times[3:]) > times[2]
    rows = [(r["action"], r["process_name"], r["outcome"]) for r in run.report()]
    assert rows[0] == ("stop", "a", "STOPPED")
    assert sorted(rows[1:3]) == [("stop", "b", "STOPPED"), ("stop", "chk", "ALREADY")]
    assert sorted(rows[3:]) == [("start", "a", "RUNNING"), ("start", "b", "RUNNING"), ("start", "chk", "EXITED")]
    assert not run.failed() and run.kind == "restart"


def test_restart_of_a_process_stops_then_starts_it(tmp_path):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP.replace("<program name=\"a\">", "<program name=\"a\"><identifiers>1,2"
                                           "</identifiers>"), CLUSTER3)
    script = Script(rules, snapshot(CLUSTER3, UP))
    run = drive(rules, script, restart_processes(rules, script.at(0.0), {"app": ["a"]}, StartingStrategy.CONFIG))
    assert [(m, ns, nick) for _, m, ns, nick in script.log] == [("stopProcess", "app:a", "1"),
                                                               ("startProcess", "app:a", "1")]
    assert [(r["action"], r["outcome"]) for r in run.report()] == [("stop", "STOPPED"), ("start", "RUNNING")]


def test_restart_dry_run_places_the_start_on_the_stopped_cluster(tmp_path):
    app = P.format(load=60, ids="<identifiers>1,3</identifiers>")
    rules, snap, status = loaded(tmp_path, app, ["app:p"], {"3": [info("app:p", S.RUNNING)]})
    stop = process_plan(rules, snap, status, "stop", {"app": ["p"]})
    plan = restart_plan(stop, restart_start(rules, snap, stop,
                                            lambda s, st: process_plan(rules, s, st, "start", {"app": ["p"]})))
    # node B has 30 + 60 running: once p is stopped there, it fits again (node A would reach 110)
    assert [(p.action, p.instance.nick) for p in plan.placements()] == [(Action.STOP, "3"), (Action.START, "3")]


def test_single_stop_run_of_a_process_running_twice(tmp_path):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    script = Script(rules, snapshot(CLUSTER3, {**UP, "2": [info("app:a", S.RUNNING)]}))
    first = script.at(0.0)
    run = drive(rules, script, Run(rules, process_plan(rules, first, status_of(rules, first), "stop", {"app": ["a"]})))
    assert sorted(nick for *_, nick in script.log) == ["1", "2"]
    assert {r["outcome"] for r in run.report()} == {"STOPPED"}


# ----------------------------------------------------------------------------------- wait_exit rerun
@pytest.mark.parametrize("running, check_action", [
    ({"1": [info("app:chk", S.EXITED, exitstatus=0)]}, Action.START),                    # entirely stopped
    ({"1": [info("app:chk", S.EXITED, exitstatus=0), info("app:a", S.RUNNING)]}, Action.DONE),  # partly running
])
def test_run_plan_reruns_wait_exit_only_on_a_stopped_application(tmp_path, running, check_action):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    snap = snapshot(CLUSTER3, {"*": [info(n) for n in ALL], **running})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    assert {p.process_name: p.action for p in plan.placements()}["chk"] is check_action


# ----------------------------------------------------------------------------------- supv wait
@pytest.mark.parametrize("states, missing", [
    ({"app:chk": (S.EXITED, 0), "app:a": (S.RUNNING, 0), "app:b": (S.RUNNING, 0)}, []),
    # a running check with the others stopped is NOT complete
    ({"app:chk": (S.RUNNING, 0)}, ["app:chk", "app:a", "app:b"]),
    # only the check exited, everything else stopped: the application starts from scratch again
    ({"app:chk": (S.EXITED, 0)}, ["app:chk", "app:a", "app:b"]),
    ({"app:chk": (S.EXITED, 0), "app:a": (S.RUNNING, 0), "app:b": (S.STARTING, 0)}, ["app:b"]),
    ({"app:chk": (S.EXITED, 0), "app:a": (S.RUNNING, 0), "app:b": (S.FATAL, 0)}, ["app:b"]),
    ({"app:chk": (S.EXITED, 1), "app:a": (S.RUNNING, 0), "app:b": (S.RUNNING, 0)}, ["app:chk"]),  # bad code
])
def test_wait_completeness(tmp_path, states, missing):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    on_one = [info(n, state, exitstatus=code) for n, (state, code) in states.items()]
    snap = snapshot(CLUSTER3, {"*": [info(n) for n in ALL], "1": on_one})
    found = readiness(rules, snap, status_of(rules, snap))
    assert [m.namespec for m in found] == missing


def test_wait_line_of_a_check_that_exited_before_its_application_stopped(tmp_path):
    """Not "should be EXITED ...; now EXITED": the line says why an exited check is still missing."""
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    snap = snapshot(CLUSTER3, {"*": [info(n) for n in ALL], "1": [info("app:chk", S.EXITED, exitstatus=0)]})
    lines = [m.line() for m in readiness(rules, snap, status_of(rules, snap))]
    assert lines[0] == ("app:chk: should be EXITED with an expected code on 1; now EXITED from an earlier start "
                        "(its application is stopped: a run-plan runs it again)")
    assert lines[1] == "app:a: should be RUNNING on 1; now STOPPED"


def test_wait_lines_say_where_and_what_and_who_is_down(tmp_path):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP.replace('<program name="b">', '<program name="b"><identifiers>3'
                                           '</identifiers>'), CLUSTER3)
    snap = snapshot(CLUSTER3, {"*": [info(n) for n in ALL],
                               "1": [info("app:chk", S.EXITED), info("app:a", S.RUNNING)]}, unreachable=["3"])
    [b] = readiness(rules, snap, status_of(rules, snap))
    assert b.unreachable == ("3",)
    assert b.line().startswith("app:b: should be RUNNING, but no instance can take it (No resource available")
    assert b.line().endswith("now STOPPED (3 not answering)")


# ----------------------------------------------------------------------------------- conciliation
@pytest.mark.parametrize("strategy, stopped", [("infanticide", ["2", "3"]), ("senicide", ["1", "2"]),
                                               ("stop", ["1", "2", "3"])])
def test_conciliation_picks(tmp_path, strategy, stopped):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    # started at 10 on 1, 20 on 2 and 3 (same second: instance order)
    base = {"*": [info(n) for n in ALL], "1": [info("app:a", S.RUNNING, start=10.0)],
            "2": [info("app:a", S.RUNNING, start=20.0)], "3": [info("app:a", S.RUNNING, start=20.0)]}
    snap = snapshot(CLUSTER3, base)
    status = status_of(rules, snap)
    planned = conciliation_plan(rules, snap, status, [], strategy)
    assert [p.instance.nick for p in planned.placements()] == stopped
    script = Script(rules, snap)
    run = conciliation_run(rules, status, ["app:*"], strategy, RunOptions())
    assert run is not None
    drive(rules, script, run)
    assert sorted(nick for *_, nick in script.log) == stopped
    assert conciliation_run(rules, status, ["app:b"], strategy, RunOptions()) is None  # no conflict there


@pytest.mark.parametrize("namespecs, message", [
    (["other"], "unknown application other: no reachable instance has it; known: app"),
    (["app:a", "other:*"], "unknown application other"),
    (["app:nope"], "unknown process app:nope: no reachable instance has it; known: app:a, app:chk, app:b"),
])
def test_conciliate_refuses_names_that_name_nothing(tmp_path, namespecs, message):
    """As every command: an unknown name is exit 2, not an empty selection with "no conflict"."""
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    snap = snapshot(CLUSTER3, {"*": [info(n) for n in ALL], "1": [info("app:a", S.RUNNING)],
                               "2": [info("app:a", S.RUNNING)]})
    status = status_of(rules, snap)
    for attempt in (lambda: conciliation_run(rules, status, namespecs, "infanticide", RunOptions()),
                    lambda: conciliation_plan(rules, snap, status, namespecs, "infanticide")):
        with pytest.raises(UsageError, match=message):
            attempt()


def test_stop_plan_is_unchanged_by_the_placer(tmp_path):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    snap = snapshot(CLUSTER3, UP)
    plan = build_stop_plan(rules, snap, status_of(rules, snap))
    assert [(p.process_name, p.action) for p in plan.placements()] == [
        ("a", Action.STOP), ("chk", Action.DONE), ("b", Action.STOP)]


def test_interrupted_restart_never_starts(tmp_path):
    CLUSTER3 = instances("1", "2", "3")
    rules = rules_of(tmp_path, APP, CLUSTER3)
    script = Script(rules, snapshot(CLUSTER3, UP))
    snap = script.at(0.0)
    chain = restart_processes(rules, snap, {"app": ["a"]})
    requests = chain.step(snap, status_of(rules, snap), 0.0)
    for request, result in zip(requests, script.send(requests, 0.0)):
        chain.on_result(request, result, 0.0)
    chain.interrupt(0.1)                      # Ctrl-C while the stop is in progress
    assert chain.interrupted and chain.step(script.at(1.0), status_of(rules, script.at(1.0)), 1.0) == []
    assert [(m, ns) for _, m, ns, _ in script.log] == [("stopProcess", "app:a")]
    assert [(r["action"], r["outcome"]) for r in chain.report()] == [("stop", "INTERRUPTED"),
                                                                      ("start", "NOT_STARTED")]
