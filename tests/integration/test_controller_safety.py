"""The controller's safety on real supervisord (issue 10): the double failure with the takeover in
between, missed polls, and a partition (a userspace proxy on every link, tests/support/proxy.py).

Five supervisord (s1..s3 servers, c1, c2 consoles: a majority is 3) and two controllers, on s1 (acting)
and s2 (standby), as tests/support/controlled.py sets them up. Deadlines are generous (a loaded
machine): they bound the waits, they do not measure them (bench/chaos.py does).
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.controlled import SERVICES, ControlledCluster, once_each, wait_until

pytestmark = pytest.mark.integration


@contextmanager
def started_cluster(tmp_path: Path, *controller_args: str) -> Iterator[ControlledCluster]:
    """The cluster started, srv spread by the automatic start (one service per server), cfg:p on s2."""
    started = ControlledCluster(tmp_path, controller_args=controller_args).start()
    try:
        wait_until("srv started once each, cfg:p on s2", started.placement,
                   lambda p: once_each(p) and p.get("cfg:p") == ["s2"], deadline=30)
        wait_until("s1 acting, s2 standing by", started.acting, lambda acting: acting == ["s1"])
        yield started
    finally:
        codes = started.stop()
    assert all(code == 0 for code in codes.values()), f"controllers' exit codes on SIGTERM: {codes}"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ControlledCluster]:
    with started_cluster(tmp_path) as started:
        yield started


def test_double_failure_with_the_takeover_in_between(cluster: ControlledCluster) -> None:
    # s3 is killed; the moment s1's controller has started s3's service somewhere, s1 is killed too:
    # s2's controller takes over and every service runs again, exactly once, on s2
    before = cluster.placement()
    lost = [ns for ns in SERVICES if before[ns] == ["s3"]]
    cluster.power_cut("s3")
    wait_until(f"{lost} restarted by s1's controller", lambda: cluster.placement(skip=("s3",)),
               lambda p: all(p.get(ns) for ns in lost), deadline=15, every=0.02)
    cluster.power_cut("s1")
    after, took = wait_until("every service once, on s2", lambda: cluster.placement(skip=("s1", "s3")),
                             lambda p: once_each(p) and all(p[ns] == ["s2"] for ns in SERVICES), deadline=20)
    log = cluster.log("s2")
    assert "acting on s2" in log, log
    time.sleep(1.5)   # a few more cycles: nothing started twice
    assert cluster.placement(skip=("s1", "s3")) == after, f"recovered in {took:.1f}s"


def test_a_missed_poll_starts_nothing(cluster: ControlledCluster) -> None:
    # s2 (running cfg:p, CONFIG on s2,s3) frozen past a poll's timeout (1 s), for less than two polls:
    # never lost, cfg:p is not started on s3 (the automatic start does not take a missing answer for
    # "never started") and s2's services do not move. The acting controller is a new one (restarted):
    # it has not started anything automatically yet
    cluster.stop_controller("s1")
    cluster.start_controller("s1")
    wait_until("the new controller of s1 acting", lambda: cluster.log("s1").count("acting on s1"), lambda n: n == 2)
    time.sleep(0.5)
    server = cluster.servers["s2"]
    for _ in range(3):  # until a poll was missed (the acting controller probes a quiet instance each second)
        server.sigstop()
        time.sleep(1.9)   # one poll missed at most: the next one, a second later, gets the answer
        server.sigcont()
        time.sleep(2.0)
        if any("s2" in state.get("missed", []) for state in cluster.states("s1")):
            break
    placement = cluster.placement()
    assert placement.get("cfg:p") == ["s2"], placement
    assert once_each(placement), placement
    assert any("s2" in state.get("missed", []) for state in cluster.states("s1")), "s2 missed no poll"
    assert "lost       s2" not in cluster.log("s1"), cluster.log("s1")
    started = [line for line in cluster.log("s1").splitlines() if "automatic start" in line]
    assert len(started) == 1, started   # the first one, at the start of the cluster, only
    assert "standing by" in cluster.log("s2") and "acting on s2" not in cluster.log("s2")


def test_partition_the_minority_does_nothing_then_conflicts_are_conciliated(cluster: ControlledCluster) -> None:
    # s1 (acting) cut off from everyone for a while: it sees 1 of 5 and starts nothing; s2 acts on the
    # majority side and moves s1's service; after healing every service runs exactly once again
    before = cluster.placement()
    on_s1 = [ns for ns in SERVICES if before[ns] == ["s1"]]
    cluster.isolate("s1")
    try:
        moved, took = wait_until(f"{on_s1} started on the majority side",
                                 lambda: cluster.placement(),
                                 lambda p: all(len(p.get(ns, [])) == 2 for ns in on_s1), deadline=20)
        time.sleep(2.0)  # the minority side keeps still
        during = cluster.placement()
        assert all(nicks == ["s1"] or "s1" not in nicks or ns in on_s1 for ns, nicks in during.items()), during
    finally:
        cluster.heal()
    wait_until("every service once after healing", cluster.placement, once_each, deadline=15)
    log, _ = wait_until("s1 sees a majority again", lambda: cluster.log("s1"),
                        lambda text: re.search(r"sees [345] of 5 instances again", text) is not None)
    assert log.count("minority side, starting and stopping nothing") == 1, log
    assert "acting on s2" in cluster.log("s2"), f"moved in {took:.1f}s"
