"""Where a process may run and where it goes: candidates, the load model, starting strategies.

Supvisors' semantics (behaviour spec §3.1-§3.3, §1.10, §1.11): candidates keep the rules order (``*``
is the instance order); an instance is valid when the load of its *node* plus the process' expected
load stays within 100; CONFIG takes the first valid candidate, LESS/MOST_LOADED sort the valid ones by
(instance load, node load) and take the first / last (ties keep candidate order), the *_NODE variants
sort by (node load, instance load), LOCAL takes the local instance if valid. Pending load (started by
this run, not running yet) counts like running load, across every application of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from supv_cli.model.identifiers import program_name_and_index
from supv_cli.model.instances import Instance, InstanceList, unresolved_reason
from supv_cli.rules.model import StartingStrategy

#: the node load an instance may reach, percent-like (Supvisors' cap)
LOAD_CAP = 100


@dataclass
class LoadModel:
    """Running load per instance, plus the pending load of the current run; node loads derived."""

    instances: InstanceList
    running: dict[str, int] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    #: node -> nicks of its instances (node loads are asked for every candidate of every placement)
    _nodes: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nodes: dict[str, list[str]] = {}
        for instance in self.instances:
            nodes.setdefault(instance.node, []).append(instance.nick)
        self._nodes = {node: tuple(nicks) for node, nicks in nodes.items()}

    def load(self, instance: Instance) -> int:
        """Instance load: running + pending."""
        return self.running.get(instance.nick, 0) + self.pending.get(instance.nick, 0)

    def node_load(self, node: str) -> int:
        running, pending = self.running, self.pending
        return sum(running.get(nick, 0) + pending.get(nick, 0) for nick in self._nodes.get(node, ()))

    def valid(self, instance: Instance, expected: int) -> bool:
        return self.node_load(instance.node) + expected <= LOAD_CAP

    def add_pending(self, instance: Instance, expected: int) -> None:
        self.pending[instance.nick] = self.pending.get(instance.nick, 0) + expected

    def remove_pending(self, instance: Instance, expected: int) -> None:
        left = self.pending.get(instance.nick, 0) - expected
        if left > 0:
            self.pending[instance.nick] = left
        else:
            self.pending.pop(instance.nick, None)

    def describe(self, candidates: Iterable[Instance]) -> str:
        """``server_1 4, server_2 2`` (instance loads), for plan reasons."""
        return ", ".join(f"{i.nick} {self.load(i)}" for i in candidates)


def choose(strategy: StartingStrategy, candidates: Sequence[Instance], expected: int, loads: LoadModel,
           local: Instance | None = None) -> Instance | None:
    """The instance a starting strategy picks among ordered candidates, or None (no resource)."""
    valid = [c for c in candidates if loads.valid(c, expected)]
    if not valid:
        return None
    if strategy is StartingStrategy.CONFIG:
        return valid[0]
    if strategy is StartingStrategy.LOCAL:
        return local if local is not None and local in valid else None
    if strategy in (StartingStrategy.LESS_LOADED, StartingStrategy.MOST_LOADED):
        ranked = sorted(valid, key=lambda i: (loads.load(i), loads.node_load(i.node)))
    else:
        ranked = sorted(valid, key=lambda i: (loads.node_load(i.node), loads.load(i)))
    if strategy in (StartingStrategy.LESS_LOADED, StartingStrategy.LESS_LOADED_NODE):
        return ranked[0]
    return ranked[-1]


def choose_node(strategy: StartingStrategy, nodes: Sequence[str], expected: int, loads: LoadModel,
                local: Instance | None = None) -> str | None:
    """SINGLE_NODE: the node for a whole application (nodes in instance order)."""
    valid = [n for n in nodes if loads.node_load(n) + expected <= LOAD_CAP]
    if not valid:
        return None
    if strategy is StartingStrategy.CONFIG:
        return valid[0]
    if strategy is StartingStrategy.LOCAL:
        return local.node if local is not None and local.node in valid else None
    ranked = sorted(valid, key=loads.node_load)
    if strategy in (StartingStrategy.LESS_LOADED, StartingStrategy.LESS_LOADED_NODE):
        return ranked[0]
    return ranked[-1]


#: LOCAL without a local instance: supv runs outside supervisord and no --local was given
NO_LOCAL_INSTANCE = ("LOCAL strategy and there is no local instance (supv was not started by a supervisord of "
                     "the list): give --local NICK")


def no_resource_reason(identifiers: Sequence[str], resolved: Sequence[Instance], known: Sequence[Instance],
                       usable: Sequence[Instance], expected: int, loads: LoadModel,
                       strategy: StartingStrategy, down: Sequence[Instance] = (),
                       local: Instance | None = None) -> str:
    """Why no instance was found, in the words an operator needs (``down``: candidates not answering)."""
    if not identifiers:
        return "No resource available: no identifier (unresolved '#'/'@' or empty identifiers)"
    if not resolved:
        return f"No resource available: {unresolved_reason(identifiers, loads.instances)}"
    if not usable and down:
        return f"No resource available: {', '.join(i.nick for i in down)} not reachable/RUNNING"
    if not known:
        return (f"No resource available: no instance among {', '.join(i.nick for i in resolved)} "
                "has this program in its configuration")
    if not usable:
        return f"No resource available: {', '.join(i.nick for i in known)} not reachable/RUNNING"
    if strategy is StartingStrategy.LOCAL:
        if local is None:
            return f"No resource available: {NO_LOCAL_INSTANCE}"
        return (f"No resource available: LOCAL strategy and the local instance ({local.nick}) is not a valid "
                "candidate")
    nodes = ", ".join(f"{i.nick} node load {loads.node_load(i.node)}" for i in usable)
    return f"No resource available: load {expected} exceeds {LOAD_CAP} on every candidate ({nodes})"


def assign_homogeneous(process_names: Sequence[str], reference: Sequence[Instance], sign: str,
                       ) -> dict[str, Instance | None]:
    """Program-level ``#`` / ``@`` over the processes of one program (behaviour spec §1.10).

    Processes are ordered by index (decisions.md naming rule). ``#``: round robin over the reference
    list with roll-over (each goes to the least assigned, ties first). ``@``: one process per instance,
    no roll-over; extra processes get None.
    """
    ordered = sorted(process_names, key=lambda name: (program_name_and_index(name)[1], name))
    result: dict[str, Instance | None] = {}
    if sign == "#":
        counts = [0] * len(reference)
        for name in ordered:
            if not reference:
                result[name] = None
                continue
            position = min(range(len(reference)), key=lambda k: (counts[k], k))
            counts[position] += 1
            result[name] = reference[position]
    else:
        for position, name in enumerate(ordered):
            result[name] = reference[position] if position < len(reference) else None
    return result
