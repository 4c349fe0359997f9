"""start_any_process's pick and all_start's targets over simulated clusters, reload's pure helpers."""

from __future__ import annotations

import pytest

from supv_cli.cli.supervisord_control import last_start, stop_budget
from supv_cli.errors import UsageError
from supv_cli.plan.anywhere import all_start_targets, pick_any, start_outcome
from tests.unit.plan_helpers import S, info, instances, rules_of, snapshot, status_of

RULES = """
<application name="work"><programs>
  <program pattern="worker_"><identifiers>a,b</identifiers><start_sequence>1</start_sequence>
    <expected_loading>60</expected_loading></program>
</programs></application>
<application name="mon"><programs><program name="mon"><identifiers>a,c</identifiers></program></programs>
</application>
"""
WORKERS = [info(f"work:worker_{n}") for n in (1, 2, 3)]


@pytest.fixture
def cluster(tmp_path):
    inst = instances("a", "b", "c")
    return inst, rules_of(tmp_path, RULES, inst)


@pytest.mark.parametrize("running, regexes, expected", [
    ({}, ["worker_"], ["work:worker_1"]),                                  # the first match, in order
    ({"work:worker_1": "a"}, ["worker_"], ["work:worker_2"]),              # a running one is skipped
    ({}, ["worker_", "worker_"], ["work:worker_1", "work:worker_2"]),      # distinct picks
    ({}, ["worker_[23]$"], ["work:worker_2"]),                             # re.search on the namespec
    ({}, ["^work:", "^work:", "^work:"], ["work:worker_1", "work:worker_2", None]),  # a and b full at 60 %
    ({}, ["nothing"], [None]),
    ({"work:worker_1": "a", "work:worker_2": "b", "work:worker_3": "a"}, ["worker"], [None]),
])
def test_pick_any(cluster, running, regexes, expected):
    inst, rules = cluster
    infos = {nick: [info(n, S.RUNNING, pid=1) if running.get(n) == nick else info(n) for n in
                    [w.namespec for w in WORKERS] + ["mon:mon"]] for nick in ("a", "b", "c")}
    snap = snapshot(inst, infos)
    picks = pick_any(rules, snap, status_of(rules, snap), regexes)
    assert [p.namespec for p in picks] == expected
    assert all(p.reason for p in picks if p.namespec is None)


def test_pick_any_refuses_a_bad_regex(cluster):
    inst, rules = cluster
    snap = snapshot(inst, {"*": WORKERS})
    with pytest.raises(UsageError, match="not a regular expression"):
        pick_any(rules, snap, status_of(rules, snap), ["work:("])


@pytest.mark.parametrize("with_rules, running_on, expected", [
    (True, "", ["a", "c"]),          # the rules allow a and c
    (True, "a", ["c"]),              # not where it runs
    (False, "", ["a", "b", "c"]),    # without rules: every instance that has it
])
def test_all_start_targets(cluster, with_rules, running_on, expected):
    inst, rules = cluster
    snap = snapshot(inst, {nick: [info("mon:mon", S.RUNNING if nick == running_on else S.STOPPED, pid=1)]
                           for nick in ("a", "b", "c")})
    status = status_of(rules if with_rules else None, snap)
    process = status.processes["mon:mon"]
    assert [i.nick for i, _ in all_start_targets(status, process, rules if with_rules else None)] == expected


@pytest.mark.parametrize("state, fields, expected", [
    (S.STARTING, {}, None),
    (S.BACKOFF, {}, None),
    (S.RUNNING, {"pid": 42}, ("RUNNING", "pid 42")),
    (S.EXITED, {"exitstatus": 0}, ("EXITED", "exited with expected code 0")),
    (S.EXITED, {"exitstatus": 3}, ("FAILED", "EXITED")),
    (S.FATAL, {"spawnerr": "no such file"}, ("FAILED", "FATAL: no such file")),
])
def test_start_outcome(state, fields, expected):
    assert start_outcome(info("mon:mon", state, **fields)) == expected
    assert start_outcome(None) == ("FAILED", "no longer configured there")


@pytest.mark.parametrize("running, expected", [
    ([], 0.0),
    ([("g", 5), ("g", 10)], 10.0),            # one group: its longest
    ([("g", 5), ("h", 10), ("h", 1)], 15.0),  # groups one after the other
])
def test_stop_budget(running, expected):
    processes = [info(f"{group}:p{n}", S.RUNNING, stopwaitsecs=wait) for n, (group, wait) in enumerate(running)]
    processes.append(info("z:stopped", S.STOPPED, stopwaitsecs=100))   # what does not run costs nothing
    assert stop_budget(processes) == expected


@pytest.mark.parametrize("log, expected", [
    (None, None),
    ("", None),
    ("2026-12-07 14:00:00,001 INFO RPC interface 'supervisor' initialized\n", None),
    ("2026-12-07 14:00:00,001 INFO supervisord started with pid 7\nx\n"
     "2026-12-07 14:01:00,002 INFO supervisord started with pid 7\n",
     "2026-12-07 14:01:00,002 INFO supervisord started with pid 7"),
])
def test_last_start(log, expected):
    assert last_start(log) == expected


LIGHT = """
<application name="work"><starting_strategy>CONFIG</starting_strategy><programs>
  <program pattern="worker_"><identifiers>a,b</identifiers><start_sequence>1</start_sequence>
    <expected_loading>10</expected_loading></program>
</programs></application>
"""


@pytest.mark.parametrize("strategy, expected", [
    (None, ["a", "a", "a"]),                       # the application's CONFIG: the first with room
    ("LESS_LOADED", ["a", "b", "a"]),              # --strategy (start_application LESS_LOADED work)
])
def test_run_plan_strategy_reaches_the_placement(tmp_path, strategy, expected):
    from supv_cli.plan.planner import build_start_plan
    from supv_cli.rules.model import StartingStrategy

    inst = instances("a", "b")
    rules = rules_of(tmp_path, LIGHT, inst)
    snap = snapshot(inst, {"*": WORKERS})
    plan = build_start_plan(rules, snap, status_of(rules, snap), ["work"], None,
                            StartingStrategy(strategy) if strategy else None)
    (application,) = plan.applications()
    assert application.strategy.value == (strategy or "CONFIG")
    assert [p.instance.nick for p in application.placements()] == expected


def test_run_plan_refuses_strategy_with_watch():
    from tests.support.cli import run_supv

    result = run_supv("run-plan", "-i", "127.0.0.1:1", "--watch", "--strategy", "CONFIG")
    assert result.exit_code == 2 and "--watch and --strategy" in result.stderr
