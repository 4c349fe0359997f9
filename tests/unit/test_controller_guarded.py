"""The acting controller probes every second only the instances whose loss it would act on (issue 18, idle
cost): ``recovery.guarded``, ``Controller.guarded`` and the pacing's lazy probes (``IDLE_PROBE_EVERY``);
only the leader's successor watches the leader's instance closely (``Controller.successor``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supv_cli.controller.core import Controller
from supv_cli.controller.pacing import (
    FULL_EVERY,
    IDLE_PROBE_EVERY,
    PROBE_EVERY,
    SAFETY_EVERY,
    STANDBY_FULL_EVERY,
    STANDBY_IDLE_EVERY,
    STANDBY_SAFETY_EVERY,
    at_rest,
    full_this_cycle,
    probes_this_cycle,
)
from supv_cli.controller.recovery import guarded
from supv_cli.rules import load_rules
from supv_cli.status import evaluate
from tests.support.controlled import RULES

from .paced_cluster import PacedCluster
from .plan_helpers import S, info, snapshot
from .test_controller_rest import INTERVAL, StubPoller, controller
from .test_controller_safety import CLUSTER, OPTIONS, Cluster, cluster

BASE = [info(ns) for ns in ("srv:svc_a", "srv:svc_b", "cfg:p", "bus:bus")]


def rules_with(tmp_path: Path, cfg_strategy: str) -> Any:
    path = tmp_path / "rules.xml"
    path.write_text(RULES.format(cfg_strategy=cfg_strategy))
    return load_rules([str(path)], CLUSTER)


@pytest.mark.parametrize(("cfg_strategy", "active", "expected"), [
    ("CONTINUE", {}, set()),                                                  # nothing runs
    ("CONTINUE", {"s1": [("srv:svc_a", S.RUNNING)]}, {"s1"}),                 # RESTART_PROCESS on a loss
    ("CONTINUE", {"s2": [("srv:svc_a", S.STARTING)], "s3": [("srv:svc_b", S.BACKOFF)]}, {"s2", "s3"}),
    ("CONTINUE", {"s3": [("srv:svc_b", S.STOPPING)]}, {"s3"}),                # stopping: still there
    ("CONTINUE", {"s1": [("srv:svc_a", S.EXITED)], "s2": [("srv:svc_b", S.FATAL)]}, set()),  # gone already
    ("CONTINUE", {"s2": [("cfg:p", S.RUNNING)]}, set()),                      # CONTINUE: nothing to do there
    ("STOP_APPLICATION", {"s2": [("cfg:p", S.RUNNING)]}, {"s2"}),
    ("RESTART_APPLICATION", {"s3": [("cfg:p", S.RUNNING)]}, {"s3"}),
    ("SHUTDOWN", {"s3": [("cfg:p", S.RUNNING)]}, {"s3"}),                     # acts on a crash there
    ("RESTART_PROCESS", {"c1": [("bus:bus", S.RUNNING)]}, set()),             # not in the rules: unmanaged
])
def test_guarded_instances_are_where_a_strategy_would_act(tmp_path, cfg_strategy, active, expected):
    per_nick = {nick: [info(ns, state, start=1.0, now=2.0) for ns, state in programs]
                for nick, programs in active.items()}
    status = evaluate(rules_with(tmp_path, cfg_strategy), snapshot(CLUSTER, {"*": BASE, **per_nick}))
    assert guarded(status) == expected


AGES = {"s1": 1.0, "s2": 3.0, "s3": 12.0, "c1": 40.0}  # seconds since the last answer of any kind


def due_of(ages: dict[str, float]) -> Any:
    return lambda period: {nick for nick, age in ages.items() if age >= period}


@pytest.mark.parametrize(("acting", "guarded_", "expected"), [
    (True, None, {"s1", "s2", "s3", "c1"}),          # before the first status: every one every second
    (True, {"s1", "s2"}, {"s1", "s2", "s3", "c1"}),  # s3, c1: not guarded, and over IDLE_PROBE_EVERY
    (True, {"s1"}, {"s1", "s3", "c1"}),              # s2: 3 s since its last answer, not guarded: not yet
    (True, set(), {"s3", "c1"}),
    # a standby, leader s1: the others' tails every STANDBY_FULL_EVERY when guarded, STANDBY_IDLE_EVERY not
    (False, None, {"s3", "c1"}),
    (False, {"s3"}, {"s3", "c1"}),
    (False, set(), {"c1"}),
])
def test_the_acting_controller_probes_unguarded_instances_lazily(acting, guarded_, expected):
    assert probes_this_cycle(acting, due_of(AGES), leader="s1", unsure=set(), guarded=guarded_) == expected


def test_the_lazy_periods_stay_within_what_supvisors_ticks_and_a_takeover_needs():
    assert PROBE_EVERY < IDLE_PROBE_EVERY <= 5.0    # Supvisors ticks every 5 s
    assert STANDBY_FULL_EVERY < STANDBY_IDLE_EVERY <= 30.0


@pytest.mark.parametrize(("ctl", "poller", "pause"), [
    # acting: s1 asked at 0.0, s2 at 0.2, s3 at 0.4, now 0.5; only s3 guarded: its probe in 0.9 s
    (controller(guarded={"s3"}), StubPoller(), PROBE_EVERY - 0.1),
    (controller(guarded=set()), StubPoller(), IDLE_PROBE_EVERY - 0.5),   # none guarded: s1's lazy probe
    # a standby (leader s1): s2's tail was read 9 s ago; guarded, it is due in 0.5 s; not guarded: the leader's
    (controller(acting=False, guarded={"s2"}), StubPoller(asked_at={"s1": 0.0, "s2": -9.0}), STANDBY_FULL_EVERY - 9.5),
    (controller(acting=False, guarded=set()), StubPoller(asked_at={"s1": 0.0, "s2": -9.0}), FULL_EVERY - 0.5),
])
def test_at_rest_waits_for_the_lazy_probes(ctl, poller, pause):
    assert at_rest(ctl, poller, INTERVAL)() == pytest.approx(pause)


def test_a_controller_guards_where_its_starts_are_in_flight(tmp_path):
    rules = rules_with(tmp_path, "CONTINUE")
    ctl = Controller(rules, CLUSTER, CLUSTER.find("s1"), OPTIONS, now=0.0)
    assert ctl.guarded is None                                  # nothing evaluated yet: every instance
    ctl.cycle(cluster({"s1": ["srv:svc_a"]}), 1.0)
    assert ctl.guarded == {"s1"}
    ctl.starts.sent[("cfg:p", "s3")] = 1.0                      # a start sent to s3, not confirmed yet
    assert ctl.guarded == {"s1", "s3"}


def probes_counted(c: PacedCluster, local: str) -> dict[str, int]:
    """Wrap the poller of ``local``'s controller: how many times each instance is probed."""
    counts: dict[str, int] = {}
    poller = c.pollers[local]
    poll = poller.poll

    def counting(full: Any = None, probe: Any = (), skip: Any = ()) -> Any:
        for nick in probe:
            counts[nick] = counts.get(nick, 0) + 1
        return poll(full=full, probe=probe, skip=skip)

    poller.poll = counting  # type: ignore[method-assign]
    return counts


def test_the_acting_controller_probes_the_servers_every_second_and_the_idle_consoles_lazily(tmp_path):
    c = PacedCluster(tmp_path, cluster({"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c"]}))
    for poller in c.pollers.values():      # every main log certifies its last full answer (nothing moves)
        poller.unsure = set  # type: ignore[attr-defined]
        poller.use_log = True  # type: ignore[attr-defined]
    c.run(6.0)
    assert c.controllers["s1"].acting and c.controllers["s1"].guarded == {"s1", "s2", "s3"}
    counts = probes_counted(c, "s1")
    c.run(20.0)
    servers = [counts.get(nick, 0) for nick in ("s2", "s3")]
    consoles = [counts.get(nick, 0) for nick in ("c1", "c2")]
    assert min(servers) >= 8, counts       # about every second (the full answers every 2 s in between)
    assert max(consoles) <= 5, counts      # every 5 s
    assert min(consoles) >= 3, counts
    # and a console that dies (its connection closes) is still seen at once and lost as before
    c.kill("c2")
    c.run(1.5)
    assert "c2" in c.controllers["s1"].members.lost, c.said("s1", "lost")


@pytest.mark.parametrize(("successor", "unsure", "probed", "full"), [
    # the leader s1 (3 s since its last answer): its successor reads its tail every FULL_EVERY
    (True, set(), {"s1", "s3", "c1"}, set()),
    (False, set(), {"s3", "c1"}, set()),                   # another standby: as any instance (10 s)
    # the leader's log cannot certify its answer: its successor asks it in full every FULL_EVERY
    (True, {"s1"}, {"s3", "c1"}, {"s1"}),
    (False, {"s1"}, {"s3", "c1"}, set()),
])
def test_only_the_successor_watches_the_leader_closely(successor, unsure, probed, full):
    ages = {"s1": 3.0, "s2": 1.0, "s3": 12.0, "c1": 40.0}
    assert probes_this_cycle(False, due_of(ages), leader="s1", unsure=unsure, successor=successor) == probed
    fulls = full_this_cycle(False, False, "s1", due_of(ages), unsure=unsure, successor=successor)
    assert fulls == full | {nick for nick, age in ages.items() if age >= STANDBY_SAFETY_EVERY}
    assert SAFETY_EVERY <= STANDBY_SAFETY_EVERY


def test_at_rest_a_standby_that_is_not_the_successor_waits_for_its_own_reads():
    poller = StubPoller(asked_at={"s1": 0.0, "s2": -5.0})
    assert at_rest(controller(acting=False), poller, INTERVAL)() == pytest.approx(FULL_EVERY - 0.5)
    assert at_rest(controller(acting=False, successor=False), poller, INTERVAL)() == pytest.approx(
        STANDBY_FULL_EVERY - 5.5)


def test_the_successor_is_the_next_controller_of_the_list_and_follows_a_takeover(tmp_path):
    running = {"s1": ["srv:svc_a"], "s2": ["srv:svc_b"], "s3": ["srv:svc_c"]}
    c = Cluster(tmp_path, cluster(running, controllers=("s1", "s2", "s3")), locals_=("s1", "s2", "s3"))
    c.run(3.0)
    roles = {nick: (ctl.acting, ctl.successor) for nick, ctl in c.controllers.items()}
    assert roles == {"s1": (True, False), "s2": (False, True), "s3": (False, False)}, roles
    c.kill("s1")
    c.run(4.0)
    roles = {nick: (ctl.acting, ctl.successor) for nick, ctl in c.controllers.items() if nick != "s1"}
    assert roles == {"s2": (True, False), "s3": (False, True)}, roles
