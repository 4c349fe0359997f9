"""Conflicts: a managed process active on several instances, and which copies a strategy stops.

One implementation for the controller (``run-plan --watch --conciliate``) and for ``supv conciliate``:
``infanticide`` keeps the copy started first, ``senicide`` the one started last, ``stop`` stops them
all, ``user`` only reports (Supvisors' conciliation strategies that need no operator). Copies started
in the same second keep the instance-list order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from supv_cli.cluster.snapshot import ProcessInfo, ProcessState, Snapshot
from supv_cli.plan.commands import RunOptions
from supv_cli.plan.executor import Run
from supv_cli.plan.model import ApplicationPlan, Plan
from supv_cli.plan.placer import Placer

if TYPE_CHECKING:
    from supv_cli.cluster.instances import Instance
    from supv_cli.rules import Rules
    from supv_cli.status import ClusterStatus, ProcessStatus

#: the strategies ``supv conciliate`` accepts (``user`` is the controller's "report only")
STRATEGIES = ("infanticide", "senicide", "stop")
CONCILIATIONS = STRATEGIES + ("user",)


def victims(process: ProcessStatus, strategy: str, index: Callable[[str], int]) -> list[Instance]:
    """The instances where ``strategy`` stops ``process`` (``index``: a nick's position in the instance
    list, the tie-break between copies started in the same second)."""
    if strategy == "user" or len(process.running_on) < 2:
        return []
    started = {i.nick: (process.info_on(i) or ProcessInfo("", "", ProcessState.UNKNOWN)).start
               for i in process.running_on}
    ordered = sorted(process.running_on, key=lambda i: (started[i.nick], index(i.nick)))
    if strategy == "infanticide":
        return ordered[1:]
    if strategy == "senicide":
        return ordered[:-1]
    if strategy == "stop":
        return ordered
    raise ValueError(f"unknown conciliation strategy {strategy!r}; use one of {', '.join(CONCILIATIONS)}")


def conflicts(status: ClusterStatus, namespecs: Sequence[str] = ()) -> list[ProcessStatus]:
    """Managed processes active on several instances, limited to ``APP:PROC`` / ``APP:*`` / ``APP`` when
    given."""
    found = status.conflicts()
    if not namespecs:
        return found
    wanted = [spec.partition(":") for spec in namespecs]
    return [p for p in found if any(p.application_name == app and (not sep or name in ("*", p.process_name))
                                    for app, sep, name in wanted)]


def _targets(status: ClusterStatus, namespecs: Sequence[str], strategy: str) -> dict[str, frozenset[str]]:
    """namespec -> nicks of the copies to stop."""
    order = {snap.instance.nick: position for position, snap in enumerate(status.snapshot.instances)}
    found = {}
    for process in conflicts(status, namespecs):
        chosen = victims(process, strategy, lambda nick: order.get(nick, len(order)))
        if chosen:
            found[process.namespec] = frozenset(i.nick for i in chosen)
    return found


def _by_application(status: ClusterStatus, namespecs: Sequence[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for namespec in namespecs:
        process = status.processes[namespec]
        grouped.setdefault(process.application_name, []).append(process.process_name)
    return grouped


def conciliation_run(rules: Rules, status: ClusterStatus, namespecs: Sequence[str], strategy: str,
                     options: RunOptions) -> Run | None:
    """``supv conciliate``: a stop of the copies the strategy picks (None when there is no conflict)."""
    targets = _targets(status, namespecs, strategy)
    if not targets:
        return None
    grouped = _by_application(status, list(targets))
    applications = [status.applications[name] for name in grouped]
    return Run(rules, "stop", applications, options, grouped, stop_only_on=targets)


def conciliation_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, namespecs: Sequence[str],
                      strategy: str) -> Plan:
    """``supv conciliate --dry-run``: the stops the strategy would send."""
    targets = _targets(status, namespecs, strategy)
    placer = Placer.build(rules, snapshot, status)
    app_plans = []
    for name, process_names in _by_application(status, list(targets)).items():
        application = status.applications[name]
        placed = tuple(p for process in application.processes if process.process_name in process_names
                       for p in placer.place_stop(application, process, 0)
                       if p.instance is not None and p.instance.nick in targets[process.namespec])
        app_plans.append(ApplicationPlan(name, 0, application.rules.distribution, application.rules.starting_strategy,
                                         ((0, placed),), f"{strategy}: keeps one copy" if strategy != "stop" else ""))
    return Plan("stop", ((0, tuple(app_plans)),) if app_plans else ())
