"""Build rules, snapshots and statuses by hand for planner and executor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from supv_cli.cluster.instances import InstanceList
from supv_cli.cluster.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot
from supv_cli.rules import Rules, load_rules
from supv_cli.status import ClusterStatus, evaluate

S = ProcessState


def instances(*specs: str) -> InstanceList:
    """``instances("1@A", "2@A", "3@B")``: nick 1 on node A... (each its own port)."""
    items = []
    for index, spec in enumerate(specs, start=1):
        nick, _, node = spec.partition("@")
        items.append(f"<{nick}>{node or '10.0.0.' + str(index)}:{60000 + index}")
    return InstanceList.parse(items)


def rules_of(tmp_path: Path, body: str, instance_list: InstanceList) -> Rules:
    path = tmp_path / "rules.xml"
    path.write_text(f"<root>{body}</root>")
    rules, _ = load_rules([str(path)], instance_list)
    return rules


def info(namespec: str, state: ProcessState = S.STOPPED, **fields) -> ProcessInfo:
    group, _, name = namespec.partition(":")
    return ProcessInfo(group=group, name=name or group, state=state, **fields)


def snapshot(instance_list: InstanceList, processes: Mapping[str, Iterable[ProcessInfo]],
             unreachable: Iterable[str] = ()) -> Snapshot:
    """``processes``: nick -> infos; ``"*"`` gives infos to every instance (copied)."""
    snaps = []
    common = list(processes.get("*", ()))
    for instance in instance_list:
        if instance.nick in unreachable:
            from supv_cli.cluster.snapshot import Unreachable

            snaps.append(InstanceSnapshot(instance, "UNREACHABLE", "connection refused",
                                          error_kind=Unreachable.REFUSED))
            continue
        own = list(processes.get(instance.nick, ()))
        names = {p.namespec for p in own}
        infos = own + [p for p in common if p.namespec not in names]
        snaps.append(InstanceSnapshot(instance, "RUNNING", processes=tuple(infos)))
    return Snapshot(tuple(snaps))


def status_of(rules: Rules, snap: Snapshot) -> ClusterStatus:
    return evaluate(rules, snap)
