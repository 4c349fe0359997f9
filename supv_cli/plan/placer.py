"""The public placement API: where each process of a start goes, over one state of the cluster.

One :class:`Placer` is built from (rules, snapshot, status). The planner uses it for a whole plan (the
dry run), the run state machine (``executor.Run``) builds one per step with the loads of what the run
already started, and ``supv start`` uses it for single processes. Everything that decides an instance
lives here or in :mod:`supv_cli.plan.placement` (strategies, load model), so the three agree.

Per application the placer keeps, across steps (``targets`` and ``fresh`` are shared with the run):

* the instance (SINGLE_INSTANCE) or node (SINGLE_NODE) chosen for the application;
* whether the application was entirely stopped when its start was prepared (``fresh``): then its
  ``wait_exit`` programs run again even if they EXITED with an expected code last time (Supvisors starts
  a stopped application from scratch); a partly running application leaves them alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Sequence

from supv_cli.model.identifiers import program_name_and_index
from supv_cli.model.instances import Instance, InstanceList, unresolved_reason
from supv_cli.model.snapshot import InstanceSnapshot, ProcessState, Snapshot
from supv_cli.plan.placement import (
    LoadModel,
    assign_homogeneous,
    choose,
    choose_node,
    no_resource_reason,
)
from supv_cli.plan.stages import Action, Placement
from supv_cli.rules.model import Distribution, StartingStrategy

if TYPE_CHECKING:
    from supv_cli.rules import ApplicationRules, Rules
    from supv_cli.status import ApplicationStatus, ClusterStatus, ProcessStatus


def entirely_stopped(application: ApplicationStatus) -> bool:
    """No process of the application is starting, running, backing off or stopping anywhere."""
    return not any(p.running_on or p.stopping_on or p.state is ProcessState.STOPPING for p in application.processes)


def process_state_action(process: ProcessStatus, wait_exit: bool, again: bool = False) -> tuple[Action, str] | None:
    """DONE / WAIT for a process that must not be (re)started, or None when it has to be started.

    ``again``: a wait_exit program that EXITED with an expected code is started again (fresh start).
    """
    state = process.state
    where = ", ".join(i.nick for i in process.running_on)
    if state is ProcessState.RUNNING and not wait_exit:
        return Action.DONE, f"already RUNNING on {where}"
    if state in (ProcessState.RUNNING, ProcessState.STARTING, ProcessState.BACKOFF):
        # started outside this run and not finished: the stage waits for it (RUNNING, or its exit)
        return Action.WAIT, f"already {state.name} on {where}: waiting for it"
    if state is ProcessState.STOPPING:
        return Action.DONE, "STOPPING: left alone"
    if wait_exit and state is ProcessState.EXITED and process.expected_exit and not again:
        return Action.DONE, "already EXITED with an expected code"
    return None


@dataclass
class Placer:
    """What placement knows about the cluster right now, and the decisions it made for a run."""

    rules: Rules
    snapshot: Snapshot
    loads: LoadModel
    local: Instance | None = None
    #: application name -> instance (SINGLE_INSTANCE) or node (SINGLE_NODE) chosen for this run
    #: (Any: an Instance or a node name, each read by the code of its own distribution)
    targets: dict[str, Any] = field(default_factory=dict)
    #: application name -> entirely stopped when its start was prepared (wait_exit programs run again)
    fresh: dict[str, bool] = field(default_factory=dict)
    _by_nick: dict[str, InstanceSnapshot] = field(default_factory=dict, init=False, repr=False, compare=False)
    _knowers: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, rules: Rules, snapshot: Snapshot, status: ClusterStatus, local: Instance | None = None,
              targets: dict[str, Any] | None = None, fresh: dict[str, bool] | None = None,
              instances: InstanceList | None = None) -> Placer:
        """A placer over ``snapshot``; pass the ``targets`` / ``fresh`` of a run to keep its decisions,
        and its ``instances`` (those of the snapshot, built once per run) not to build them each step."""
        if instances is None:
            instances = InstanceList(s.instance for s in snapshot.instances)
        return cls(rules, snapshot, LoadModel(instances, dict(status.instance_loads)), local,
                   targets if targets is not None else {}, fresh if fresh is not None else {})

    @property
    def instances(self) -> InstanceList:
        return self.loads.instances

    # ------------------------------------------------------------------ what the instances know
    def usable(self, instance: Instance) -> bool:
        """Answering and RUNNING: processes may be started there."""
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

    def _snap(self, instance: Instance) -> InstanceSnapshot | None:
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

    # ------------------------------------------------------------------ loads
    def add_pending(self, pending: dict[str, int]) -> None:
        """Count load started elsewhere (other runs, earlier steps) and not running yet, per nick."""
        for nick, load in pending.items():
            self.loads.pending[nick] = self.loads.pending.get(nick, 0) + load

    def release(self, placement: Placement) -> None:
        """A wait_exit program has exited when the next stage starts: its pending load is gone."""
        if placement.action is Action.START and placement.wait_exit and placement.instance is not None:
            self.loads.remove_pending(placement.instance, placement.expected_loading)

    # ------------------------------------------------------------------ applications
    def prepare(self, application: ApplicationStatus, strategy: StartingStrategy | None = None) -> str:
        """Before the first start of an application in a run: remember whether it is entirely stopped,
        choose its instance (SINGLE_INSTANCE) or node (SINGLE_NODE); return a note for the plan.

        A part of the application already running fixes the choice (a rerun converges on it).
        """
        rules = application.rules
        name = application.application_name
        self.fresh.setdefault(name, entirely_stopped(application))
        strategy = strategy or rules.starting_strategy
        if rules.distribution is Distribution.ALL_INSTANCES:
            return ""
        running = [i for p in application.processes for i in p.running_on]
        candidates = [i for i in rules.candidates(self.instances) if self.usable(i)]
        namespecs = [p.namespec for p in application.processes]
        app_load = sum(p.rules.expected_loading for p in application.processes
                       if p.rules.start_sequence > 0 and not p.running_on)
        if rules.distribution is Distribution.SINGLE_INSTANCE:
            if running:
                self.targets[name] = running[0]
                return f"SINGLE_INSTANCE: already running on {running[0].nick}"
            hosts = [i for i in candidates if all(self.knows(i, n) for n in namespecs)]
            chosen = choose(strategy, hosts, app_load, self.loads, self.local)
            self.targets[name] = chosen
            if chosen is None:
                listed = ", ".join(i.nick for i in hosts) or "none"
                return (f"SINGLE_INSTANCE: no instance can take the application (load {app_load}; candidates "
                        f"knowing every program: {listed}{self._stereotype_note(rules)})")
            return (f"SINGLE_INSTANCE: {chosen.nick} by {strategy.value} (application load {app_load};"
                    f" candidates {self.loads.describe(hosts)})")
        # SINGLE_NODE
        if running:
            self.targets[name] = running[0].node
            return f"SINGLE_NODE: already running on node {running[0].node}"
        nodes = [node for node in dict.fromkeys(i.node for i in candidates)
                 if all(any(self.knows(i, n) for i in candidates if i.node == node) for n in namespecs)]
        node = choose_node(strategy, nodes, app_load, self.loads, self.local)
        self.targets[name] = node
        if node is None:
            return (f"SINGLE_NODE: no node can take the application (load {app_load}; nodes "
                    f"{', '.join(nodes) or 'none'}{self._stereotype_note(rules)})")
        return f"SINGLE_NODE: node {node} by {strategy.value} (application load {app_load})"

    def _stereotype_note(self, rules: ApplicationRules) -> str:
        """``; stereotype @X: no instance carries it`` when that is why the application has no candidate."""
        names = rules.identifiers or rules.hash_identifiers
        uncarried = self.instances.uncarried_stereotypes(names)
        if not uncarried or self.instances.resolve(names):
            return ""
        return "".join(f"; stereotype {name}: no instance carries it" for name in uncarried)

    # ------------------------------------------------------------------ processes
    def _homogeneous(self, application: ApplicationStatus, process: ProcessStatus) -> tuple[list[Instance], str]:
        """Candidates of a program-level ``#`` / ``@`` process: its one assigned instance."""
        rules = process.rules
        sign, reference_names = ("@", rules.at_identifiers) if rules.at_identifiers else ("#", rules.hash_identifiers)
        program = program_name_and_index(process.process_name)[0]
        siblings = [p.process_name for p in application.processes
                    if program_name_and_index(p.process_name)[0] == program
                    and (p.rules.at_identifiers if sign == "@" else p.rules.hash_identifiers)]
        reference = self.instances.resolve(reference_names)
        assigned = assign_homogeneous(siblings, reference, sign).get(process.process_name)
        if assigned is None:
            why = f" ({unresolved_reason(reference_names, self.instances)})" if not reference else ""
            return [], (f"'{sign}' over {','.join(reference_names)} leaves no instance for "
                        f"{process.process_name}{why}")
        return [assigned], f"'{sign}' assigns {assigned.nick}"

    def place(self, application: ApplicationStatus, process: ProcessStatus, sequence: int, *,
              strategy: StartingStrategy | None = None, honour_wait_exit: bool = True,
              again: bool = False) -> Placement:
        """Place one process for a start; a START adds its expected load to the pending load.

        ``strategy`` overrides the application's starting strategy (``supv start --strategy``);
        ``honour_wait_exit`` False treats a wait_exit program as any other (the controller's process
        restarts); ``again`` starts an expected EXITED wait_exit program again (``supv start``), as a
        fresh application (see :meth:`prepare`) does.
        """
        rules = process.rules
        app_rules: ApplicationRules = application.rules
        wait_exit = rules.wait_exit and honour_wait_exit
        base: dict[str, Any] = dict(application_name=application.application_name, process_name=process.process_name,
                                    sequence=sequence, expected_loading=rules.expected_loading,
                                    required=rules.required, wait_exit=wait_exit,
                                    starting_failure_strategy=rules.starting_failure_strategy)
        again = again or self.fresh.get(application.application_name, False)
        early = process_state_action(process, wait_exit, again)
        if early is not None:
            action, reason = early
            where = process.running_on[0] if process.running_on else None
            return self._with_config(Placement(action=action, instance=where, reason=reason, **base))
        strategy = strategy or app_rules.starting_strategy
        prefix = ""
        if app_rules.distribution is Distribution.SINGLE_INSTANCE:
            target = self.targets.get(application.application_name)
            identifiers = [target.nick] if target is not None else []
            resolved = [target] if target is not None else []
            prefix = "application instance"
        elif app_rules.distribution is Distribution.SINGLE_NODE:
            node = self.targets.get(application.application_name)
            resolved = [i for i in app_rules.candidates(self.instances) if i.node == node]
            identifiers = [i.nick for i in resolved]
            prefix = f"node {node}" if node else ""
        elif rules.at_identifiers or rules.hash_identifiers:
            resolved, prefix = self._homogeneous(application, process)
            identifiers = [i.nick for i in resolved]
        else:
            identifiers = list(rules.identifiers)
            resolved = list(self.instances.resolve(identifiers))
        known = self.knowing(resolved, process.namespec)
        usable = [i for i in known if self.usable(i)]
        if app_rules.distribution is Distribution.SINGLE_INSTANCE:
            chosen = usable[0] if usable else None  # the application load was checked when it was chosen
        else:
            chosen = choose(strategy, usable, rules.expected_loading, self.loads, self.local)
        if chosen is None:
            reason = self._no_resource(app_rules, identifiers, resolved, known, usable, prefix, process, strategy)
            return self._with_config(Placement(action=Action.NO_RESOURCE, instance=None, reason=reason, **base))
        description = (f"{strategy.value} among {self.loads.describe(usable)}" if len(usable) > 1
                       else f"only candidate ({chosen.nick} load {self.loads.load(chosen)})")
        if prefix:
            description = f"{prefix}; {description}"
        self.loads.add_pending(chosen, rules.expected_loading)
        return self._with_config(Placement(action=Action.START, instance=chosen, reason=description, **base))

    def _no_resource(self, app_rules: ApplicationRules, identifiers: Sequence[str], resolved: Sequence[Instance],
                     known: Sequence[Instance], usable: Sequence[Instance], prefix: str, process: ProcessStatus,
                     strategy: StartingStrategy) -> str:
        if app_rules.distribution is not Distribution.ALL_INSTANCES and not identifiers:
            if app_rules.distribution is Distribution.SINGLE_INSTANCE:
                return ("No resource available: SINGLE_INSTANCE: no instance chosen for the application"
                        + self._stereotype_note(app_rules))
            return f"No resource available: {prefix or 'no instance chosen for the application'}"
        if not resolved and prefix:  # program-level '#' / '@' that leaves this process no instance
            return f"No resource available: {prefix}"
        down = [i for i in resolved if not self.usable(i)]
        return no_resource_reason(identifiers, resolved, known, usable, process.rules.expected_loading, self.loads,
                                  strategy, down, self.local)

    def _with_config(self, placement: Placement) -> Placement:
        startsecs, stopwaitsecs, exitcodes = self.config(placement.instance, placement.namespec)
        return replace(placement, startsecs=startsecs, stopwaitsecs=stopwaitsecs, exitcodes=exitcodes)

    def place_stop(self, application: ApplicationStatus, process: ProcessStatus, sequence: int) -> list[Placement]:
        """One STOP per instance where the process runs (or one DONE / WAIT when it runs nowhere)."""
        base: dict[str, Any] = dict(application_name=application.application_name, process_name=process.process_name,
                                    sequence=sequence, expected_loading=process.rules.expected_loading,
                                    required=process.rules.required, wait_exit=process.rules.wait_exit)
        if not process.running_on:
            if process.state is ProcessState.STOPPING:
                return [self._with_config(Placement(action=Action.WAIT, instance=None, reason="already STOPPING",
                                                    **base))]
            return [self._with_config(Placement(action=Action.DONE, instance=None,
                                                reason=f"not running ({process.state.name})", **base))]
        return [self._with_config(Placement(action=Action.STOP, instance=instance,
                                            reason=f"{process.state.name} on {instance.nick}", **base))
                for instance in process.running_on]
