"""What :class:`~supv_cli.cluster.polling.Poller` keeps of each instance, and the pure helpers over it
(the spreading of periodic work, the compact configuration, the test of unchanged answers)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from supv_cli.cluster.client import CallError, _fault_item, unreachable_snapshot
from supv_cli.cluster.infos import ChangeKey, change_key, compact_configs, process_key
from supv_cli.cluster.mainlog import fault_verdict, must_be_logged, tail_verdict
from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import InstanceSnapshot, Snapshot, Unreachable

__all__ = ["DERIVED", "Known", "answer_key", "compact", "config_names", "key_of", "names", "note_tail",
           "same_answers", "same_names", "settle", "slot_passed", "unpack_with_tail"]


def answer_key(infos: Any) -> tuple[ChangeKey, ...] | None:
    """The change keys of a getAllProcessInfo answer (``infos.change_key``): what tells a change, not the
    clock; None when it is not the usual list of structs (never taken for unchanged)."""
    try:
        return tuple(map(change_key, infos))
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class Known:
    """What the poller keeps of one instance."""

    #: the last full answer (RUNNING), or None
    answer: InstanceSnapshot | None = None
    #: when it was taken (monotonic)
    answered_at: float = float("-inf")
    #: when the instance last answered anything, a probe or a full poll (monotonic)
    asked_at: float = float("-inf")
    #: when it was last asked (answered or not; monotonic): the least recently asked go first
    tried_at: float = float("-inf")
    #: the change keys of ``answer`` (``answer_key``): :data:`DERIVED` when they are made again from its
    #: ProcessInfo when needed (the poller: they are not kept twice, see :func:`key_of`); () without an
    #: answer, None when it had none
    key: Any = ()
    #: the cached getAllConfigInfo (compact: ``infos.compact_configs``; a CallError when supervisord has
    #: none), the process list of the answer it came with (None: the configuration's own list, the usual
    #: case), when fetched, and over which connection
    configs: Any = None
    config_names: frozenset[tuple[str, str]] | None = frozenset()
    config_at: float = float("-inf")
    connection: int = -1
    #: the configuration ``answer`` was built with
    answer_configs: Any = None
    #: the last thing returned for it (an answer, a probe's or a failure), reused when unchanged
    last: InstanceSnapshot | None = None
    #: the digests of the getAllProcessInfo answer ``answer`` stands for, and of the cached
    #: configuration's answer (None: unknown)
    digest: bytes | None = None
    config_digest: bytes | None = None
    #: the digest of the multicall answer (processes and tail) ``answer`` stands for (None: unknown)
    multi_digest: bytes | None = None
    #: the digest of its last getState answer saying RUNNING (a probe's answer never changes)
    state_digest: bytes | None = None
    #: its place in the periods of :meth:`Poller.due` (0 <= phase < 1)
    phase: float = 0.0
    #: the tail of its main log read with ``answer`` when it can tell a change (``mainlog.py``), else None;
    #: the digest of a lone readLog answer holding that tail
    tail: str | None = None
    tail_digest: bytes | None = None
    #: why its main log cannot tell its changes (None: it may), until its next connection
    blind: str | None = None
    #: a process of ``answer`` is STARTING, BACKOFF or STOPPING (``mainlog.transitional``)
    moving: bool = True


#: :attr:`Known.key` of an answer whose change keys are those of its ProcessInfo (``infos.process_key``)
DERIVED: Any = type("Derived", (), {"__repr__": lambda self: "DERIVED"})()


def key_of(known: Known) -> tuple[ChangeKey, ...] | None:
    """The change keys of ``known.answer`` (what ``answer_key`` gave for its getAllProcessInfo answer),
    made again from its ProcessInfo when :data:`DERIVED`: asked only when an answer is read in full."""
    if known.key is not DERIVED:
        return known.key
    return tuple(map(process_key, known.answer.processes)) if known.answer is not None else ()


def note_tail(known: Known, tail: Any, key: tuple[ChangeKey, ...] | None, connection: int,
              alone: bool = False, digest: bytes | None = None) -> None:
    """The tail read with a new full answer (``key``), before ``known`` takes that answer: kept when it
    can tell a change; and the instance found log-blind when the answer shows a change that must have
    been logged while the tail is the one of the previous full answer (``mainlog.py``). ``alone``: the
    tail was read alone just before the answer (not in its multicall), ``digest`` being the digest of
    that answer: it certifies the answer all the same (a move after it changes the log again), but
    proves no blindness (a move between the two reads is in the answer, not in that tail)."""
    if isinstance(tail, CallError):
        known.blind, known.tail = fault_verdict(tail.fault_code), None
        return
    verdict = tail_verdict(tail)
    if alone:
        known.tail, known.tail_digest = (tail, digest) if verdict is None else (None, None)
        return
    if verdict is None and tail == known.tail and connection == known.connection \
            and must_be_logged(key_of(known), key):
        known.blind, known.tail = "a change was not logged (loglevel warn or above?)", None
        return
    if verdict is not None or tail != known.tail:
        known.tail_digest = None
    known.tail = tail if verdict is None else None


def slot_passed(since: float, now: float, period: float, phase: float) -> bool:
    """Whether a moment ``phase * period + k * period`` (some k) came after ``since``, up to ``now``:
    what spreads periodic work over the period, each instance at its own phase."""
    if since == float("-inf"):
        return True
    offset = phase * period
    return math.floor((now - offset) / period) > math.floor((since - offset) / period)


def compact(configs: Any) -> Any:
    """The configuration to cache: a getAllConfigInfo answer as a compact map (``infos.compact_configs``:
    of 29 members per process the four a ProcessInfo uses, as one tuple shared by the processes
    configured alike; the cache of a 300 x 40 cluster held 40 MB in full, 5.6 MB as dicts of six
    members); anything else (a CallError, an unusual answer) as it is."""
    if not isinstance(configs, list):
        return configs
    found = compact_configs(configs)
    return configs if found is None else found


def names(infos: Any) -> frozenset[tuple[str, str]]:
    return frozenset((str(info.get("group")), str(info.get("name"))) for info in infos) \
        if isinstance(infos, list) else frozenset()


def config_names(configs: Any, listed: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]] | None:
    """What :attr:`Known.config_names` keeps of ``listed`` (the process list of the answer the
    configuration came with): None when it is the compact configuration's own list (nothing kept)."""
    if isinstance(configs, dict) and sum(map(len, configs.values())) == len(listed) \
            and all(name in configs.get(group, ()) for group, name in listed):
        return None
    return listed


def same_names(known: Known, infos: Any) -> bool:
    """Whether the processes of ``infos`` are those of the answer the cached configuration came with."""
    listed = names(infos)
    if known.config_names is not None:
        return listed == known.config_names
    return config_names(known.configs, listed) is None


def same_answers(one: Snapshot | None, other: Snapshot | None) -> bool:
    """True when both snapshots hold the very same instance answers (nothing changed between them but
    the clock): what :class:`~supv_cli.cluster.polling.Poller` gives when nothing changed."""
    if one is None or other is None or len(one.instances) != len(other.instances):
        return False
    return all(a is b for a, b in zip(one.instances, other.instances))


def settle(known: Known, entry: Any) -> InstanceSnapshot:
    """The snapshot to give for one instance from its poll's ``entry`` (an answer or a CallError): the
    previous object when it failed again the same way."""
    snap = unreachable_snapshot(entry) if isinstance(entry, CallError) else entry
    last = known.last
    if last is not None and snap is not last and not snap.reachable and not last.reachable \
            and (snap.error_kind, snap.reason) == (last.error_kind, last.reason):
        return last
    return snap


def unpack_with_tail(instance: Instance, answer: Any) -> tuple[Any, Any]:
    """The processes and the tail of a multicall of getAllProcessInfo and readLog (``polling.py``); a
    fault of the processes raised."""
    if not isinstance(answer, list) or len(answer) != 2:
        raise CallError(instance, Unreachable.PROTOCOL, "not a supervisord (bad system.multicall answer)")
    infos, tail = (_fault_item(instance, item) for item in answer)
    if isinstance(infos, CallError):
        raise infos
    return infos, tail
