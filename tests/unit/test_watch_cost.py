"""What keeps watching cheap, as pure parts: the fast parser of supervisord's answers, the worker
threads kept between fan-outs, what the controller asks per cycle, and no re-evaluation of unchanged
answers. The network side is in tests/integration/test_polling.py; the figures in bench/idle_cost.py."""

from __future__ import annotations

import threading
import xmlrpc.client
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from supv_cli.cluster import workers
from supv_cli.cluster.polling import same_answers
from supv_cli.cluster.rpcparse import _flat_structs, _Unsupported, parse_response
from supv_cli.controller.evidence import Evidence
from supv_cli.controller.pacing import (
    FULL_EVERY,
    PROBE_EVERY,
    STANDBY_FULL_EVERY,
    Evaluations,
    full_this_cycle,
    paced_snapshots,
    probes_this_cycle,
)
from supv_cli.model.snapshot import Snapshot, Unreachable

from .plan_helpers import S, info, instances, rules_of, snapshot

PROCESS = {"name": "p00", "group": "g0", "start": 1700000000, "stop": 0, "now": 1700001000, "state": 20,
           "statename": "RUNNING", "spawnerr": "", "exitstatus": 0, "logfile": "/tmp/p00.log",
           "stdout_logfile": "/tmp/p00.log", "stderr_logfile": "", "pid": 12345,
           "description": "pid 12345, uptime 0:16:40"}

# answers the fast path reads itself: it must give exactly what xmlrpc.client gives
FAST: list[Any] = [
    [PROCESS, {**PROCESS, "name": "p01", "state": 100, "statename": "EXITED", "exitstatus": 3}],
    [],
    [{}],
    [{"text": "accents é ü", "flag": True, "off": False, "ratio": 2.5, "empty": "", "negative": -7}],
    [{"a": 1}] * 50,
]
# answers it must leave to the full parsers (which still read them exactly as xmlrpc.client)
SLOW: list[Any] = [
    [{"exitcodes": [0, 2]}],                   # a nested array (getAllConfigInfo)
    [{"nested": {"x": 1}}],                    # a nested struct
    [{"text": "a <b> & c"}],                   # entities
    [{"text": "line\r\nnext"}],                # a CR, which XML turns into LF
    [1, 2, 3],                                 # an array of scalars
    {"statecode": 1, "statename": "RUNNING"},  # a struct alone (getState)
]


@pytest.mark.parametrize("value", FAST, ids=range(len(FAST)))
def test_flat_structs_read_fast_as_xmlrpc_does(value: Any) -> None:
    data = xmlrpc.client.dumps((value,), methodresponse=True).encode()
    assert _flat_structs(data) == xmlrpc.client.loads(data)[0][0]
    assert parse_response(data) == xmlrpc.client.loads(data)[0]


@pytest.mark.parametrize("value", SLOW, ids=range(len(SLOW)))
def test_other_answers_are_left_to_the_full_parsers(value: Any) -> None:
    data = xmlrpc.client.dumps((value,), methodresponse=True).encode()
    with pytest.raises(_Unsupported):
        _flat_structs(data)
    assert parse_response(data) == xmlrpc.client.loads(data)[0]


def test_untyped_and_bad_values() -> None:
    head = b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
    tail = b"</data></array></value></param></params></methodResponse>"
    untyped = head + b"<value><struct><member><name>a</name><value>plain</value></member></struct></value>" + tail
    assert parse_response(untyped) == ([{"a": "plain"}],)
    bad_int = head + b"<value><struct><member><name>a</name><value><int>x</int></value></member></struct></value>" \
        + tail
    with pytest.raises(ValueError):  # the full parsers say what is wrong, as xmlrpc.client would
        parse_response(bad_int)


def test_workers_run_everything_even_when_one_is_stuck() -> None:
    release = threading.Event()
    done: list[int] = []
    lock = threading.Lock()
    finished = threading.Semaphore(0)
    workers.submit(lambda: release.wait(10))  # a worker stuck on a hung instance

    def task(number: int) -> None:
        with lock:
            done.append(number)
        finished.release()

    for number in range(20):
        workers.submit(lambda number=number: task(number))  # type: ignore[misc]
    assert all(finished.acquire(timeout=5) for _ in range(20))
    assert sorted(done) == list(range(20))
    release.set()


def due_of(ages: dict[str, float]) -> Any:
    """``Poller.due`` over fixed ages of the last full answers."""
    return lambda period: {nick for nick, age in ages.items() if age >= period}


AGES = {"s1": 0.6, "s2": 2.5, "s3": 12.0, "c1": 3.0}
# (acting, busy, leader) -> the instances asked in full (None: all); the others are only watched
CYCLES = [
    ((True, True, None), None),                           # a job in flight: everything, every cycle
    ((True, False, None), {"s2", "s3", "c1"}),            # idle: each every FULL_EVERY
    ((False, False, "s1"), {"s3"}),                       # standby: each every STANDBY_FULL_EVERY...
    ((False, False, "s2"), {"s2", "s3"}),                 # ... the leader's every FULL_EVERY
    ((False, False, None), None),                         # no leader known: everything
]


@pytest.mark.parametrize(("role", "expected"), CYCLES, ids=[str(c[0]) for c in CYCLES])
def test_what_each_cycle_asks_in_full(role: tuple[bool, bool, str | None], expected: set[str] | None) -> None:
    acting, busy, leader = role
    assert PROBE_EVERY < FULL_EVERY < STANDBY_FULL_EVERY
    assert full_this_cycle(acting, busy, leader, due_of(AGES)) == expected


def test_only_the_acting_controller_probes_between_full_answers() -> None:
    ages = {"s1": 0.4, "s2": 1.2, "s3": 0.0}  # since each last answered anything
    assert probes_this_cycle(True, due_of(ages)) == {"s2"}
    assert probes_this_cycle(False, due_of(ages)) == set()


def test_unchanged_answers_are_not_evaluated_again(tmp_path: Any) -> None:
    cluster = instances("s1", "s2")
    rules = rules_of(tmp_path, '<application name="app"><programs><program name="p"><start_sequence>1'
                               '</start_sequence></program></programs></application>', cluster)
    first = snapshot(cluster, {"s1": [info("app:p", S.RUNNING, start=1.0)], "s2": [info("app:p")]})
    evaluations = Evaluations(rules)
    status = evaluations(first, set())
    again = Snapshot(first.instances, taken_at=first.taken_at + 0.5)  # the poller's very same answers
    assert same_answers(first, again)
    assert evaluations(again, set()) is status
    assert evaluations(again, {"s2"}) is not status  # a loss is a change
    equal_copy = snapshot(cluster, {"s1": [info("app:p", S.RUNNING, start=1.0)], "s2": [info("app:p")]})
    assert not same_answers(first, equal_copy)  # only identity tells "unchanged": no deep comparison
    changed = snapshot(cluster, {"s1": [info("app:p", S.EXITED, start=1.0, stop=2.0)], "s2": [info("app:p")]})
    assert evaluations(changed, set()).applications["app"] != status.applications["app"]


class ScriptedPoller:
    """What paced_snapshots needs of a Poller, over a scripted cluster: ``silent`` instances time out;
    each poll records which instances it asked (the ones a real poll would wait for)."""

    def __init__(self, nicks: tuple[str, ...], silent: set[str]) -> None:
        self.cluster = instances(*nicks)
        self.silent = silent
        self.asked: list[set[str]] = []

    def due(self, period: float, full: bool = True) -> set[str]:
        return {i.nick for i in self.cluster}

    def poll(self, full: Any = None, probe: Any = (), skip: Any = ()) -> Snapshot:
        self.asked.append({i.nick for i in self.cluster} - set(skip))
        taken = snapshot(self.cluster, {})
        return Snapshot(tuple(replace(s, state="UNREACHABLE", reason="timeout", error_kind=Unreachable.TIMEOUT)
                              if s.instance.nick in self.silent else s for s in taken.instances))


def test_a_standby_does_not_wait_twice_in_one_cycle_for_a_silent_leader() -> None:
    # the leader's instance misses a poll: the standby asks everyone again at once (fresh answers before
    # it may take over), but not the leader's instance, whose timeout it has just waited: one timeout
    # per cycle, so a frozen leader is taken over one timeout sooner per cycle
    poller = ScriptedPoller(("s1", "s2", "s3"), silent={"s1"})
    standby = SimpleNamespace(acting=False, leader="s1", jobs=[], evidence=Evidence(), guarded=None, successor=True)
    taken = paced_snapshots(standby, poller)()  # type: ignore[arg-type]
    assert [sorted(asked) for asked in poller.asked] == [["s1", "s2", "s3"], ["s2", "s3"]]
    assert not next(s for s in taken.instances if s.instance.nick == "s1").reachable
    poller.silent, poller.asked = set(), []
    paced_snapshots(standby, poller)()  # type: ignore[arg-type]
    assert len(poller.asked) == 1   # the leader answers: one poll
