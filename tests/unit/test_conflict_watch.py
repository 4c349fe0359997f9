"""The conflicts followed by ``supv events``: asked of the status core only when something moved."""

from __future__ import annotations

import pytest

import supv_cli.status
from supv_cli.cli.polling import ConflictWatch
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot

from .rules_helpers import rules_from

S = ProcessState
SPEC = "<a>127.0.0.1:61001 <b>127.0.0.1:61002"
A, B = (parse_instance(item) for item in SPEC.split())


def snap(on_a: ProcessState, on_b: ProcessState, pid: int = 1) -> Snapshot:
    def one(instance, state):  # type: ignore[no-untyped-def]
        return InstanceSnapshot(instance, "RUNNING", processes=(ProcessInfo("app", "p", state, pid=pid),
                                                                ProcessInfo("free", "x", state, pid=pid)))
    return Snapshot((one(A, on_a), one(B, on_b)))


def test_conflicts_of_managed_processes_and_evaluations_only_on_change(tmp_path, monkeypatch):
    calls = []
    real = supv_cli.status.evaluate

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(supv_cli.status, "evaluate", counting)
    watch = ConflictWatch(rules_from(tmp_path, '<application name="app"/>', instances=SPEC))
    assert watch(snap(S.RUNNING, S.STOPPED)) == {} and len(calls) == 1
    assert watch(snap(S.RUNNING, S.STOPPED, pid=7)) == {} and len(calls) == 1      # nothing moved
    assert watch(snap(S.RUNNING, S.STARTING)) == {"app:p": ("a", "b")} and len(calls) == 2   # free:x unmanaged
    assert watch(snap(S.RUNNING, S.RUNNING)) == {"app:p": ("a", "b")} and len(calls) == 2
    assert watch(snap(S.STOPPING, S.RUNNING)) == {"app:p": ("a", "b")}
    assert watch(snap(S.STOPPED, S.RUNNING)) == {} and len(calls) == 3
    same = snap(S.RUNNING, S.RUNNING)
    assert watch(same) == {"app:p": ("a", "b")} and len(calls) == 4
    assert watch(Snapshot(same.instances)) == {"app:p": ("a", "b")} and len(calls) == 4  # the same answers


@pytest.mark.parametrize("state", [S.RUNNING, S.STOPPED])
def test_no_rules_no_conflicts(state):
    assert ConflictWatch(None)(snap(state, state)) is None
