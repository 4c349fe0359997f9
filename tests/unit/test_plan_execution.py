"""The run executes the Plan (issue 19): the stages ``executor.Run`` opens are those of the Plan the
planner made (the one ``--dry-run`` prints), in its order, whatever the Plan says; the instances are
built once per run, not on every step. Table-driven over plans, on the scripted cluster of the tests."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import pytest

import supv_cli.plan.executor
import supv_cli.plan.placer
from supv_cli.model.instances import InstanceList
from supv_cli.model.runs import JobStep
from supv_cli.plan.executor import Run
from supv_cli.plan.planner import build_start_plan, build_stop_plan, process_plan
from supv_cli.plan.stages import Plan

from .plan_helpers import S, Script, info, instances, rules_of, snapshot, status_of

CLUSTER = instances("1", "2", "3")
RULES = """
<application name="base"><start_sequence>1</start_sequence><stop_sequence>1</stop_sequence><programs>
  <program name="b1"><start_sequence>1</start_sequence><identifiers>2</identifiers></program>
  <program name="b2"><start_sequence>2</start_sequence><identifiers>3</identifiers></program>
</programs></application>
<application name="web"><start_sequence>2</start_sequence><stop_sequence>2</stop_sequence><programs>
  <program name="w1"><start_sequence>1</start_sequence><stop_sequence>2</stop_sequence></program>
  <program name="w2"><start_sequence>1</start_sequence><identifiers>3</identifiers></program>
  <program name="w3"><start_sequence>2</start_sequence><stop_sequence>1</stop_sequence></program>
</programs></application>
<application name="tools"><start_sequence>2</start_sequence><programs>
  <program name="t1"><start_sequence>1</start_sequence><identifiers>1</identifiers></program>
  <program name="t2"><start_sequence>3</start_sequence><identifiers>2</identifiers></program>
</programs></application>"""
NAMES = ["base:b1", "base:b2", "web:w1", "web:w2", "web:w3", "tools:t1", "tools:t2"]
#: where each process runs in the cluster a stop starts from
RUNNING_ON = {"base:b1": "2", "base:b2": "3", "web:w1": "1", "web:w2": "3", "web:w3": "1", "tools:t1": "1",
              "tools:t2": "2"}


def stopped() -> Any:
    return snapshot(CLUSTER, {"*": [info(n) for n in NAMES]})


def running() -> Any:
    return snapshot(CLUSTER, {nick: [info(n, S.RUNNING if RUNNING_ON[n] == nick else S.STOPPED) for n in NAMES]
                              for nick in ("1", "2", "3")})


def reversed_stages(plan: Plan) -> Plan:
    """The plan with its application stages in the other order, and each application's last program
    stage dropped: an order and a content the rules would not give."""
    return replace(plan, stages=tuple((sequence, tuple(replace(a, stages=a.stages[:-1]) for a in applications))
                                      for sequence, applications in reversed(plan.stages)))


Maker = Callable[[Any, Any, Any], Plan]
CASES: dict[str, tuple[Callable[[], Any], Maker]] = {
    "start all": (stopped, lambda rules, snap, status: build_start_plan(rules, snap, status)),
    "start named": (stopped, lambda rules, snap, status: build_start_plan(rules, snap, status, ["tools", "base"])),
    "stop all": (running, lambda rules, snap, status: build_stop_plan(rules, snap, status)),
    "stop named": (running, lambda rules, snap, status: build_stop_plan(rules, snap, status, ["web"])),
    "single start": (stopped, lambda rules, snap, status: process_plan(rules, snap, status, "start",
                                                                        {"web": ["w3", "w1"], "base": ["b2"]})),
    "single stop": (running, lambda rules, snap, status: process_plan(rules, snap, status, "stop",
                                                                       {"tools": ["t2", "t1"]})),
    "edited start": (stopped, lambda rules, snap, status: reversed_stages(build_start_plan(rules, snap, status))),
    "edited stop": (running, lambda rules, snap, status: reversed_stages(build_stop_plan(rules, snap, status))),
}


def execute(rules: Any, script: Script, run: Run, until: float = 100.0, tick: float = 0.25) -> list[Any]:
    """Drive ``run`` to its end over the scripted cluster; return its events."""
    now, events = 0.0, []
    while not run.finished and now < until:
        snap = script.at(now)
        requests = run.step(snap, status_of(rules, snap), now)
        for request, result in zip(requests, script.send(requests, now)):
            run.on_result(request, result, now)
        events += run.drain_events()
        now += tick
    assert run.finished
    return events


@pytest.mark.parametrize("case", list(CASES))
def test_the_run_opens_the_stages_of_its_plan_in_its_order(tmp_path, case):
    first, make = CASES[case]
    rules = rules_of(tmp_path, RULES, CLUSTER)
    snap = first()
    plan = make(rules, snap, status_of(rules, snap))
    run = Run(rules, plan)
    script = Script(rules, snap)
    events = execute(rules, script, run)
    # each application opens the program stages of the plan, in its order, and nothing else
    opened: dict[str, list[tuple[int, list[str]]]] = {}
    for event in events:
        if event.kind == "stage":
            words, _, names = event.message.partition(": ")
            opened.setdefault(event.application, []).append((int(words.split()[-1]), names.split(", ")))
    assert opened == {a.application_name: a.program_stages() for a in plan.applications() if a.stages}
    # an application stage opens once the one before it is done
    stage_of = {a.application_name: index for index, (_, stage) in enumerate(plan.stages) for a in stage}
    order = [stage_of[event.application] for event in events if event.kind == "stage"]
    assert order == sorted(order)
    # what was sent: the plan's actions, on the plan's instances (the cluster did what the plan expected)
    sent = sorted((namespec, nick) for _, _, namespec, nick in script.log)
    planned = sorted((p.namespec, p.instance.nick) for p in plan.placements()
                     if p.instance is not None and p.action.value in ("start", "stop"))
    assert sent == planned
    assert run.kind == plan.kind and not run.failed()


def test_the_instances_are_built_once_per_run(tmp_path, monkeypatch):
    """A run builds its InstanceList once, from its first snapshot (it built one on every step)."""
    built: list[int] = []

    class Counted(InstanceList):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(1)
            super().__init__(*args, **kwargs)

    rules = rules_of(tmp_path, RULES, CLUSTER)
    snap = stopped()
    run = Run(rules, build_start_plan(rules, snap, status_of(rules, snap)))
    monkeypatch.setattr(supv_cli.plan.placer, "InstanceList", Counted)
    monkeypatch.setattr(supv_cli.plan.executor, "InstanceList", Counted)
    script = Script(rules, snap)
    steps = 0
    now = 0.0
    while not run.finished:
        snap = script.at(now)
        requests = run.step(snap, status_of(rules, snap), now)
        for request, result in zip(requests, script.send(requests, now)):
            run.on_result(request, result, now)
        steps += 1
        now += 0.25
    assert steps > 10 and len(built) == 1


@pytest.mark.parametrize("step, applications, expected", [
    ((JobStep.START, None), ("web", "gone", "base"), ("start", [(1, ["base"]), (2, ["web"])], False)),
    ((JobStep.STOP, None), ("base", "web"), ("stop", [(2, ["web"]), (1, ["base"])], False)),
    ((JobStep.START, {"web": ["w3", "nope"], "gone": ["x"]}), ("web", "gone"), ("start", [(0, ["web"])], True)),
])
def test_a_controller_step_executes_the_plan_of_its_applications(tmp_path, step, applications, expected):
    """The controller's job steps run the planner's Plan: its applications the status still knows, in
    the rules' stages; single processes (a RESTART_PROCESS) in one stage, wait_exit treated as any program."""
    from supv_cli.controller.jobs import step_plan

    rules = rules_of(tmp_path, RULES, CLUSTER)
    snap = stopped() if step[0] == "start" else running()
    plan = step_plan(rules, snap, status_of(rules, snap), step, applications)
    kind, stages, single = expected
    assert (plan.kind, [(seq, [a.application_name for a in apps]) for seq, apps in plan.stages], plan.single) \
        == (kind, stages, single)
    if single:
        assert [p.namespec for p in plan.placements()] == ["web:w3"] and not plan.wait_exit
    run = Run(rules, plan)
    assert [(seq, [job.name for job in jobs]) for seq, jobs in run.app_stages] == stages
