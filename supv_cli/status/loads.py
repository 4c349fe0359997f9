"""Instance and node loads (behaviour spec §3.2) and per-instance process counts. Pure.

The load of an instance is the sum of the ``expected_loading`` of every process whose synthetic state
is STARTING / RUNNING / BACKOFF, counted on each of its active instances; a node's load is the sum of
its instances' loads.
"""

from __future__ import annotations

from typing import Iterable

from supv_cli.model.snapshot import InstanceSnapshot, ProcessState, Snapshot
from supv_cli.status.processes import ProcessStatus, is_crashed

__all__ = ["instance_counts", "loads", "process_counts"]


def loads(snapshot: Snapshot, processes: Iterable[ProcessStatus]) -> tuple[dict[str, int], dict[str, int]]:
    """``(instance_loads, node_loads)``: keyed by instance nick (every instance of ``snapshot``, zeros
    included) and by node, in instance order."""
    instance_loads = {snap.instance.nick: 0 for snap in snapshot.instances}
    for status in processes:
        if status.running and status.rules.expected_loading:
            for instance in status.identifiers:
                instance_loads[instance.nick] = instance_loads.get(instance.nick, 0) + status.rules.expected_loading
    node_loads: dict[str, int] = {}
    for snap in snapshot.instances:
        node = snap.instance.node
        node_loads[node] = node_loads.get(node, 0) + instance_loads.get(snap.instance.nick, 0)
    return instance_loads, node_loads


def process_counts(snap: InstanceSnapshot) -> dict[str, int]:
    """How many processes an instance reports in each Supervisor state (every state name present,
    zeros included, in Supervisor's code order)."""
    counts = {state.name: 0 for state in ProcessState}
    for info in snap.processes:
        counts[info.state.name] += 1
    return counts


def instance_counts(snap: InstanceSnapshot) -> dict[str, int]:
    """How many processes an instance reports ``running`` (STARTING, RUNNING, BACKOFF, STOPPING),
    ``stopped``, ``failed`` (FATAL, UNKNOWN, EXITED unexpected) and in all (``total``)."""
    running = failed = 0
    for info in snap.processes:
        if info.running or info.state == ProcessState.STOPPING:
            running += 1
        elif is_crashed(info.state, info.expected_exit):
            failed += 1
    total = len(snap.processes)
    return {"running": running, "stopped": total - running - failed, "failed": failed, "total": total}
