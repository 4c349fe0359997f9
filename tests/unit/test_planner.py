"""The planner: staged starts of behaviour spec §3.10 and the plan's decisions (pure, no network)."""

from __future__ import annotations

import pytest

from supv_cli.errors import UsageError
from supv_cli.plan.planner import Action, build_start_plan, build_stop_plan

from .plan_helpers import S, info, instances, rules_of, snapshot, status_of

CLUSTER = instances("1", "2", "3")
SVC = ["svc:a", "svc:b", "svc:c", "svc:d", "svc:e"]


def svc_rules(tmp_path, strategy: str, extra: str = "") -> str:
    programs = "".join(
        f'<program name="{name}"><start_sequence>{seq}</start_sequence><expected_loading>{load}</expected_loading>'
        "</program>" for name, seq, load in (("a", 1, 30), ("b", 1, 30), ("c", 2, 30), ("d", 2, 30), ("e", 3, 50)))
    body = (f'<application name="svc"><start_sequence>1</start_sequence><starting_strategy>{strategy}'
            f"</starting_strategy>{extra}<programs>{programs}</programs></application>")
    return rules_of(tmp_path, body, CLUSTER)


def stages_of(plan, application="svc"):
    """[[ 'a@1', 'b@1' ], ...] for one application; 'e@-' for no resource."""
    app = next(a for a in plan.applications() if a.application_name == application)
    return [[f"{p.process_name}@{p.instance.nick if p.instance else '-'}" for p in stage] for _, stage in app.stages]


@pytest.mark.parametrize("strategy, preload, expected", [
    ("CONFIG", {}, [["a@1", "b@1"], ["c@1", "d@2"], ["e@2"]]),
    ("LESS_LOADED", {}, [["a@1", "b@2"], ["c@3", "d@1"], ["e@2"]]),
    ("MOST_LOADED", {}, [["a@3", "b@3"], ["c@3", "d@2"], ["e@2"]]),
    ("LESS_LOADED", {"1": 60, "2": 10}, [["a@3", "b@2"], ["c@3", "d@2"], ["e@-"]]),
])
def test_staged_starts_of_the_spec(tmp_path, strategy, preload, expected):
    rules = svc_rules(tmp_path, strategy)
    # pre-existing load: a running program of another application with that expected_loading
    body = "".join(f'<application name="load_{n}"><programs><program name="p"><expected_loading>{load}'
                   "</expected_loading></program></programs></application>" for n, load in preload.items())
    if body:
        rules = rules_of(tmp_path, svc_rules_body(strategy) + body, CLUSTER)
    processes = {"*": [info(n) for n in SVC]}
    for nick in preload:
        processes[nick] = [info(f"load_{nick}:p", S.RUNNING)]
    snap = snapshot(CLUSTER, processes)
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    assert stages_of(plan) == expected
    if expected[-1] == ["e@-"]:
        e = list(plan.placements())[-1]
        assert e.action is Action.NO_RESOURCE
        assert "exceeds 100" in e.reason


def svc_rules_body(strategy: str) -> str:
    programs = "".join(
        f'<program name="{name}"><start_sequence>{seq}</start_sequence><expected_loading>{load}</expected_loading>'
        "</program>" for name, seq, load in (("a", 1, 30), ("b", 1, 30), ("c", 2, 30), ("d", 2, 30), ("e", 3, 50)))
    return (f'<application name="svc"><start_sequence>1</start_sequence><starting_strategy>{strategy}'
            f"</starting_strategy><programs>{programs}</programs></application>")


def test_single_instance_uses_application_identifiers_and_load(tmp_path):
    body = """<application name="svc"><start_sequence>1</start_sequence><distribution>SINGLE_INSTANCE</distribution>
        <identifiers>3,2</identifiers><starting_strategy>LESS_LOADED</starting_strategy><programs>
        <program name="a"><start_sequence>1</start_sequence><expected_loading>30</expected_loading>
            <required>true</required><wait_exit>true</wait_exit><identifiers>1</identifiers></program>
        <program name="b"><start_sequence>2</start_sequence><expected_loading>30</expected_loading></program>
        <program name="z"><expected_loading>90</expected_loading></program></programs></application>
        <application name="other"><programs><program name="p"><expected_loading>5</expected_loading></program>
        </programs></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("svc:a"), info("svc:b"), info("svc:z")], "2": [info("other:p", S.RUNNING)]})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    assert stages_of(plan) == [["a@3"], ["b@3"]]          # app load 60 -> instance 3; z (seq 0) not started
    app = next(plan.applications())
    assert "SINGLE_INSTANCE: 3 by LESS_LOADED (application load 60" in app.note


def test_single_instance_needs_every_program_known(tmp_path):
    body = """<application name="svc"><start_sequence>1</start_sequence><distribution>SINGLE_INSTANCE</distribution>
        <programs><program name="a"><start_sequence>1</start_sequence></program></programs></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"1": [info("svc:a")], "2": [info("svc:a"), info("svc:b")], "3": [info("svc:a"),
                                                                                              info("svc:b")]})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    assert stages_of(plan) == [["a@2"]]                   # instance 1 does not know svc:b


def test_single_node_keeps_the_application_on_one_host(tmp_path):
    cluster = instances("a1@N1", "a2@N1", "b1@N2")
    body = """<application name="svc"><start_sequence>1</start_sequence><distribution>SINGLE_NODE</distribution>
        <starting_strategy>LESS_LOADED</starting_strategy><programs>
        <program name="p"><start_sequence>1</start_sequence><expected_loading>40</expected_loading>
            <identifiers>a2</identifiers></program>
        <program name="q"><start_sequence>1</start_sequence><expected_loading>40</expected_loading></program>
        </programs></application>
        <application name="busy"><programs><program name="x"><expected_loading>30</expected_loading></program>
        </programs></application>"""
    rules = rules_of(tmp_path, body, cluster)
    snap = snapshot(cluster, {"*": [info("svc:p"), info("svc:q")], "b1": [info("busy:x", S.RUNNING)]})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    # node N1 (load 0) wins over N2 (30); program identifiers are ignored; both programs on N1
    assert stages_of(plan) == [["p@a1", "q@a2"]]


def test_already_running_and_exited_programs_are_left_alone(tmp_path):
    body = """<application name="svc"><start_sequence>1</start_sequence><programs>
        <program name="check"><start_sequence>1</start_sequence><wait_exit>true</wait_exit></program>
        <program name="run"><start_sequence>2</start_sequence></program>
        <program name="crashed"><start_sequence>2</start_sequence></program>
        <program name="busy"><start_sequence>2</start_sequence></program>
        <program name="waiting"><start_sequence>3</start_sequence><wait_exit>true</wait_exit></program>
        </programs></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("svc:check", S.EXITED, exitstatus=0), info("svc:run"),
                                    info("svc:crashed", S.FATAL), info("svc:busy"), info("svc:waiting")],
                              "2": [info("svc:run", S.RUNNING), info("svc:busy", S.STARTING),
                                    info("svc:waiting", S.RUNNING)]})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    actions = {p.process_name: (p.action, p.instance.nick if p.instance else None) for p in plan.placements()}
    assert actions == {"check": (Action.DONE, None), "run": (Action.DONE, "2"), "crashed": (Action.START, "1"),
                       "busy": (Action.WAIT, "2"), "waiting": (Action.WAIT, "2")}


def test_no_resource_reasons(tmp_path):
    body = """<application name="svc"><start_sequence>1</start_sequence><programs>
        <program name="nobody"><start_sequence>1</start_sequence><identifiers>ghost</identifiers></program>
        <program name="unknown"><start_sequence>1</start_sequence><identifiers>3</identifiers></program>
        <program name="down"><start_sequence>1</start_sequence><identifiers>2</identifiers></program>
        <program name="heavy"><start_sequence>1</start_sequence><expected_loading>100</expected_loading>
            <identifiers>1</identifiers></program></programs></application>
        <application name="x"><programs><program name="y"><expected_loading>1</expected_loading></program>
        </programs></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"1": [info("svc:nobody"), info("svc:unknown"), info("svc:down"), info("svc:heavy"),
                                    info("x:y", S.RUNNING)],
                              "3": [info("svc:nobody")]}, unreachable=["2"])
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    reasons = {p.process_name: p.reason for p in plan.placements()}
    assert all(p.action is Action.NO_RESOURCE for p in plan.placements())
    assert "none of ghost is a known instance" in reasons["nobody"]
    assert "no instance among 3 has this program" in reasons["unknown"]
    assert "not reachable" in reasons["down"]
    assert "load 100 exceeds 100" in reasons["heavy"]


def test_program_level_hash_assigns_per_index(tmp_path):
    body = """<application name="movies"><start_sequence>1</start_sequence><programs>
        <program pattern="movie_server_"><start_sequence>1</start_sequence><identifiers>#</identifiers></program>
        <program pattern="disk_"><start_sequence>2</start_sequence><identifiers>@,2,3</identifiers></program>
        </programs></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    names = ["movie_server_01", "movie_server_02", "movie_server_03", "movie_server_04", "disk_00", "disk_01",
             "disk_02"]
    snap = snapshot(CLUSTER, {"*": [info(f"movies:{n}") for n in names]})
    plan = build_start_plan(rules, snap, status_of(rules, snap))
    assert stages_of(plan, "movies") == [["movie_server_01@1", "movie_server_02@2", "movie_server_03@3",
                                          "movie_server_04@1"], ["disk_00@2", "disk_01@3", "disk_02@-"]]


def test_application_selection(tmp_path):
    body = """<application name="a"><start_sequence>2</start_sequence></application>
        <application name="b"><start_sequence>1</start_sequence></application>
        <application name="c"/>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("a:p"), info("b:p"), info("c:p"), info("u:p")]})
    status = status_of(rules, snap)
    plan = build_start_plan(rules, snap, status)
    assert [(seq, [a.application_name for a in apps]) for seq, apps in plan.stages] == [(1, ["b"]), (2, ["a"])]
    named = build_start_plan(rules, snap, status, ["c"])            # start_sequence 0 may be named
    assert [a.application_name for a in named.applications()] == ["c"]
    with pytest.raises(UsageError, match="unknown application nope"):
        build_start_plan(rules, snap, status, ["nope"])
    with pytest.raises(UsageError, match="u is not managed"):
        build_start_plan(rules, snap, status, ["u"])


def test_stop_plan_highest_first_on_every_running_instance(tmp_path):
    body = """<application name="a"><start_sequence>1</start_sequence><stop_sequence>1</stop_sequence><programs>
        <program name="p"><start_sequence>1</start_sequence><stop_sequence>2</stop_sequence></program>
        <program name="q"><start_sequence>1</start_sequence></program></programs></application>
        <application name="b"><stop_sequence>5</stop_sequence></application>"""
    rules = rules_of(tmp_path, body, CLUSTER)
    snap = snapshot(CLUSTER, {"*": [info("a:p"), info("a:q"), info("b:x")],
                              "1": [info("a:p", S.RUNNING), info("b:x", S.RUNNING)],
                              "2": [info("a:p", S.RUNNING)]})
    plan = build_stop_plan(rules, snap, status_of(rules, snap))
    assert [(seq, [a.application_name for a in apps]) for seq, apps in plan.stages] == [(5, ["b"]), (1, ["a"])]
    a = next(app for app in plan.applications() if app.application_name == "a")
    assert [(seq, [(p.process_name, p.action.value, p.instance.nick if p.instance else None) for p in stage])
            for seq, stage in a.stages] == [(2, [("p", "stop", "1"), ("p", "stop", "2")]), (1, [("q", "done", None)])]


def test_plan_is_deterministic(tmp_path):
    rules = svc_rules(tmp_path, "LESS_LOADED")
    snap = snapshot(CLUSTER, {"*": [info(n) for n in SVC]})
    first = build_start_plan(rules, snap, status_of(rules, snap)).to_dict()
    assert all(build_start_plan(rules, snap, status_of(rules, snap)).to_dict() == first for _ in range(5))
