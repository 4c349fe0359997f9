"""The Prometheus metrics of ``supv metrics``, as plain data. Pure (the CLI hands them to prometheus-client).

Every metric is a gauge named ``supv_*`` (names and labels documented in docs/metrics.md, fixed in
cli.md). States are state sets: one series per possible state, 1 for the current one, 0 for the others,
so that an alert can say ``== 0`` of the state it wants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from supv_cli.cluster.stats import SamplerReport
from supv_cli.model.snapshot import ACTIVE_STATES, InstanceSnapshot, ProcessState, SupervisorState
from supv_cli.status import ClusterStatus
from supv_cli.status.applications import ApplicationState

#: the states of an instance: supervisord's, or UNREACHABLE
INSTANCE_STATES = tuple(state.value for state in SupervisorState)
PROCESS_STATES = tuple(state.name for state in ProcessState)
APPLICATION_STATES = tuple(state.name for state in ApplicationState)


@dataclass
class Family:
    """One metric: its name, help, label names and samples (label values, value)."""

    name: str
    help: str
    labels: tuple[str, ...]
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def add(self, value: float, *labels: str) -> None:
        self.samples.append((labels, float(value)))


def _state_set(family: Family, current: str, states: Sequence[str], *labels: str) -> None:
    for state in states if current in states else (*states, current):
        family.add(1.0 if state == current else 0.0, *labels, state)


def lost_processes(status: ClusterStatus, last_answers: Mapping[str, InstanceSnapshot]) -> list[tuple[str, str, str]]:
    """(application, process, nick) of every process running nowhere now that was active, at its last
    answer, on an instance that does not answer any more: a program lost with its host."""
    silent = {snap.instance.nick for snap in status.snapshot.unreachable}
    lost = []
    for nick in sorted(silent & set(last_answers), key=list(last_answers).index):
        for info in last_answers[nick].processes:
            current = status.processes.get(info.namespec)
            if info.state in ACTIVE_STATES and (current is None or not current.running):
                lost.append((info.group, info.name, nick))
    return lost


def cluster_families(status: ClusterStatus, controllers: Mapping[str, Mapping[str, object]],
                     last_answers: Mapping[str, InstanceSnapshot] | None = None) -> list[Family]:
    """Instances, processes, applications, conflicts, controllers and lost programs."""
    up = Family("supv_instance_up", "1 when the supervisord instance answers XML-RPC, else 0.", ("instance",))
    state = Family("supv_instance_state", "supervisord state of the instance (1 for the current one).",
                   ("instance", "state"))
    seconds = Family("supv_instance_rpc_seconds", "Duration of the last poll of the instance.", ("instance",))
    load = Family("supv_instance_load_percent", "Sum of expected_loading of the processes running on the "
                  "instance (the rules' load).", ("instance",))
    processes = Family("supv_process_state", "Supervisor state of a process on an instance (1 for the "
                       "current one).", ("instance", "application", "process", "state"))
    for snap in status.snapshot.instances:
        nick = snap.instance.nick
        up.add(1.0 if snap.reachable else 0.0, nick)
        _state_set(state, snap.state if snap.reachable else SupervisorState.UNREACHABLE, INSTANCE_STATES, nick)
        seconds.add(round(snap.elapsed, 6), nick)
        if snap.reachable:
            load.add(status.instance_loads.get(nick, 0), nick)
        for info in snap.processes if snap.reachable else ():
            _state_set(processes, info.state.name, PROCESS_STATES, nick, info.group, info.name)
    app_state = Family("supv_application_state", "Supvisors state of an application (1 for the current one).",
                       ("application", "state"))
    major = Family("supv_application_major_failure", "1 when the application has a major failure.",
                   ("application",))
    minor = Family("supv_application_minor_failure", "1 when the application has a minor failure.",
                   ("application",))
    operational = Family("supv_application_operational", "1 when the application is RUNNING and "
                         "Operational, else 0 (Degraded, Not Operational, not RUNNING).", ("application",))
    managed = Family("supv_application_managed", "1 when the rules manage the application.", ("application",))
    for app in status.applications.values():
        name = app.application_name
        _state_set(app_state, app.statename, APPLICATION_STATES, name)
        major.add(app.major_failure, name)
        minor.add(app.minor_failure, name)
        operational.add(app.operational_status == "Operational", name)
        managed.add(app.managed, name)
    conflicts = Family("supv_conflicts", "Instances where a managed process is active, for each process "
                       "active on more than one.", ("application", "process"))
    for process in status.conflicts():
        conflicts.add(len(process.identifiers), process.application_name, process.process_name)
    acting = Family("supv_controller_acting", "1 for the supv controller that acts, 0 for one standing by.",
                    ("instance",))
    for nick, known in controllers.items():
        acting.add(bool(known.get("acting")), nick)
    lost = Family("supv_process_lost", "1 for a process running nowhere that was active on an instance "
                  "that stopped answering (where it was last seen).", ("application", "process", "instance"))
    for group, name, nick in lost_processes(status, last_answers or {}):
        lost.add(1.0, group, name, nick)
    return [up, state, seconds, load, processes, app_state, major, minor, operational, managed, conflicts, acting,
            lost]


def stats_families(status: ClusterStatus, reports: Mapping[str, SamplerReport]) -> list[Family]:
    """The samplers' figures: hosts and the processes measured with the pid they run with now."""
    sampler = Family("supv_sampler_up", "1 when the instance's sampler gives fresh statistics.", ("instance",))
    host_cpu = Family("supv_host_cpu_percent", "CPU use of the host, percent of all its cores.", ("instance",))
    host_mem = Family("supv_host_memory_percent", "Memory in use on the host (total - available), percent.",
                      ("instance",))
    host_used = Family("supv_host_memory_used_bytes", "Memory in use on the host (total - available).",
                       ("instance",))
    host_load = Family("supv_host_load1", "1-minute load average of the host.", ("instance",))
    cpu = Family("supv_process_cpu_percent", "CPU use of a process, percent of one core.",
                 ("instance", "application", "process"))
    rss = Family("supv_process_rss_bytes", "Resident memory of a process.", ("instance", "application", "process"))
    for snap in status.snapshot.instances:
        nick = snap.instance.nick
        report = reports.get(nick)
        sample = report.sample if report is not None and report.sampling else None
        sampler.add(sample is not None, nick)
        if sample is None:
            continue
        if sample.host.cpu_percent is not None:
            host_cpu.add(sample.host.cpu_percent, nick)
        host_mem.add(sample.host.memory_percent, nick)
        host_used.add(sample.host.memory_used, nick)
        host_load.add(sample.host.load[0], nick)
        for info in snap.processes:
            measured = sample.processes.get(info.namespec)
            if measured is None or measured.pid != info.pid or info.pid <= 0:
                continue
            if measured.cpu_percent is not None:
                cpu.add(measured.cpu_percent, nick, info.group, info.name)
            rss.add(measured.rss_bytes, nick, info.group, info.name)
    return [sampler, host_cpu, host_mem, host_used, host_load, cpu, rss]
