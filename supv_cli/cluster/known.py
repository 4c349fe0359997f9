"""What :class:`~supv_cli.cluster.polling.Poller` keeps of each instance, and the pure helpers over it
(the spreading of periodic work, the compact configuration, the test of unchanged answers)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from supv_cli.cluster.client import CallError, _fault_item, unreachable_snapshot
from supv_cli.cluster.mainlog import fault_verdict, must_be_logged, tail_verdict
from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import InstanceSnapshot, Snapshot, Unreachable

__all__ = ["CHANGE_KEY", "Known", "compact", "names", "note_tail", "same_answers", "settle", "slot_passed",
           "unpack_with_tail"]

#: the fields of a getAllProcessInfo struct that tell a change (not ``now`` nor the uptime)
CHANGE_KEY = itemgetter("group", "name", "state", "start", "stop", "pid", "exitstatus", "spawnerr")


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
    #: its getAllProcessInfo fields that tell a change
    key: tuple[tuple[Any, ...], ...] | None = ()
    #: the cached getAllConfigInfo (a CallError when supervisord has none), its process list, when
    #: fetched, and over which connection
    configs: Any = None
    config_names: frozenset[tuple[str, str]] = frozenset()
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


def note_tail(known: Known, tail: Any, key: tuple[tuple[Any, ...], ...] | None, connection: int,
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
            and must_be_logged(known.key, key):
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


#: what a ProcessInfo takes of getAllConfigInfo (``client._process_info``): all the poller keeps of it
_CONFIG_KEYS = ("group", "name", "startsecs", "stopwaitsecs", "exitcodes", "autostart")


def compact(configs: Any) -> Any:
    """The cached configuration without what no ProcessInfo uses: of 29 members per process, 6 (the
    cache of a 300 x 40 cluster held 40 MB in full)."""
    if not isinstance(configs, list):
        return configs
    return [{key: config[key] for key in _CONFIG_KEYS if key in config} for config in configs
            if isinstance(config, dict)]


def names(infos: Any) -> frozenset[tuple[str, str]]:
    return frozenset((str(info.get("group")), str(info.get("name"))) for info in infos) \
        if isinstance(infos, list) else frozenset()


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
