"""Conflicts: a managed process active on several instances, and which copies a strategy stops.

One implementation for the controller (``run-plan --watch --conciliate``) and for ``supv conciliate``:
``infanticide`` keeps the copy started first, ``senicide`` the one started last, ``stop`` stops them
all, ``user`` only reports (Supvisors' conciliation strategies that need no operator). Copies started
in the same second keep the instance-list order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from supv_cli.cluster.snapshot import ProcessInfo, ProcessState

if TYPE_CHECKING:
    from supv_cli.cluster.instances import Instance
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
