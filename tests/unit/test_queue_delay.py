"""The no-false-loss rule at scale (issue 18): a deadline runs from when a request is sent, so an answer
late only because of the controller's own queue (busy threads, reading other answers) is never a missed
poll; and what keeps polling 300 instances cheap: unchanged answers told from a digest, periodic work
spread over its period. The same on real supervisord: tests/integration/test_queue_delay.py; at 300
instances for 10 minutes: ``bench/scale.py --soak 600``."""

from __future__ import annotations

import socket
import threading
import time
import xmlrpc.client

import pytest

from supv_cli.cluster.answers import answer_digest
from supv_cli.cluster.client import NOT_ASKED, fan_out
from supv_cli.cluster.http_read import _recv
from supv_cli.cluster.known import slot_passed as _slot_passed


def test_items_queued_behind_busy_workers_are_not_timed_out() -> None:
    # one worker, five items of 0.1 s each: the last is sent 0.4 s after the fan-out began, twice the
    # timeout, and still answers within its own 0.2 s: nothing is reported late
    def work(value: int) -> int:
        time.sleep(0.1)
        return value

    assert fan_out(work, list(range(5)), timeout=0.2, max_workers=1) == [0, 1, 2, 3, 4]


def test_a_hung_item_is_late_and_the_unstarted_are_not_asked() -> None:
    release = threading.Event()

    def work(value: int) -> int:
        if value == 0:
            release.wait(30)
        return value

    try:
        started = time.monotonic()
        # the only worker hangs on item 0: it is late (None); item 1 was never sent: not asked, not late
        assert fan_out(work, [0, 1], timeout=0.2, max_workers=1, not_asked=NOT_ASKED) == [None, NOT_ASKED]
        assert time.monotonic() - started < 1.0  # bounded: no progress for a timeout ends the wait
    finally:
        release.set()


def test_an_answer_in_the_socket_is_read_even_past_the_deadline() -> None:
    here, there = socket.socketpair()
    try:
        past = time.monotonic() - 1.0  # the reader comes late (its process was busy)
        with pytest.raises(socket.timeout):
            _recv(here, past)  # nothing arrived: late
        there.sendall(b"HTTP/1.1 200 OK\r\n")
        time.sleep(0.05)
        assert _recv(here, past) == b"HTTP/1.1 200 OK\r\n"  # it arrived in time: an answer
    finally:
        here.close()
        there.close()


def _process_info(now: int, uptime: str, state: str = "RUNNING", pid: int = 42) -> bytes:
    info = {"name": "p", "group": "g", "start": 1000, "stop": 0, "now": now, "state": 20, "statename": state,
            "pid": pid, "description": f"pid {pid}, uptime {uptime}"}
    return xmlrpc.client.dumps(([info, {**info, "name": "q"}],), methodresponse=True).encode()


DIGESTS = [  # (one answer, another, same digest)
    (_process_info(1000, "0:00:01"), _process_info(1005, "0:00:06"), True),    # only the clock moved
    (_process_info(1000, "0:00:01"), _process_info(1000, "0:00:01", "STOPPING"), False),
    (_process_info(1000, "0:00:01"), _process_info(1000, "0:00:01", pid=43), False),
    (b"<a>1</a>", b"<a>2</a>", False),
]


@pytest.mark.parametrize(("one", "other", "same"), DIGESTS, ids=range(len(DIGESTS)))
def test_an_unchanged_answer_is_told_from_its_digest(one: bytes, other: bytes, same: bool) -> None:
    assert (answer_digest(one) == answer_digest(other)) is same


def test_periodic_work_is_spread_over_the_period() -> None:
    # 300 instances, each due once per 2 s period at its own phase; a cycle every 0.5 s asks about 75
    count, period, cycle = 300, 2.0, 0.5
    phases = [index / count for index in range(count)]
    last = [0.0] * count  # every instance answered at 0 (start-up: all at once)
    asked_per_cycle = []
    now = 0.0
    for _ in range(16):
        now += cycle
        due = [i for i in range(count) if _slot_passed(last[i], now, period, phases[i])]
        for i in due:
            last[i] = now
        asked_per_cycle.append(len(due))
    assert all(count / 4 - 1 <= asked <= count / 4 + 1 for asked in asked_per_cycle[4:])
    assert sum(asked_per_cycle[4:]) == count * 3  # the last 12 cycles (3 periods): each instance 3 times
    assert _slot_passed(float("-inf"), 0.0, period, 0.5)  # never answered: due at once


def test_an_instance_never_asked_is_not_missed() -> None:
    from supv_cli.cluster.polling import NOT_ASKED_YET
    from supv_cli.controller.membership import Health, Membership
    from supv_cli.model.instances import InstanceList
    from supv_cli.model.snapshot import InstanceSnapshot, Snapshot, Unreachable

    cluster = InstanceList.parse(["<s1>127.0.0.1:1", "<s2>127.0.0.1:2"])
    members = Membership(cluster, lost_after=2)
    answered = InstanceSnapshot(instance=cluster[0], state="RUNNING")

    def poll(reason: str) -> list[tuple[object, str, str]]:
        other = InstanceSnapshot(instance=cluster[1], state="UNREACHABLE", reason=reason,
                                 error_kind=Unreachable.TIMEOUT)
        return list(members.update(Snapshot(instances=(answered, other), taken_at=0.0)))

    for _ in range(5):  # every worker busy with hung instances: s2 never asked, never missed
        assert poll(NOT_ASKED_YET) == []
    assert members.health("s2") is Health.UNSEEN
    poll("timeout (no answer within 1s)")  # asked and unanswered: that is a missed poll
    assert [kind for kind, _, _ in poll("timeout (no answer within 1s)")] == ["lost"]
