"""The whole cluster's status from one snapshot and the rules: :func:`evaluate`. Pure and deterministic.

From one :class:`~supv_cli.model.snapshot.Snapshot` (what every instance answered) and the rules,
:func:`evaluate` synthesizes every process (:mod:`.processes`), gives every application its state and
failures (:mod:`.applications`) and sums the instance and node loads (:mod:`.loads`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import InstanceSnapshot, ProcessInfo, Snapshot
from supv_cli.rules.model import ApplicationRules, ProcessRules
from supv_cli.status.applications import ApplicationStatus, application_status
from supv_cli.status.loads import loads
from supv_cli.status.processes import ProcessStatus, synthesize

if TYPE_CHECKING:
    from supv_cli.rules import Rules

__all__ = ["ClusterStatus", "evaluate"]


@dataclass(frozen=True)
class ClusterStatus:
    """Everything :func:`evaluate` computes from one snapshot.

    ``applications`` and ``processes`` are in discovery order (the first instance's Supervisor order,
    then what later instances add); loads are keyed by instance nick and by node.
    """

    applications: dict[str, ApplicationStatus]
    processes: dict[str, ProcessStatus]
    instance_loads: dict[str, int]
    node_loads: dict[str, int]
    unreachable: list[InstanceSnapshot]
    snapshot: Snapshot = field(repr=False, compare=False, default_factory=lambda: Snapshot(()))
    lost: frozenset[str] = frozenset()

    def application(self, name: str) -> ApplicationStatus | None:
        return self.applications.get(name)

    def process(self, namespec: str) -> ProcessStatus | None:
        return self.processes.get(namespec)

    def conflicts(self) -> list[ProcessStatus]:
        """Processes of managed applications active on several instances (computed once: a controller
        asks at every cycle, and keeps the same status while nothing changes)."""
        found = self.__dict__.get("_conflicts")
        if found is None:
            found = [p for app in self.applications.values() if app.managed for p in app.processes if p.conflict]
            object.__setattr__(self, "_conflicts", found)
        return list(found)

    @property
    def notes(self) -> list[str]:
        """Every application note (formula errors...), in application order."""
        return [f"{app.application_name}: {note}" for app in self.applications.values() for note in app.notes]


def evaluate(rules: Rules | None, snapshot: Snapshot, lost: frozenset[str] = frozenset()) -> ClusterStatus:
    """The status of the whole cluster from ``snapshot`` (``rules``: a Rules object, or None to make
    every application unmanaged). ``lost``: nicks of instances to treat as lost (see module doc).

    May raise :class:`~supv_cli.errors.RulesError` when the rules of an application cannot be resolved
    against the instance list (an application ``#`` naming no known instance).
    """
    per_process: dict[str, list[tuple[Instance, ProcessInfo]]] = {}
    names: dict[str, tuple[str, str]] = {}
    for snap in snapshot.instances:
        for info in snap.processes:
            key = info.namespec
            if key not in per_process:
                per_process[key] = []
                names[key] = (info.group, info.name)
            per_process[key].append((snap.instance, info))
    by_app: dict[str, list[ProcessStatus]] = {}
    processes: dict[str, ProcessStatus] = {}
    for key, infos in per_process.items():
        group, name = names[key]
        process_rules = rules.process_rules(group, name) if rules is not None else ProcessRules(group, name)
        status = synthesize(group, name, infos, process_rules, lost)
        processes[key] = status
        by_app.setdefault(group, []).append(status)
    applications: dict[str, ApplicationStatus] = {}
    for group, members in by_app.items():
        app_rules = rules.application_rules(group) if rules is not None else ApplicationRules(group)
        if not app_rules.managed:  # an unmanaged program may run on several instances: not a conflict
            members = [replace(p, conflict=False) if p.conflict else p for p in members]
            processes.update((p.namespec, p) for p in members)
        applications[group] = application_status(app_rules, members)
    instance_loads, node_loads = loads(snapshot, processes.values())
    return ClusterStatus(applications, processes, instance_loads, node_loads, list(snapshot.unreachable),
                         snapshot, frozenset(lost))
