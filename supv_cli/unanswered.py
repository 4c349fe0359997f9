"""What is known of the instances that do not answer. Pure: no network, no click.

A command cannot ask a dead or frozen supervisord what it runs, but it is not blind either:

* the instance's **last answer** in this command (a ``ClusterSession`` keeps it) says what was there;
* the **rules** say where a process may run (identifiers), and a homogeneous application
  (application-level ``#``, e.g. ``scen3_hci_`` over the consoles) names the copy each instance runs:
  ``scen3_hci_02`` on the second console;
* the **other instances' configuration** gives the programs of that copy (bred groups are identical)
  and of applications several instances share.

:func:`fill_unanswered` uses this so that an application whose only instance is down is still listed
(its processes UNKNOWN, with the instance and why it did not answer as the reason) instead of
disappearing; :func:`may_still_run` says, after a start or a stop, what may still run on the instances
that did not answer, so that the command exits 3 instead of claiming success.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Collection, Iterable, Mapping

from supv_cli.errors import SupvError
from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.runs import Outcome
from supv_cli.model.snapshot import (
    ACTIVE_STATES,
    InstanceSnapshot,
    ProcessInfo,
    ProcessState,
    Snapshot,
    SupervisorState,
)
from supv_cli.rules.model import Distribution

if TYPE_CHECKING:
    from supv_cli.rules import Rules

#: nick -> what that instance last answered in this command
LastAnswers = Mapping[str, InstanceSnapshot]


def allowed_nicks(rules: Rules | None, instances: InstanceList, application: str,
                  process: str | None = None) -> set[str]:
    """The nicks where the rules allow ``application`` (and ``process``) to run; every instance without
    rules or for an unmanaged application."""
    everyone = {instance.nick for instance in instances}
    if rules is None:
        return everyone
    try:
        app_rules = rules.application_rules(application)
        allowed = set(everyone)
        if app_rules.managed and app_rules.distribution is not Distribution.ALL_INSTANCES:
            if app_rules.identifiers:  # the instances it names, or the one its '#' picked
                allowed &= {instance.nick for instance in app_rules.candidates(instances)}
            else:
                allowed &= _resolve(app_rules.hash_identifiers, instances)
        if process is not None:
            proc_rules = rules.process_rules(application, process)
            names = proc_rules.identifiers or proc_rules.hash_identifiers or proc_rules.at_identifiers
            allowed &= _resolve(names, instances)
    except SupvError:  # rules that cannot be resolved for this name: do not guess where it runs
        return everyone
    return allowed


def _resolve(names: Iterable[str], instances: InstanceList) -> set[str]:
    names = tuple(names)
    if not names:
        return {instance.nick for instance in instances}
    return {instance.nick for instance in instances.resolve(names)}


def homogeneous_copies(rules: Rules | None, instances: InstanceList, known: Collection[str],
                       silent: Collection[Instance]) -> dict[str, tuple[str, str]]:
    """Copies of homogeneous applications (application-level ``#``) that the silent instances would run
    and that no answering instance knows: name -> (silent nick, the known sibling it is a copy of).

    The ``#`` list is resolved first (aliases were expanded by the rules; ``*``, nicks, ``host:port``
    and ``@STEREOTYPE`` here): ``#,@CONSOLE`` over three consoles has three copies, not one."""
    if rules is None or not silent:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for sibling in known:
        digits = sibling[len(sibling.rstrip("0123456789")):]
        if not digits:
            continue
        try:
            reference = rules.application_rules(sibling).hash_identifiers
        except SupvError:
            continue
        if not reference:
            continue
        stem = sibling[: len(sibling) - len(digits)]
        for number in range(1, len(instances.resolve(reference)) + 1):
            candidate = f"{stem}{number:0{len(digits)}d}"
            if candidate in known or candidate in found:
                continue
            try:
                resolved = rules.application_rules(candidate).identifiers
            except SupvError:
                continue
            for instance in silent:
                if tuple(resolved) in ((instance.nick,), (instance.identifier,)):
                    found[candidate] = (instance.nick, sibling)
    return found


def declared_on_silent(rules: Rules | None, instances: InstanceList, known: Collection[str],
                       silent: Collection[Instance]) -> dict[str, list[tuple[str, str]]]:
    """Applications the rules name (``<application name=...>``) that no answering instance knows and
    whose named programs the rules allow on a silent instance: name -> [(program, silent nick)].
    What lists ``solo`` when its only program is pinned to ``solo_1`` and solo_1 is down."""
    if rules is None or not silent:
        return {}
    found: dict[str, list[tuple[str, str]]] = {}
    for spec in rules.declared_applications():
        if not spec.name or spec.name in known or spec.name in found:
            continue
        for program in spec.programs:
            if not program.name:
                continue
            allowed = allowed_nicks(rules, instances, spec.name, program.name)
            where = next((instance.nick for instance in silent if instance.nick in allowed), None)
            if where is not None:
                found.setdefault(spec.name, []).append((program.name, where))
    return found


def fill_unanswered(snapshot: Snapshot, rules: Rules | None, instances: InstanceList,
                    last_answers: LastAnswers | None = None) -> Snapshot:
    """``snapshot`` where every instance that did not answer lists what is known of it:

    * from its last answer in this command: a process stopped then (STOPPED, EXITED, FATAL) keeps that
      state, as Supvisors keeps a lost instance's records (a check EXITED there stays EXITED); one
      active then, that no answering instance knows, is UNKNOWN ("last seen RUNNING");
    * from the rules, as UNKNOWN: the copy a homogeneous application has there, with the programs of
      its answering siblings, and the named programs of a named application no answering instance
      knows that the rules allow there.

    Unchanged when every instance answered."""
    silent = [snap for snap in snapshot.instances if not snap.reachable]
    if not silent:
        return snapshot
    known_specs = {info.namespec for snap in snapshot.reachable for info in snap.processes}
    known_groups = {info.group for snap in snapshot.reachable for info in snap.processes}
    by_group: dict[str, dict[str, ProcessInfo]] = {}  # group -> namespec -> its first answer
    for snap in snapshot.reachable:
        for info in snap.processes:
            by_group.setdefault(info.group, {}).setdefault(info.namespec, info)
    added: dict[str, list[ProcessInfo]] = {snap.instance.nick: [] for snap in silent}
    why_of = {snap.instance.nick: f"{snap.instance.nick} did not answer: {snap.reason or snap.state}"
              for snap in silent}
    for snap in silent:
        why = why_of[snap.instance.nick]
        last = (last_answers or {}).get(snap.instance.nick)
        for info in last.processes if last is not None else ():
            if info.state in LAST_KNOWN_STATES:
                added[snap.instance.nick].append(_last_known(info, why))
            elif info.namespec not in known_specs:
                added[snap.instance.nick].append(_unknown(info.group, info.name, f"{why}; last seen "
                                                          f"{info.state.name}"))
    silent_instances = [snap.instance for snap in silent]
    copies = homogeneous_copies(rules, instances, sorted(known_groups), silent_instances)
    for name, (nick, sibling) in copies.items():
        already = {info.namespec for info in added[nick]}
        for info in by_group.get(sibling, {}).values():
            if f"{name}:{info.name}" not in already:
                added[nick].append(_unknown(name, info.name, why_of[nick]))
    filled = {info.group for infos in added.values() for info in infos}
    for name, programs in declared_on_silent(rules, instances, known_groups | filled, silent_instances).items():
        for program, nick in programs:
            added[nick].append(_unknown(name, program, why_of[nick]))
    if not any(added.values()):
        return snapshot
    snaps = tuple(replace(snap, processes=snap.processes + tuple(added.get(snap.instance.nick, ())))
                  if not snap.reachable else snap for snap in snapshot.instances)
    return Snapshot(instances=snaps, taken_at=snapshot.taken_at)


#: the states a silent instance's process keeps from its last answer (nothing runs or changes there
#: without supervisord, which is frozen or dead)
LAST_KNOWN_STATES = frozenset({ProcessState.STOPPED, ProcessState.EXITED, ProcessState.FATAL})


def _last_known(info: ProcessInfo, why: str) -> ProcessInfo:
    if info.spawnerr:
        return info
    said = f"{info.description}; " if info.description else ""
    return replace(info, description=f"{said}last answer ({why})")


def _unknown(group: str, name: str, reason: str) -> ProcessInfo:
    return ProcessInfo(group=group, name=name, state=ProcessState.UNKNOWN, spawnerr=reason)


def may_still_run(snapshot: Snapshot, rules: Rules | None, instances: InstanceList, applications: Collection[str],
                  last_answers: LastAnswers | None = None,
                  processes: Collection[str] | None = None) -> dict[str, list[str]]:
    """For every instance that does not answer in ``snapshot``: the processes of ``applications`` (only
    the namespecs ``processes`` when given) that may run there (nick -> namespecs). From its last answer in
    this command when it gave one (what was active then), else every process of those applications known
    anywhere that the rules allow there."""
    wanted = set(applications)
    known: dict[str, tuple[str, str]] = {}
    for snap in snapshot.instances:
        for info in snap.processes:
            if info.group in wanted:
                known.setdefault(info.namespec, (info.group, info.name))
    found: dict[str, list[str]] = {}
    for snap in snapshot.unreachable:
        nick = snap.instance.nick
        last = (last_answers or {}).get(nick)
        if last is not None:
            names = [info.namespec for info in last.processes if info.group in wanted and info.state in ACTIVE_STATES]
        else:
            names = [namespec for namespec, (group, name) in known.items()
                     if nick in allowed_nicks(rules, instances, group, name)]
            # an application of which nothing is known may still run there when the rules allow it
            names += [group for group in sorted(wanted - {g for g, _ in known.values()})
                      if nick in allowed_nicks(rules, instances, group)]
        if processes is not None:
            names = [name for name in names if name in processes]
        if names:
            found[nick] = list(dict.fromkeys(names))
    return found


# Any: the JSON rows of a run's report (strings, numbers, None), read and written back as they are
def unconfirmed_stops(rows: Iterable[Mapping[str, Any]], risk: Mapping[str, Collection[str]],
                      reasons: Mapping[str, str]) -> list[dict[str, Any]]:
    """The report ``rows`` of a run where every stop that found nothing to do (ALREADY) for a process
    that may still run on an instance that did not answer (``risk``: nick -> namespecs, as
    :func:`may_still_run` gives; ``reasons``: nick -> why) is LOST instead, on that instance: what the
    answering instances showed (stopped) says nothing about it."""
    where: dict[str, str] = {}
    for nick, namespecs in risk.items():
        for namespec in namespecs:
            where.setdefault(namespec, nick)
    marked = []
    for row in rows:
        silent = where.get(row["namespec"])
        if silent is not None and row["action"] == "stop" and row["outcome"] == Outcome.ALREADY.value:
            row = {**row, "outcome": Outcome.LOST.value, "instance": silent,
                   "detail": f"{silent} did not answer ({reasons.get(silent, 'no answer')}): may still run there"}
        marked.append(dict(row))
    return marked


def filled_namespecs(snapshot: Snapshot) -> set[str]:
    """The processes known only from instances that did not answer (what :func:`fill_unanswered` added,
    or what a silent instance still lists)."""
    answered = {info.namespec for snap in snapshot.reachable for info in snap.processes}
    return {info.namespec for snap in snapshot.unreachable for info in snap.processes} - answered


def silent_hosts(snapshot: Snapshot, rules: Rules | None, instances: InstanceList, application: str) -> list[str]:
    """The instances that did not answer and where the rules place ``application`` (a managed one):
    where an application no answering instance knows may be."""
    if rules is None or not snapshot.unreachable:
        return []
    try:
        if not rules.application_rules(application).managed:
            return []
    except SupvError:
        return []
    allowed = allowed_nicks(rules, instances, application)
    return [snap.instance.nick for snap in snapshot.unreachable if snap.instance.nick in allowed]


# ----------------------------------------------------------------------------------- across commands
#: the fields of a process kept in a controller's state line for an instance that stopped answering
_RECORD_FIELDS = ("start", "stop", "exitstatus", "spawnerr", "description")


def last_known_records(answer: InstanceSnapshot) -> list[dict[str, object]]:
    """What an instance last answered, as JSON records (a controller prints them in its state line for
    the instances that stopped answering, so that a later command can keep their last known state)."""
    return [{"group": info.group, "name": info.name, "state": info.state.name,
             **{key: getattr(info, key) for key in _RECORD_FIELDS},
             "exitcodes": list(info.exitcodes) if info.config_known else None} for info in answer.processes]


def answer_of_records(instance: Instance, records: object) -> InstanceSnapshot | None:
    """The last answer :func:`last_known_records` describes (None when ``records`` is not such a list:
    a state line written by another version is ignored, never an error)."""
    if not isinstance(records, list):
        return None
    infos = []
    try:
        for record in records:
            codes = record.get("exitcodes")
            infos.append(ProcessInfo(group=str(record["group"]), name=str(record["name"]),
                                     state=ProcessState[str(record["state"])],
                                     start=float(record.get("start", 0)), stop=float(record.get("stop", 0)),
                                     exitstatus=int(record.get("exitstatus", 0)),
                                     spawnerr=str(record.get("spawnerr", "")),
                                     description=str(record.get("description", "")),
                                     exitcodes=tuple(int(c) for c in codes) if codes is not None else (0,),
                                     config_known=codes is not None))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return InstanceSnapshot(instance=instance, state=SupervisorState.RUNNING, processes=tuple(infos))
