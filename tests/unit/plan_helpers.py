"""Build rules, snapshots and statuses by hand for planner and executor tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable, Mapping

from supv_cli.cluster.client import CallError
from supv_cli.model.instances import InstanceList
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, ProcessState, Snapshot, Unreachable
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
    rules = load_rules([str(path)], instance_list)
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
            from supv_cli.model.snapshot import Unreachable

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


class Script:
    """Process states over time: a start request makes a program STARTING, then after its startsecs
    whatever the script says (RUNNING by default, FATAL, EXITED code, STARTING forever...)."""

    def __init__(self, rules, base: Snapshot, outcomes: dict[str, tuple] | None = None):
        self.rules = rules
        self.snap = base
        self.outcomes = outcomes or {}
        self.timeline: list[tuple[float, str, str, tuple]] = []   # (time, nick, namespec, (state, exitstatus))
        self.down: set[str] = set()
        self.log: list[tuple[float, str, str, str]] = []
        self.clock = 0.0

    def send(self, requests, now):
        results = []
        for request in requests:
            nick, namespec = request.instance.nick, request.args[0]
            if nick in self.down:
                results.append(CallError(request.instance, Unreachable.REFUSED, "connection refused"))
                continue
            self.log.append((now, request.method.split(".")[1], namespec, nick))
            if request.method.endswith("startProcess"):
                current = self.snap.info(request.instance, namespec)
                self._set(nick, namespec, S.STARTING, 0)
                startsecs = current.startsecs if current else 1
                outcome = self.outcomes.get(namespec, ("RUNNING",))
                if outcome[0] == "RUNNING":
                    self.timeline.append((now + startsecs, nick, namespec, (S.RUNNING, 0)))
                elif outcome[0] == "EXIT":
                    self.timeline.append((now + startsecs, nick, namespec, (S.RUNNING, 0)))
                    self.timeline.append((now + startsecs + outcome[1], nick, namespec, (S.EXITED, outcome[2])))
                elif outcome[0] == "FATAL":
                    self.timeline.append((now + outcome[1], nick, namespec, (S.FATAL, 0)))
                # "HANG": stays STARTING
            else:
                self._set(nick, namespec, S.STOPPED, 0)
            results.append(True)
        return results

    def _set(self, nick, namespec, state, exitstatus):
        snaps = []
        for snap in self.snap.instances:
            if snap.instance.nick == nick:
                infos = tuple(replace(p, state=state, exitstatus=exitstatus) if p.namespec == namespec else p
                              for p in snap.processes)
                snap = replace(snap, processes=infos)
            snaps.append(snap)
        self.snap = Snapshot(tuple(snaps))

    def at(self, now) -> Snapshot:
        due = [t for t in self.timeline if t[0] <= now]
        self.timeline = [t for t in self.timeline if t[0] > now]
        for _, nick, namespec, (state, exitstatus) in sorted(due, key=lambda t: t[0]):
            self._set(nick, namespec, state, exitstatus)
        snaps = tuple(InstanceSnapshot(s.instance, "UNREACHABLE", "refused", error_kind=Unreachable.REFUSED)
                      if s.instance.nick in self.down else s for s in self.snap.instances)
        return Snapshot(snaps)


