"""Starts that are not a plan: supvisorsctl's ``start_any_process`` and ``all_start``.

* :func:`pick_any`: for each regular expression, the first stopped process whose namespec matches it
  (``re.search``, as Supvisors) that the rules can place now (strategy, identifiers, load cap);
* :func:`all_start_targets`: the instances where ``all_start`` starts a process: every answering
  instance that has it configured, that its rules allow (all of them without rules), and where it does
  not run yet;
* :func:`start_outcome`: whether one of those starts is over, and how.

Pure: nothing here touches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from supv_cli.errors import UsageError
from supv_cli.model.instances import InstanceList, resolve_identifiers
from supv_cli.model.snapshot import ProcessState
from supv_cli.plan.placer import Placer
from supv_cli.plan.stages import Action

if TYPE_CHECKING:
    from supv_cli.model.instances import Instance
    from supv_cli.model.snapshot import ProcessInfo, Snapshot
    from supv_cli.rules import Rules
    from supv_cli.rules.model import StartingStrategy
    from supv_cli.status import ClusterStatus, ProcessStatus


@dataclass(frozen=True)
class AnyPick:
    """What one regular expression of ``start_any_process`` chose: a namespec, or why none."""

    regex: str
    namespec: str | None
    reason: str


def compile_regex(regex: str) -> re.Pattern[str]:
    """A regular expression given on the command line; a bad one is a usage error (exit 2)."""
    try:
        return re.compile(regex)
    except re.error as error:
        raise UsageError(f"{regex!r}: not a regular expression ({error})") from None


def pick_any(rules: Rules, snapshot: Snapshot, status: ClusterStatus, regexes: Sequence[str],
             strategy: StartingStrategy | None = None, local: Instance | None = None) -> list[AnyPick]:
    """For each regex, the first process (application then process order) whose namespec it matches, that
    runs nowhere, and that the rules place now; the load of each pick counts for the next regex."""
    placer = Placer.build(rules, snapshot, status, local)
    chosen: set[str] = set()
    picks = []
    for regex in regexes:
        pattern = compile_regex(regex)
        matching = [p for application in status.applications.values() for p in application.processes
                    if pattern.search(p.namespec) and p.namespec not in chosen]
        runnable = [p for p in matching if not p.running]
        pick = None
        reasons = []
        for process in runnable:
            application = status.applications[process.application_name]
            placer.prepare(application, strategy)
            placement = placer.place(application, process, 0, strategy=strategy, again=True)
            if placement.action is Action.START:
                pick = process.namespec
                break
            reasons.append(f"{process.namespec}: {placement.reason}")
        if pick is not None:
            chosen.add(pick)
            picks.append(AnyPick(regex, pick, ""))
        elif not matching:
            picks.append(AnyPick(regex, None, "no process matches it"))
        elif not runnable:
            picks.append(AnyPick(regex, None, f"every process matching it runs already "
                                              f"({', '.join(p.namespec for p in matching[:5])})"))
        else:
            picks.append(AnyPick(regex, None, "no candidate can be placed: " + "; ".join(reasons[:3])))
    return picks


def all_start_targets(status: ClusterStatus, process: ProcessStatus, rules: Rules | None
                      ) -> list[tuple[Instance, ProcessInfo]]:
    """Every answering RUNNING instance that has ``process`` configured, that its rules' identifiers
    allow (``*`` without rules), and where it is not running (nor starting): where ``all_start`` starts it."""
    snaps = [snap for snap in status.snapshot.instances if snap.usable]
    allowed = _allowed(status, process, rules)
    targets = []
    for snap in snaps:
        info = snap.process(process.namespec)
        if info is None or (allowed is not None and snap.instance.nick not in allowed):
            continue
        if not info.running:
            targets.append((snap.instance, info))
    return targets


def all_start_silent(status: ClusterStatus, process: ProcessStatus, rules: Rules | None) -> list[tuple[str, str]]:
    """(nick, why) of the instances that did not answer and that ``process``'s rules allow (every one
    without rules): ``all_start`` would start it there too, and cannot tell."""
    allowed = _allowed(status, process, rules)
    return [(snap.instance.nick, snap.reason or snap.state) for snap in status.snapshot.unreachable
            if allowed is None or snap.instance.nick in allowed]


def _allowed(status: ClusterStatus, process: ProcessStatus, rules: Rules | None) -> set[str] | None:
    """The nicks ``process``'s rules' identifiers allow; None without rules (any instance)."""
    if rules is None:
        return None
    names = [*process.rules.identifiers, *process.rules.at_identifiers, *process.rules.hash_identifiers]
    everyone = InstanceList(snap.instance for snap in status.snapshot.instances)
    return {i.nick for i in resolve_identifiers(names, everyone)}


def start_outcome(info: ProcessInfo | None) -> tuple[str, str] | None:
    """(outcome, detail) once a start requested on one instance is over; None while it goes on."""
    if info is None:
        return "FAILED", "no longer configured there"
    if info.state is ProcessState.RUNNING:
        return "RUNNING", f"pid {info.pid}"
    if info.state is ProcessState.EXITED and info.expected_exit:
        return "EXITED", f"exited with expected code {info.exitstatus}"
    if info.state in (ProcessState.FATAL, ProcessState.EXITED):
        return "FAILED", f"{info.state.name}{': ' + info.spawnerr if info.spawnerr else ''}"
    return None
