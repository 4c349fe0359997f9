"""The planner: (rules, snapshot, status) -> the stages of a staged start or stop. Pure, deterministic.

Start (behaviour spec §3.4, decisions.md): applications by ``start_sequence`` (lowest first, equal
values in parallel; only > 0 unless named), inside each application its programs by ``start_sequence``
(> 0), each stage in parallel. Placement happens stage by stage with the load of what the run already
placed, exactly as the executor does it live, so the dry run shows what a successful run does.
Stop: applications and programs by ``stop_sequence``, highest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from supv_cli.cluster.instances import Instance, InstanceList
from supv_cli.cluster.snapshot import ProcessState, Snapshot
from supv_cli.errors import PlanError, UsageError, unknown_names
from supv_cli.plan.model import Action, ApplicationPlan, Placement, Plan
from supv_cli.plan.placement import (
    LoadModel,
    assign_homogeneous,
    choose,
    choose_node,
    no_resource_reason,
    resolve_identifiers,
    unresolved_reason,
)
from supv_cli.rules.identifiers import program_name_and_index
from supv_cli.rules.model import Distribution

if TYPE_CHECKING:
    from supv_cli.rules import ApplicationRules, Rules
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus


# ----------------------------------------------------------------------------------- application choice
def select_applications(rules: Rules, status: ClusterStatus, names: Sequence[str], kind: str,
                        ) -> list[ApplicationStatus]:
    """The applications a start or stop is about.

    Named: each must be known by an instance and, for a start, managed. None named: for a start every
    managed application with start_sequence > 0; for a stop every managed application.
    """
    by_name = status.applications
    if names:
        processes = [name for name in names if ":" in name]
        if processes:
            plan, command = ("run-plan", "start") if kind == "start" else ("stop-plan", "stop")
            raise UsageError(f"{', '.join(processes)}: {plan} takes applications; name applications here, "
                             f"or use `supv {command} {' '.join(processes)}` for processes")
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise unknown_names("application", unknown, list(by_name))
        selected = [by_name[name] for name in dict.fromkeys(names)]
        if kind == "start":
            unmanaged = [a.application_name for a in selected if not a.rules.managed]
            if unmanaged:
                raise UsageError(f"application {', '.join(unmanaged)} is not managed (no rules match it); "
                                 "add an <application> element to the rules to start it with supv")
        return selected
    if kind == "start":
        return [a for a in status.applications.values() if a.rules.managed and a.rules.start_sequence > 0]
    return [a for a in status.applications.values() if a.rules.managed]


def process_stages(application: ApplicationStatus, kind: str) -> list[tuple[int, list[ProcessStatus]]]:
    """Program stages: start by start_sequence > 0 ascending; stop by stop_sequence descending."""
    groups: dict[int, list[ProcessStatus]] = {}
    for process in application.processes:
        if kind == "start":
            if process.rules.start_sequence > 0:
                groups.setdefault(process.rules.start_sequence, []).append(process)
        else:
            groups.setdefault(process.rules.stop_sequence, []).append(process)
    return sorted(groups.items(), reverse=(kind == "stop"))


# ----------------------------------------------------------------------------------- placement context
@dataclass
class PlanContext:
    """What placement needs to know about the cluster right now."""

    rules: Rules
    instances: InstanceList
    snapshot: Snapshot
    loads: LoadModel
    local: Instance | None = None
    #: application name -> instance (SINGLE_INSTANCE) or node (SINGLE_NODE) chosen for this run
    targets: dict[str, Any] = field(default_factory=dict)
    _by_nick: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _knowers: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, rules: Rules, snapshot: Snapshot, status: ClusterStatus, local: Instance | None = None,
              ) -> PlanContext:
        instances = InstanceList(s.instance for s in snapshot.instances)
        return cls(rules, instances, snapshot, LoadModel(instances, dict(status.instance_loads)), local)

    def usable(self, instance: Instance) -> bool:
        snap = self._snap(instance)
        return snap is not None and snap.usable

    def knows(self, instance: Instance, namespec: str) -> bool:
        return self.snapshot.info(instance, namespec) is not None

    def knowing(self, candidates: Sequence[Instance], namespec: str) -> list[Instance]:
        """The candidates whose supervisord knows ``namespec``, in candidate order."""
        if not self._knowers:  # built once: with '*', every process has every instance as candidate
            for snap in self.snapshot.instances:
                for info in snap.processes:
                    self._knowers.setdefault(info.namespec, set()).add(snap.instance.nick)
        knowers = self._knowers.get(namespec, set())
        return [i for i in candidates if i.nick in knowers]

    def _snap(self, instance: Instance) -> Any:
        if not self._by_nick:  # built once: placement asks for every candidate of every process
            self._by_nick = {snap.instance.nick: snap for snap in reversed(self.snapshot.instances)}
        return self._by_nick.get(instance.nick)

    def config(self, instance: Instance | None, namespec: str) -> tuple[int, int, tuple[int, ...]]:
        """startsecs, stopwaitsecs, exitcodes of a process on an instance (Supervisor defaults if unknown)."""
        info = self.snapshot.info(instance, namespec) if instance is not None else None
        if info is None:
            for snap in self.snapshot.instances:
                info = self.snapshot.info(snap.instance, namespec)
                if info is not None:
                    break
        return (info.startsecs, info.stopwaitsecs, info.exitcodes) if info else (1, 10, (0,))


def process_state_action(process: ProcessStatus, wait_exit: bool) -> tuple[Action, str] | None:
    """DONE / WAIT for a process that must not be (re)started, or None when it has to be started."""
    state = process.state
    where = ", ".join(i.nick for i in process.running_on)
    if state is ProcessState.RUNNING and not wait_exit:
        return Action.DONE, f"already RUNNING on {where}"
    if state in (ProcessState.RUNNING, ProcessState.STARTING, ProcessState.BACKOFF):
        # started outside this run and not finished: the stage waits for it (RUNNING, or its exit)
        return Action.WAIT, f"already {state.name} on {where}: waiting for it"
    if state is ProcessState.STOPPING:
        return Action.DONE, "STOPPING: left alone"
    if wait_exit and state is ProcessState.EXITED and process.expected_exit:
        return Action.DONE, "already EXITED with an expected code"
    return None


def prepare_application(ctx: PlanContext, application: ApplicationStatus) -> str:
    """Choose the instance (SINGLE_INSTANCE) or node (SINGLE_NODE) of an application; return a note.

    A part of the application already running fixes the choice (a rerun converges on it).
    """
    rules = application.rules
    name = application.application_name
    if rules.distribution is Distribution.ALL_INSTANCES:
        return ""
    running = [i for p in application.processes for i in p.running_on]
    candidates = [i for i in resolve_identifiers(rules.identifiers, ctx.instances) if ctx.usable(i)]
    namespecs = [p.namespec for p in application.processes]
    app_load = sum(p.rules.expected_loading for p in application.processes
                   if p.rules.start_sequence > 0 and not p.running_on)
    if rules.distribution is Distribution.SINGLE_INSTANCE:
        if running:
            ctx.targets[name] = running[0]
            return f"SINGLE_INSTANCE: already running on {running[0].nick}"
        hosts = [i for i in candidates if all(ctx.knows(i, n) for n in namespecs)]
        chosen = choose(rules.starting_strategy, hosts, app_load, ctx.loads, ctx.local)
        ctx.targets[name] = chosen
        if chosen is None:
            listed = ", ".join(i.nick for i in hosts) or "none"
            return (f"SINGLE_INSTANCE: no instance can take the application (load {app_load}; candidates "
                    f"knowing every program: {listed}{_stereotype_note(ctx, rules)})")
        return (f"SINGLE_INSTANCE: {chosen.nick} by {rules.starting_strategy.value} (application load {app_load};"
                f" candidates {ctx.loads.describe(hosts)})")
    # SINGLE_NODE
    if running:
        ctx.targets[name] = running[0].node
        return f"SINGLE_NODE: already running on node {running[0].node}"
    nodes = [node for node in dict.fromkeys(i.node for i in candidates)
             if all(any(ctx.knows(i, n) for i in candidates if i.node == node) for n in namespecs)]
    node = choose_node(rules.starting_strategy, nodes, app_load, ctx.loads, ctx.local)
    ctx.targets[name] = node
    if node is None:
        return (f"SINGLE_NODE: no node can take the application (load {app_load}; nodes "
                f"{', '.join(nodes) or 'none'}{_stereotype_note(ctx, rules)})")
    return f"SINGLE_NODE: node {node} by {rules.starting_strategy.value} (application load {app_load})"


def _stereotype_note(ctx: PlanContext, rules: ApplicationRules) -> str:
    """``; stereotype @X: no instance carries it`` when that is why the application has no candidate."""
    names = rules.identifiers or rules.hash_identifiers
    uncarried = ctx.instances.uncarried_stereotypes(names)
    if not uncarried or resolve_identifiers(names, ctx.instances):
        return ""
    return "".join(f"; stereotype {name}: no instance carries it" for name in uncarried)


def _homogeneous_identifiers(ctx: PlanContext, application: ApplicationStatus,
                             process: ProcessStatus) -> tuple[list[Instance], str]:
    """Candidates of a program-level ``#`` / ``@`` process: its one assigned instance."""
    rules = process.rules
    sign, reference_names = ("@", rules.at_identifiers) if rules.at_identifiers else ("#", rules.hash_identifiers)
    program = program_name_and_index(process.process_name)[0]
    siblings = [p.process_name for p in application.processes
                if program_name_and_index(p.process_name)[0] == program
                and (p.rules.at_identifiers if sign == "@" else p.rules.hash_identifiers)]
    reference = resolve_identifiers(reference_names, ctx.instances)
    assigned = assign_homogeneous(siblings, reference, sign).get(process.process_name)
    if assigned is None:
        why = f" ({unresolved_reason(reference_names, ctx.instances)})" if not reference else ""
        return [], (f"'{sign}' over {','.join(reference_names)} leaves no instance for "
                    f"{process.process_name}{why}")
    return [assigned], f"'{sign}' assigns {assigned.nick}"


def place_process(ctx: PlanContext, application: ApplicationStatus, process: ProcessStatus,
                  sequence: int, ignore_wait_exit: bool = False) -> Placement:
    """Place one process for a start (pending load of the run is added for a START)."""
    rules = process.rules
    app_rules: ApplicationRules = application.rules
    wait_exit = rules.wait_exit and not ignore_wait_exit
    base: dict[str, Any] = dict(application_name=application.application_name, process_name=process.process_name,
                sequence=sequence, expected_loading=rules.expected_loading, required=rules.required,
                wait_exit=wait_exit, starting_failure_strategy=rules.starting_failure_strategy)
    early = process_state_action(process, wait_exit)
    if early is not None:
        action, reason = early
        where = process.running_on[0] if process.running_on else None
        return _with_config(ctx, Placement(action=action, instance=where, reason=reason, **base))
    strategy = app_rules.starting_strategy
    prefix = ""
    if app_rules.distribution is Distribution.SINGLE_INSTANCE:
        target = ctx.targets.get(application.application_name)
        identifiers = [target.nick] if target is not None else []
        resolved = [target] if target is not None else []
        prefix = "application instance"
    elif app_rules.distribution is Distribution.SINGLE_NODE:
        node = ctx.targets.get(application.application_name)
        resolved = [i for i in resolve_identifiers(app_rules.identifiers, ctx.instances) if i.node == node]
        identifiers = [i.nick for i in resolved]
        prefix = f"node {node}" if node else ""
    elif rules.at_identifiers or rules.hash_identifiers:
        resolved, prefix = _homogeneous_identifiers(ctx, application, process)
        identifiers = [i.nick for i in resolved]
    else:
        identifiers = list(rules.identifiers)
        resolved = resolve_identifiers(identifiers, ctx.instances)
    known = ctx.knowing(resolved, process.namespec)
    usable = [i for i in known if ctx.usable(i)]
    if app_rules.distribution is Distribution.SINGLE_INSTANCE:
        chosen = usable[0] if usable else None  # the application load was checked when it was chosen
    else:
        chosen = choose(strategy, usable, rules.expected_loading, ctx.loads, ctx.local)
    if chosen is None:
        if app_rules.distribution is not Distribution.ALL_INSTANCES and not identifiers:
            if app_rules.distribution is Distribution.SINGLE_INSTANCE:
                reason = ("No resource available: SINGLE_INSTANCE: no instance chosen for the application"
                          + _stereotype_note(ctx, app_rules))
            else:
                reason = f"No resource available: {prefix or 'no instance chosen for the application'}"
        elif not resolved and prefix:  # program-level '#' / '@' that leaves this process no instance
            reason = f"No resource available: {prefix}"
        else:
            down = [i for i in resolved if not ctx.usable(i)]
            reason = no_resource_reason(identifiers, resolved, known, usable, rules.expected_loading, ctx.loads,
                                        strategy, down)
        return _with_config(ctx, Placement(action=Action.NO_RESOURCE, instance=None, reason=reason, **base))
    description = (f"{strategy.value} among {ctx.loads.describe(usable)}" if len(usable) > 1
                   else f"only candidate ({chosen.nick} load {ctx.loads.load(chosen)})")
    if prefix:
        description = f"{prefix}; {description}"
    ctx.loads.add_pending(chosen, rules.expected_loading)
    return _with_config(ctx, Placement(action=Action.START, instance=chosen, reason=description, **base))


def _with_config(ctx: PlanContext, placement: Placement) -> Placement:
    startsecs, stopwaitsecs, exitcodes = ctx.config(placement.instance, placement.namespec)
    return replace(placement, startsecs=startsecs, stopwaitsecs=stopwaitsecs, exitcodes=exitcodes)


def place_stop(ctx: PlanContext, application: ApplicationStatus, process: ProcessStatus,
               sequence: int) -> list[Placement]:
    """One STOP per instance where the process runs (or one DONE when it runs nowhere)."""
    base: dict[str, Any] = dict(application_name=application.application_name, process_name=process.process_name,
                sequence=sequence, expected_loading=process.rules.expected_loading,
                required=process.rules.required, wait_exit=process.rules.wait_exit)
    if not process.running_on:
        if process.state is ProcessState.STOPPING:
            return [_with_config(ctx, Placement(action=Action.WAIT, instance=None, reason="already STOPPING",
                                                **base))]
        return [_with_config(ctx, Placement(action=Action.DONE, instance=None,
                                            reason=f"not running ({process.state.name})", **base))]
    return [_with_config(ctx, Placement(action=Action.STOP, instance=instance,
                                        reason=f"{process.state.name} on {instance.nick}", **base))
            for instance in process.running_on]


# ----------------------------------------------------------------------------------- whole plans
def _application_stages(applications: Iterable[ApplicationStatus], kind: str,
                        ) -> list[tuple[int, list[ApplicationStatus]]]:
    groups: dict[int, list[ApplicationStatus]] = {}
    for application in applications:
        key = application.rules.start_sequence if kind == "start" else application.rules.stop_sequence
        groups.setdefault(key, []).append(application)
    return sorted(groups.items(), reverse=(kind == "stop"))


def build_start_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, names: Sequence[str] = (),
                     local: Instance | None = None) -> Plan:
    """The staged start of the selected applications, as a successful run would do it."""
    ctx = PlanContext.build(rules, snapshot, status, local)
    selected = select_applications(rules, status, names, "start")
    stages = []
    for sequence, applications in _application_stages(selected, "start"):
        app_plans = []
        for application in applications:
            note = prepare_application(ctx, application)
            program_stages = []
            for program_sequence, processes in process_stages(application, "start"):
                placed = tuple(place_process(ctx, application, p, program_sequence) for p in processes)
                program_stages.append((program_sequence, placed))
                # a wait_exit program has exited when the next stage starts: its load is gone
                for p in placed:
                    if p.action is Action.START and p.wait_exit and p.instance is not None:
                        ctx.loads.remove_pending(p.instance, p.expected_loading)
            app_plans.append(ApplicationPlan(application.application_name, sequence, application.rules.distribution,
                                             application.rules.starting_strategy, tuple(program_stages), note))
        stages.append((sequence, tuple(app_plans)))
    return Plan("start", tuple(stages))


def build_stop_plan(rules: Rules, snapshot: Snapshot, status: ClusterStatus, names: Sequence[str] = ()) -> Plan:
    """The staged stop of the selected applications (highest stop_sequence first)."""
    ctx = PlanContext.build(rules, snapshot, status)
    selected = select_applications(rules, status, names, "stop")
    stages = []
    for sequence, applications in _application_stages(selected, "stop"):
        app_plans = []
        for application in applications:
            program_stages = [(seq, tuple(p for process in processes for p in place_stop(ctx, application, process,
                                                                                          seq)))
                              for seq, processes in process_stages(application, "stop")]
            app_plans.append(ApplicationPlan(application.application_name, sequence, application.rules.distribution,
                                             application.rules.starting_strategy, tuple(program_stages)))
        stages.append((sequence, tuple(app_plans)))
    return Plan("stop", tuple(stages))


def ensure_rules(rules: Rules | None) -> Rules:
    if rules is None:
        raise PlanError("no rules file: give -r FILE, SUPV_RULES or -c FILE")
    return rules
