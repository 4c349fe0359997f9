"""What one frame of ``supv top`` shows, and how it is cut to fit a terminal. Pure (the CLI renders it).

A :class:`Frame` holds the applications (state, operational status, failures, from the status core),
the instances (state, load against the 100 % cap, processes, controller role), the conflicts and the
last events. :func:`fit` makes it fit a terminal height: rows that need attention are kept first (an
application not RUNNING or not Operational, an instance not RUNNING or running a controller), the others
are summarised in one line (``+ 22 more instances: 22 RUNNING, load 0-45 %``); the events get what is
left (three at least). A frame printed once (``--once``, a pipe) is not cut.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from supv_cli.look.changes import Change, conflicts_in
from supv_cli.model.snapshot import SupervisorState
from supv_cli.status import ClusterStatus
from supv_cli.status.applications import ApplicationState

#: lines of a frame besides the rows: the header line, the applications' and instances' titles and
#: column headers, the conflicts' and the events' titles
FIXED_LINES = 1 + 2 + 2 + 1 + 1
#: the fewest events shown when the terminal is short
MIN_EVENTS = 3


@dataclass(frozen=True)
class AppRow:
    """One application of the frame."""

    name: str
    state: str
    operational_status: str
    major_failure: bool
    minor_failure: bool
    managed: bool

    @property
    def attention(self) -> bool:
        """Not RUNNING, or RUNNING with a failure: shown first when the terminal is short."""
        failed = self.major_failure or self.minor_failure
        return self.managed and (self.state != ApplicationState.RUNNING.name or failed)


@dataclass(frozen=True)
class InstanceRow:
    """One instance of the frame; ``load``, ``running``, ``total`` are None when it did not answer."""

    nick: str
    state: str
    reason: str
    load: int | None
    running: int | None
    total: int | None
    role: str = ""
    #: the host's CPU % (all cores) and memory in use %, measured by its sampler (None without one)
    cpu_percent: float | None = None
    memory_percent: float | None = None

    @property
    def attention(self) -> bool:
        return self.state != SupervisorState.RUNNING or bool(self.role)


@dataclass(frozen=True)
class Frame:
    """Everything one frame shows; ``more_*`` are the summary lines of the rows left out by :func:`fit`."""

    taken_at: float
    interval: float
    applications: tuple[AppRow, ...]
    instances: tuple[InstanceRow, ...]
    conflicts: tuple[tuple[str, tuple[str, ...]], ...]
    events: tuple[Change, ...]
    more_applications: str = ""
    more_instances: str = ""
    more_events: int = 0
    #: counts of the whole cluster (rows may be left out by fit)
    instance_count: int = 0
    running_count: int = 0
    application_count: int = 0


def build_frame(status: ClusterStatus, roles: Mapping[str, str], events: Sequence[Change],
                interval: float, measured: Mapping[str, tuple[float | None, float | None]] | None = None) -> Frame:
    """The frame of one poll: ``roles`` maps nicks to ``acting`` / ``standby`` (the supv controllers),
    ``events`` are the last changes, oldest first, ``measured`` nicks to their host's (CPU %, memory %)
    where a sampler runs."""
    apps = tuple(AppRow(app.application_name, app.statename, app.operational_status, app.major_failure,
                        app.minor_failure, app.managed) for app in status.applications.values())
    rows = []
    for snap in status.snapshot.instances:
        nick = snap.instance.nick
        if snap.reachable:
            running = sum(1 for info in snap.processes if info.running)
            cpu, memory = (measured or {}).get(nick, (None, None))
            rows.append(InstanceRow(nick, snap.state, snap.reason, status.instance_loads.get(nick, 0), running,
                                    len(snap.processes), roles.get(nick, ""), cpu, memory))
        else:
            rows.append(InstanceRow(nick, SupervisorState.UNREACHABLE, snap.reason, None, None, None,
                                    roles.get(nick, "")))
    conflicts = tuple(conflicts_in(status).items())
    running = sum(1 for row in rows if row.state == SupervisorState.RUNNING)
    return Frame(status.snapshot.taken_at, interval, apps, tuple(rows), conflicts, tuple(events),
                 instance_count=len(rows), running_count=running, application_count=len(apps))


def _keep(rows: Sequence[AppRow | InstanceRow], cap: int) -> list[int]:
    """Indexes of at most ``cap`` rows, those needing attention first, in their own order."""
    order = [i for i, row in enumerate(rows) if row.attention] + [i for i, row in enumerate(rows) if not row.attention]
    return sorted(order[:max(0, cap)])


def _apps_summary(rows: Sequence[AppRow]) -> str:
    counts = Counter(row.state for row in rows)
    return f"+ {len(rows)} more applications: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


def _instances_summary(rows: Sequence[InstanceRow]) -> str:
    counts = Counter(row.state for row in rows)
    text = f"+ {len(rows)} more instances: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    loads = [row.load for row in rows if row.load is not None]
    if loads:
        low, high = min(loads), max(loads)
        text += f", load {low} %" if low == high else f", load {low}-{high} %"
    return text


def _share(budget: int, apps: int, instances: int) -> tuple[int, int]:
    """How many application and instance rows fit in ``budget`` lines (a cut list loses one more line
    to its summary)."""
    if apps + instances <= budget:
        return apps, instances
    half = budget // 2
    if apps <= half:
        return apps, max(0, budget - apps - 1)
    if instances <= budget - half:
        return max(0, budget - instances - 1), instances
    return max(0, half - 1), max(0, budget - half - 1)


def fit(frame: Frame, height: int) -> Frame:
    """``frame`` cut to ``height`` lines (see module doc)."""
    budget = max(0, height - FIXED_LINES - len(frame.conflicts))
    events = min(len(frame.events), MIN_EVENTS)
    apps, instances = _share(max(0, budget - events), len(frame.applications), len(frame.instances))
    events = min(len(frame.events), max(events, budget - apps - instances
                                        - (apps < len(frame.applications)) - (instances < len(frame.instances))))
    kept_apps = _keep(frame.applications, apps)
    kept_instances = _keep(frame.instances, instances)
    left_apps = [row for i, row in enumerate(frame.applications) if i not in kept_apps]
    left_instances = [row for i, row in enumerate(frame.instances) if i not in kept_instances]
    return replace(
        frame,
        applications=tuple(frame.applications[i] for i in kept_apps),
        instances=tuple(frame.instances[i] for i in kept_instances),
        events=frame.events[len(frame.events) - events:] if events else (),
        more_applications=_apps_summary(left_apps) if left_apps else "",
        more_instances=_instances_summary(left_instances) if left_instances else "",
        more_events=len(frame.events) - events,
    )


def load_bar(load: int | None, width: int = 10) -> str:
    """``████░░░░░░`` for 40 %: the load against the 100 % cap (full, not more, above it)."""
    if load is None:
        return " " * width
    filled = min(width, (max(0, load) * width + 50) // 100)
    return "\u2588" * filled + "\u2591" * (width - filled)
