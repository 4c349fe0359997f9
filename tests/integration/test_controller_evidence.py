"""The controller decides on fresh evidence (issue 16), on real supervisord: a move then a single
failure, a move then a double failure, operator moves with no fault, and nothing still lost a minute
after a move and a failure.

Five supervisord (s1..s3 servers, c1, c2 consoles) and two controllers, on s1 (acting) and s2
(standby), as tests/support/controlled.py sets them up; the automatic start puts one service on each
server. A move is an operator's: stopped on one server, started on another (what ``supv restart
--strategy`` does when it places the program elsewhere). Deadlines bound the waits, they do not measure
them (bench/chaos.py does).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.integration.test_controller_safety import started_cluster
from tests.support.controlled import SERVICES, ControlledCluster, once_each, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ControlledCluster]:
    with started_cluster(tmp_path) as started:
        time.sleep(2.5)   # past the first full polls: the controllers' views are paced now
        yield started


def on(cluster: ControlledCluster, nick: str) -> str:
    return next(ns for ns, nicks in cluster.placement().items() if nicks == [nick] and ns in SERVICES)


def no_conciliation(cluster: ControlledCluster) -> None:
    for local in cluster.controllers:
        log = cluster.log(local)
        assert "conciliate" not in log and "conflict" not in log, log


def test_a_move_then_a_single_failure_loses_nothing(cluster: ControlledCluster) -> None:
    moved, stays = on(cluster, "s1"), on(cluster, "s3")
    cluster.move(moved, "s1", "s3")
    time.sleep(random.uniform(0.3, 2.5))
    cluster.power_cut("s3")
    wait_until(f"{moved} and {stays} running again", lambda: cluster.placement(skip=("s3",)), once_each,
               deadline=20)
    time.sleep(2.0)   # a few more cycles: nothing doubled, nothing stopped
    assert once_each(cluster.placement(skip=("s3",)))
    no_conciliation(cluster)


def test_a_move_then_a_double_failure_loses_nothing(cluster: ControlledCluster) -> None:
    # the acting server (s1) is killed the moment one of its restarts reached s1 or s2
    moved, stays = on(cluster, "s1"), on(cluster, "s3")
    cluster.move(moved, "s1", "s3")
    time.sleep(random.uniform(1.0, 4.0))
    cluster.power_cut("s3")
    wait_until("a restart sent", lambda: cluster.restarts_reached((moved, stays), ("s1", "s2")), bool,
               deadline=15, every=0.005)
    cluster.power_cut("s1")
    after, took = wait_until("every service once, on s2", lambda: cluster.placement(skip=("s1", "s3")),
                             lambda p: once_each(p) and all(p[ns] == ["s2"] for ns in SERVICES), deadline=25)
    assert "acting on s2" in cluster.log("s2")
    time.sleep(1.5)
    assert cluster.placement(skip=("s1", "s3")) == after, f"recovered in {took:.1f}s"


def test_operator_moves_with_no_fault_stop_nothing(cluster: ControlledCluster) -> None:
    # six moves, each at a random point of the pacing: never a conflict, never a stop by a controller
    rng = random.Random(16)
    for _ in range(6):
        placement = cluster.placement()
        namespec = rng.choice(SERVICES)
        source = placement[namespec][0]
        target = rng.choice([nick for nick in ("s1", "s2", "s3") if nick != source])
        time.sleep(rng.uniform(0.0, 2.0))
        cluster.move(namespec, source, target)
        time.sleep(3.0)
        placement = cluster.placement()
        assert placement[namespec] == [target] and once_each(placement), placement
    no_conciliation(cluster)


def test_nothing_is_still_lost_a_minute_after_a_move_and_a_failure(cluster: ControlledCluster) -> None:
    moved = on(cluster, "s2")
    cluster.move(moved, "s2", "s3")
    time.sleep(0.5)
    cluster.power_cut("s3")
    wait_until("every service once", lambda: cluster.placement(skip=("s3",)), once_each, deadline=20)
    time.sleep(60.0)
    assert once_each(cluster.placement(skip=("s3",))), cluster.placement(skip=("s3",))
    no_conciliation(cluster)
