"""The change detector of ``supv events`` / ``supv top`` over scripted snapshots."""

from __future__ import annotations

from typing import Any

import pytest

from supv_cli.look.changes import Change, ChangeDetector, iso_time
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable

S = ProcessState
INSTANCES = {nick: parse_instance(f"<{nick}>127.0.0.1:{61000 + n}") for n, nick in enumerate(("a", "b", "c"))}
DOWN = "down"


def snap(when: float, **instances: Any) -> Snapshot:
    """``snap(1, a={"app:p": (S.RUNNING, 12)}, b=DOWN)``: instances in a, b, c order; a missing
    instance answers with no process."""
    result = []
    for nick, instance in INSTANCES.items():
        value = instances.get(nick, {})
        if value == DOWN:
            result.append(InstanceSnapshot(instance, "UNREACHABLE", "connection refused",
                                           error_kind=Unreachable.REFUSED))
            continue
        if value == "SHUTDOWN":
            result.append(InstanceSnapshot(instance, "SHUTDOWN", "supervisord is SHUTDOWN"))
            continue
        infos = []
        for namespec, (state, pid, *spawnerr) in value.items():
            group, name = namespec.split(":")
            infos.append(ProcessInfo(group, name, state, pid=pid, spawnerr=spawnerr[0] if spawnerr else ""))
        result.append(InstanceSnapshot(instance, "RUNNING", processes=tuple(infos)))
    return Snapshot(tuple(result), taken_at=when)


def lines(changes: list[Change]) -> list[str]:
    return [change.line(when=f"t{change.time:g}") for change in changes]


def run(*snapshots: Snapshot, conflicts: list[dict[str, tuple[str, ...]] | None] | None = None) -> list[list[str]]:
    detector = ChangeDetector()
    out = []
    for index, snapshot in enumerate(snapshots):
        out.append(lines(detector.feed(snapshot, conflicts[index] if conflicts else None)))
    return out


P = "app:p"

CASES = [
    ("nothing changes, no event",
     [snap(1, a={P: (S.RUNNING, 10)}), snap(2, a={P: (S.RUNNING, 10)}), snap(3, a={P: (S.RUNNING, 10)})],
     [[], [], []]),
    ("the first snapshot is the baseline",
     [snap(1, a={P: (S.FATAL, 0, "Exited too quickly")})], [[]]),
    ("start: STOPPED -> STARTING -> RUNNING with the pid",
     [snap(1, a={P: (S.STOPPED, 0)}), snap(2, a={P: (S.STARTING, 42)}), snap(3, a={P: (S.RUNNING, 42)})],
     [[], ["t2 a app:p STOPPED -> STARTING (pid 42)"], ["t3 a app:p STARTING -> RUNNING (pid 42)"]]),
    ("stop and exit",
     [snap(1, a={P: (S.RUNNING, 42)}), snap(2, a={P: (S.STOPPING, 42)}), snap(3, a={P: (S.STOPPED, 0)}),
      snap(4, a={P: (S.STARTING, 43)}), snap(5, a={P: (S.EXITED, 0)})],
     [[], ["t2 a app:p RUNNING -> STOPPING (pid 42)"], ["t3 a app:p STOPPING -> STOPPED"],
      ["t4 a app:p STOPPED -> STARTING (pid 43)"], ["t5 a app:p STARTING -> EXITED"]]),
    ("backoff then fatal, with the spawn error",
     [snap(1, a={P: (S.STARTING, 5)}), snap(2, a={P: (S.BACKOFF, 0, "Exited too quickly")}),
      snap(3, a={P: (S.FATAL, 0, "Exited too quickly")})],
     [[], ["t2 a app:p STARTING -> BACKOFF (Exited too quickly)"],
      ["t3 a app:p BACKOFF -> FATAL (Exited too quickly)"]]),
    ("a restart between two polls: same state, new pid",
     [snap(1, a={P: (S.RUNNING, 42)}), snap(2, a={P: (S.RUNNING, 77)})],
     [[], ["t2 a app:p RUNNING -> RUNNING (pid 77)"]]),
    ("an instance lost and back, nothing changed there",
     [snap(1, a={P: (S.RUNNING, 42)}), snap(2, a=DOWN), snap(3, a=DOWN), snap(4, a={P: (S.RUNNING, 42)})],
     [[], ["t2 a - RUNNING -> UNREACHABLE (connection refused)"], [], ["t4 a - UNREACHABLE -> RUNNING"]]),
    ("an instance back after a restart: what changed while it was away",
     [snap(1, a={P: (S.RUNNING, 42)}), snap(2, a=DOWN), snap(3, a={P: (S.STOPPED, 0)})],
     [[], ["t2 a - RUNNING -> UNREACHABLE (connection refused)"],
      ["t3 a - UNREACHABLE -> RUNNING", "t3 a app:p RUNNING -> STOPPED"]]),
    ("an instance down from the start: its first answer is a baseline",
     [snap(1, a=DOWN), snap(2, a={P: (S.RUNNING, 42)})],
     [[], ["t2 a - UNREACHABLE -> RUNNING"]]),
    ("supervisord SHUTDOWN counts as unreachable and keeps the last answer",
     [snap(1, a={P: (S.RUNNING, 42)}), snap(2, a="SHUTDOWN"), snap(3, a={P: (S.RUNNING, 42)})],
     [[], ["t2 a - RUNNING -> UNREACHABLE (supervisord is SHUTDOWN)"], ["t3 a - UNREACHABLE -> RUNNING"]]),
    ("a process moving: lost with its instance, started on another",
     [snap(1, a={P: (S.RUNNING, 42)}, b={P: (S.STOPPED, 0)}), snap(2, a=DOWN, b={P: (S.STARTING, 9)}),
      snap(3, a=DOWN, b={P: (S.RUNNING, 9)})],
     [[], ["t2 a - RUNNING -> UNREACHABLE (connection refused)", "t2 b app:p STOPPED -> STARTING (pid 9)"],
      ["t3 b app:p STARTING -> RUNNING (pid 9)"]]),
    ("processes added and removed (reread / update)",
     [snap(1, a={P: (S.RUNNING, 42)}), snap(2, a={P: (S.RUNNING, 42), "app:q": (S.STOPPED, 0)}),
      snap(3, a={"app:q": (S.STOPPED, 0)})],
     [[], ["t2 a app:q NONE -> STOPPED"], ["t3 a app:p RUNNING -> NONE"]]),
    ("changes in instance order, then process order",
     [snap(1, a={P: (S.RUNNING, 1), "app:q": (S.RUNNING, 2)}, b={P: (S.STOPPED, 0)}),
      snap(2, a={P: (S.STOPPED, 0), "app:q": (S.STOPPED, 0)}, b=DOWN)],
     [[], ["t2 a app:p RUNNING -> STOPPED", "t2 a app:q RUNNING -> STOPPED",
           "t2 b - RUNNING -> UNREACHABLE (connection refused)"]]),
]


@pytest.mark.parametrize("snapshots, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_changes(snapshots, expected):
    assert run(*snapshots) == expected


def test_conflicts_appear_and_resolve():
    snapshots = [snap(1), snap(2), snap(3), snap(4)]
    conflicts: list[dict[str, tuple[str, ...]] | None] = [{}, {P: ("a", "b")}, {P: ("a", "b")}, {}]
    assert run(*snapshots, conflicts=conflicts) == [
        [], ["t2 a,b app:p NONE -> CONFLICT"], [], ["t4 a,b app:p CONFLICT -> NONE"]]


def test_a_conflict_present_at_start_is_the_baseline():
    assert run(snap(1), snap(2), conflicts=[{P: ("a", "b")}, {}]) == [[], ["t2 a,b app:p CONFLICT -> NONE"]]


def test_json_object_has_the_documented_keys():
    detector = ChangeDetector()
    detector.feed(snap(1, a={P: (S.STOPPED, 0)}))
    change, = detector.feed(snap(1700000000.25, a={P: (S.STARTING, 42)}))
    data = change.to_dict()
    assert list(data)[:8] == ["time", "kind", "instance", "application_name", "process_name", "from", "to", "pid"]
    assert data == {"time": iso_time(1700000000.25), "kind": "process", "instance": "a", "application_name": "app",
                    "process_name": "p", "from": "STOPPED", "to": "STARTING", "pid": 42, "reason": "",
                    "instances": []}
    assert data["time"].endswith(".250")
    lost, = detector.feed(snap(1700000001, a=DOWN))
    assert (lost.kind, lost.from_state, lost.to_state, lost.application_name, lost.pid) == (
        "instance", "RUNNING", "UNREACHABLE", None, None)


def test_the_same_answer_object_is_not_compared_again():
    detector = ChangeDetector()
    first = snap(1, a={P: (S.RUNNING, 42)}, b={P: (S.STOPPED, 0)})
    detector.feed(first)
    # an economical poller hands back the very same answers when nothing changed there
    again = Snapshot((first.instances[0], snap(2, b={P: (S.STARTING, 7)}).instances[1], first.instances[2]),
                     taken_at=2)
    assert lines(detector.feed(again)) == ["t2 b app:p STOPPED -> STARTING (pid 7)"]
    assert lines(detector.feed(Snapshot(again.instances, taken_at=3))) == []
