"""Economical snapshots for what polls the cluster for long (the controller, run/stop plans, views
that refresh): full answers only where needed, a liveness probe elsewhere, the configuration cached.

Measured (``bench/idle_cost.py``; supervisord 4.2, 40 programs): supervisord sends its answers 4 KB
per turn of its main loop, and every turn walks all its processes, so what a poll costs supervisord
grows with the size of the answer: 5.3 ms of its CPU for getState + getAllProcessInfo +
getAllConfigInfo (150 KB), 2.2 ms for getAllProcessInfo alone (49 KB), 0.3 ms for getState. The
client side follows the same bytes (XML parsing). Hence, per instance and per poll:

* ``full``: ``getAllProcessInfo`` alone, read by the fast parser of ``rpcparse``; the configuration
  (``getAllConfigInfo``, two thirds of the bytes) comes from a cache, fetched with the first answer and
  again only when it may have changed: a new connection (supervisord restarted: the transport keeps its
  connection, see ``transport.py``), a different process list (``supervisorctl update``, a group added
  or removed), supervisord not RUNNING, or older than ``config_max_age`` (a program changed in place);
* ``probe``: ``getState`` alone, which says the instance is alive; its processes are those of its last
  full answer. An instance whose last answer was not a RUNNING full answer, or whose connection was
  opened again, always gets a full poll;
* neither (*watched*): nothing is sent; the kept connection is looked at (one system call): when
  supervisord closed it (killed, crashed, restarting) the instance is probed at once, else its last
  answer stands. A supervisord that is frozen, or a host that vanished without closing anything,
  is only noticed by the next probe or full poll.

An answer that only differs from the previous one by the clock (``now``, the uptime in
``description``) is the previous :class:`InstanceSnapshot` object itself, so a consumer can tell
"nothing changed" by identity (:func:`same_answers`) and skip its evaluation. Its clock fields are
then those of the first of those answers: a view showing uptimes computes them from ``start`` and
its own clock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Collection

from supv_cli.cluster.client import SNAPSHOT_CALLS, CallError, instance_snapshot, unreachable_snapshot
from supv_cli.cluster.snapshot import Faults, InstanceSnapshot, Snapshot, Unreachable

if TYPE_CHECKING:
    from supv_cli.cluster.session import ClusterSession, InstanceClient

__all__ = ["CONFIG_MAX_AGE", "Poller", "same_answers"]

#: seconds after which the cached configuration of an instance is fetched again anyway
CONFIG_MAX_AGE = 60.0
#: the fields of a getAllProcessInfo struct that tell a change (not ``now`` nor the uptime)
_CHANGE_KEY = itemgetter("group", "name", "state", "start", "stop", "pid", "exitstatus", "spawnerr")

#: what a getAllProcessInfo answer implies: supervisord refuses it (SHUTDOWN_STATE) unless RUNNING
_RUNNING_STATE = {"statename": "RUNNING"}


@dataclass
class _Known:
    """What the poller keeps of one instance."""

    #: the last full answer (RUNNING), or None
    answer: InstanceSnapshot | None = None
    #: when it was taken (monotonic)
    answered_at: float = float("-inf")
    #: when the instance last answered anything, a probe or a full poll (monotonic)
    asked_at: float = float("-inf")
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


def same_answers(one: Snapshot | None, other: Snapshot | None) -> bool:
    """True when both snapshots hold the very same instance answers (nothing changed between them but
    the clock): what :class:`Poller` gives when nothing changed."""
    if one is None or other is None or len(one.instances) != len(other.instances):
        return False
    return all(a is b for a, b in zip(one.instances, other.instances))


class Poller:
    """Snapshots through a :class:`~supv_cli.cluster.session.ClusterSession`, at a chosen cost per
    instance (see the module doc)."""

    def __init__(self, session: ClusterSession, config_max_age: float = CONFIG_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.config_max_age = config_max_age
        self.clock = clock
        #: ask unresponsive instances too (the controller: a poll the session skips is not a missed poll)
        self.ask_all = False
        self._known = {instance.nick: _Known() for instance in session.instances}
        self._lock = threading.Lock()

    def due(self, period: float, full: bool = True) -> set[str]:
        """Nicks whose last full answer (``full=False``: last answer of any kind) is older than ``period``
        seconds, or that never gave one."""
        now = self.clock()
        with self._lock:
            return {nick for nick, known in self._known.items()
                    if now - (known.answered_at if full else known.asked_at) >= period}

    def poll(self, full: Collection[str] | None = None, probe: Collection[str] = (),
             skip: Collection[str] = ()) -> Snapshot:
        """One snapshot: instances named in ``full`` (None: all) get a full poll, those in ``probe`` a
        probe; the others are *watched*: asked (a probe) only when their kept connection was closed by
        supervisord or there is none, else their last answer stands. Those in ``skip`` that answered
        (or failed) before are not asked at all: their last answer stands."""
        instances = list(self.session.instances)
        kinds: dict[str, str] = {}
        with self._lock:
            settled = {nick: known.last is not None and known.last.usable for nick, known in self._known.items()}
            skipped = {nick for nick in skip if nick in self._known and self._known[nick].last is not None}
        for instance in instances:
            nick = instance.nick
            if nick in skipped:
                continue
            if full is None or nick in full or not settled.get(nick, False):
                kinds[nick] = "full"  # an instance not answering RUNNING is always asked, in full
            elif nick in probe or self.session.client(instance).peer_closed() is not False:
                kinds[nick] = "probe"
        asked = [instance for instance in instances if instance.nick in kinds]
        taken_at = time.time()
        entries = self.session.each(asked, lambda client: self._one(client, kinds[client.instance.nick] == "full"),
                                    self.ask_all)
        results = dict(zip((instance.nick for instance in asked), entries))
        snaps = []
        with self._lock:
            for instance in instances:
                known = self._known.setdefault(instance.nick, _Known())
                if instance.nick in results:
                    known.last = self._settle(known, results[instance.nick])
                    if known.last.reachable:
                        known.asked_at = self.clock()
                assert known.last is not None  # asked above: it was not known to answer RUNNING
                snaps.append(known.last)
        fresh = frozenset(nick for nick, kind in kinds.items() if kind == "full")
        return Snapshot(instances=tuple(snaps), taken_at=taken_at, fresh=fresh)

    @staticmethod
    def _settle(known: _Known, entry: Any) -> InstanceSnapshot:
        """The snapshot to give for one instance: the previous object when nothing changed."""
        if isinstance(entry, CallError):
            snap = unreachable_snapshot(entry)
        else:
            snap = entry
        last = known.last
        if last is not None and snap is not last and not snap.reachable and not last.reachable \
                and (snap.error_kind, snap.reason) == (last.error_kind, last.reason):
            return last
        return snap

    # ------------------------------------------------------------------------------ one instance
    def _one(self, client: InstanceClient, full: bool) -> InstanceSnapshot:
        """Runs in a worker thread; a CallError it raises is the instance's failure."""
        with self._lock:
            known = self._known.setdefault(client.instance.nick, _Known())
            answer, connection = known.answer, known.connection
        if not full and answer is not None and known.last is answer:
            state = client.call("supervisor.getState")
            if state.get("statename") == "RUNNING" and client.connections == connection:
                return answer
        return self._full(client, known)

    def _full(self, client: InstanceClient, known: _Known) -> InstanceSnapshot:
        instance = client.instance
        now = self.clock()
        stale = known.connection != client.connections or now - known.config_at >= self.config_max_age
        if known.configs is None or stale:
            answers = client.multicall(SNAPSHOT_CALLS)  # one round trip: state, processes, configuration
            infos, configs = answers[1], answers[2]
            snap = instance_snapshot(instance, answers)
            if not snap.usable:
                self._forget(known)
                return snap
        else:
            try:
                infos = client.call("supervisor.getAllProcessInfo")
            except CallError as error:
                if error.fault_code != Faults.SHUTDOWN_STATE:
                    raise
                self._forget(known)
                state = client.call("supervisor.getState")
                return instance_snapshot(instance, [state, error])
            configs = known.configs
            # answered over a new connection (supervisord restarted meanwhile), or a process list changed
            if client.connections != known.connection or _names(infos) != known.config_names:
                try:
                    configs = client.call("supervisor.getAllConfigInfo")
                except CallError as error:
                    if error.kind is not Unreachable.FAULT:
                        raise
                    configs = error  # an old supervisord: Supervisor's defaults
                now = self.clock()
            snap = None
        try:
            key = tuple(map(_CHANGE_KEY, infos))
        except (KeyError, TypeError):  # not the usual struct: never taken for "unchanged"
            key = None
        with self._lock:
            if configs is not known.configs:
                known.configs, known.config_names, known.config_at = configs, _names(infos), now
            answer_configs = known.answer_configs
            known.answer_configs = configs
            known.connection = client.connections
            known.answered_at = self.clock()
            if known.answer is not None and key is not None and key == known.key and (
                    configs is answer_configs or configs == answer_configs):
                return known.answer  # only the clock moved
            if snap is None:
                snap = instance_snapshot(instance, [_RUNNING_STATE, infos, configs])
            known.answer, known.key = snap, key
            return snap

    def _forget(self, known: _Known) -> None:
        """supervisord is not RUNNING (restarting, shutting down): nothing it said is kept."""
        with self._lock:
            known.answer, known.key, known.configs, known.config_at = None, (), None, float("-inf")
            known.answered_at = float("-inf")


def _names(infos: Any) -> frozenset[tuple[str, str]]:
    return frozenset((str(info.get("group")), str(info.get("name"))) for info in infos) \
        if isinstance(infos, list) else frozenset()
