"""Economical snapshots for what polls the cluster for long (the controller, run/stop plans, views
that refresh): full answers only where needed, a liveness probe elsewhere, the configuration cached.

Measured (``bench/idle_cost.py``; supervisord 4.2, 40 programs): supervisord sends its answers 4 KB
per turn of its main loop, and every turn walks all its processes, so what a poll costs supervisord
grows with the size of the answer: 5.3 ms of its CPU for getState + getAllProcessInfo +
getAllConfigInfo (150 KB), 2.2 ms for getAllProcessInfo alone (49 KB), 0.3 ms for getState. The
client side follows the same bytes (XML parsing). Hence, per instance and per poll:

* ``full``: ``getAllProcessInfo`` alone; an answer equal to the previous one but for the clock is
  recognised from a digest of its bytes and not parsed at all (``answers.py``), another is read by the
  fast parser of ``rpcparse``. The configuration (``getAllConfigInfo``, two thirds of the bytes) comes
  from a cache, fetched with the first answer and again only when it may have changed: a new connection
  (supervisord restarted: the transport keeps its connection, see ``transport.py``), a different process
  list (``supervisorctl update``, a group added or removed), supervisord not RUNNING, and once every
  ``config_max_age`` (a program changed in place), each instance at its own moment of that period;
* ``probe``: ``getState`` alone, which says the instance is alive; its processes are those of its last
  full answer. An instance whose last answer was not a RUNNING full answer, or whose connection was
  opened again, always gets a full poll;
* with ``use_log`` (the controller, ``mainlog.py``): a probe reads the tail of the main log
  (``readLog``) instead of ``getState``: the tail that certifies the last full answer (nothing was
  logged since) again, or another, which brings the full answer at once (alone: the tail just read
  certifies it). A periodic full answer comes with the tail in one multicall (the same turn of
  supervisord's loop), a poll of everyone in full without it. An instance whose log
  cannot tell its changes is *log-blind* (a readLog fault; a full answer showing a logged transition
  while its tail did not move) until its next connection, or *unsure* while its tail is empty or has
  no INFO line or a process is STARTING, BACKOFF or STOPPING (:meth:`Poller.unsure`): it gets probes
  by ``getState`` and periodic full answers, as before;
* neither (*watched*): nothing is sent; the kept connection is looked at (one system call): when
  supervisord closed it (killed, crashed, restarting) the instance is probed at once, else its last
  answer stands. A supervisord that is frozen, or a host that vanished without closing anything,
  is only noticed by the next probe or full poll.

A probe, and a full poll whose configuration is cached, are one request each (with the tail: a
multicall): over a kept connection they are sent from the polling thread itself, all at once, and
their answers read as they come (``cluster/pipeline.py``, through :meth:`Poller._first`); a probe's
answer, the same bytes while nothing changed, is recognised from its digest, or, when it is byte for byte
the last one but for its Date, before any reading (:meth:`Poller._echo`).

Periodic work is spread (:meth:`Poller.due`): each instance has its own phase in a period (its place
in the list), so that a cluster of 300 asked every 2 s gives 75 full answers a half-second, never 300
at once; and the instances are asked oldest answer first.

An answer that only differs from the previous one by the clock (``now``, the uptime in
``description``) is the previous :class:`InstanceSnapshot` object itself, so a consumer can tell
"nothing changed" by identity (:func:`same_answers`) and skip its evaluation. Its clock fields are
then those of the first of those answers: a view showing uptimes computes them from ``start`` and
its own clock.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Collection

from supv_cli.cluster.answers import UNCHANGED
from supv_cli.cluster.client import (
    NOT_ASKED,
    SNAPSHOT_CALLS,
    CallError,
    instance_snapshot,
    unreachable_snapshot,
)
from supv_cli.cluster.idle import wait_closed
from supv_cli.cluster.known import (
    DERIVED,
    Known,
    answer_key,
    compact,
    config_names,
    key_of,
    names,
    note_tail,
    same_answers,
    same_names,
    settle,
    slot_passed,
    unpack_with_tail,
)
from supv_cli.cluster.mainlog import READ_LOG, fault_verdict, transitional
from supv_cli.cluster.probes import FULL_WITH_TAIL, echoed, first_request, tails, with_tail
from supv_cli.model.snapshot import Faults, InstanceSnapshot, Snapshot, SupervisorState, Unreachable

if TYPE_CHECKING:
    from supv_cli.cluster.fanout import Fanout, InstanceClient

__all__ = ["CONFIG_MAX_AGE", "NOT_ASKED_YET", "Poller", "same_answers"]

#: period of the fetch of the configuration of an instance, anyway (each at its own moment of it)
CONFIG_MAX_AGE = 300.0
#: the reason of an instance never asked yet, no worker having been free to ask it: no missed poll
NOT_ASKED_YET = "not asked yet (every worker was busy)"
#: the first answers over a connection, and the tail
_SNAPSHOT_WITH_TAIL = [*SNAPSHOT_CALLS, READ_LOG]
#: no tail was read with an answer
_NO_TAIL: Any = object()
#: what a getAllProcessInfo answer implies: supervisord refuses it (SHUTDOWN_STATE) unless RUNNING
_RUNNING_STATE = {"statename": SupervisorState.RUNNING.value}


class Poller:
    """Snapshots through a :class:`~supv_cli.cluster.session.ClusterSession`, at a chosen cost per
    instance (see the module doc)."""

    def __init__(self, session: Fanout, config_max_age: float = CONFIG_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.config_max_age = config_max_age
        self.clock = clock
        #: ask unresponsive instances too (the controller: a poll the session skips is not a missed poll)
        self.ask_all = False
        #: threads of a poll (None: the session's); small requests over kept connections need few, and
        #: each thread costs memory and switches
        self.max_workers: int | None = None
        #: read the tail of each instance's main log instead of getState, with each full answer too, and
        #: certify a full answer while that tail does not change (the controller; ``mainlog.py``)
        self.use_log = False
        #: the instances that gave a full answer during the current poll
        self._fulls: set[str] = set()
        self._lone = False
        count = max(1, len(session.instances))
        self._known = {instance.nick: Known(phase=index / count) for index, instance in enumerate(session.instances)}
        self._lock = threading.Lock()

    def due(self, period: float, full: bool = True) -> set[str]:
        """Nicks due for a full answer (``full=False``: an answer of any kind), or that never gave one.

        Full answers are spread: an instance is due once its own moment of the period (its ``phase``)
        passed since its last full answer, so that each instance answers about every ``period`` seconds
        and the instances of a cluster at evenly spread moments. Any answer is due when the last one is
        older than ``period`` (those follow the full answers, spread already)."""
        now = self.clock()
        with self._lock:
            if full:
                return {nick for nick, known in self._known.items()
                        if slot_passed(known.answered_at, now, period, known.phase)}
            return {nick for nick, known in self._known.items() if now - known.asked_at >= period}

    def unsure(self) -> set[str]:
        """Nicks whose last full answer the tail of their main log cannot certify: log-blind, never
        answered with a usable tail, or a process in a transitional state (its next move may be logged
        at DEBUG only); all of them when the log is not used. These need periodic full answers. So does
        one whose full answer has no digest yet (the first one over a connection comes with the
        configuration): its next full answer, parsed once, is then recognised unparsed ever after."""
        with self._lock:
            return {nick for nick, known in self._known.items()
                    if not self.use_log or known.blind is not None or known.tail is None or known.answer is None
                    or known.multi_digest is None or known.moving}

    def blind(self) -> dict[str, str]:
        """Nick -> why its main log cannot tell its changes (the fallback to full polls)."""
        with self._lock:
            return {nick: known.blind for nick, known in self._known.items() if known.blind is not None}

    def settled(self) -> bool:
        """True when every instance's last answer is a usable one (else it is asked in full each poll)."""
        with self._lock:
            return all(known.last is not None and known.last.usable for known in self._known.values())

    def until_due(self, period: float, nicks: Collection[str] | None = None) -> float:
        """Seconds until one of ``nicks`` (None: all) is due for an answer of any kind (``due(period,
        full=False)``); infinity when none is named."""
        now = self.clock()
        with self._lock:
            return min((known.asked_at + period - now for nick, known in self._known.items()
                        if nicks is None or nick in nicks), default=float("inf"))

    def rest(self, seconds: float) -> bool:
        """Wait ``seconds``, or less: True as soon as supervisord closes a kept connection (``idle.py``)."""
        return wait_closed([self.session.client(instance) for instance in self.session.instances], seconds)

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
        watched = []
        for instance in instances:
            nick = instance.nick
            if nick in skipped:
                continue
            if full is None or nick in full or not settled.get(nick, False):
                kinds[nick] = "full"  # an instance not answering RUNNING is always asked, in full
            elif nick in probe:
                kinds[nick] = "probe"
            else:
                watched.append(instance)
        for nick in self.session.closed(watched):  # no connection, or supervisord closed it: asked
            kinds[nick] = "probe"
        with self._lock:  # the least recently asked first: none is left unasked twice in a row
            asked = sorted((instance for instance in instances if instance.nick in kinds),
                           key=lambda instance: self._known[instance.nick].tried_at
                           if instance.nick in self._known else float("-inf"))
        taken_at = time.time()
        with self._lock:
            self._fulls = set()
            # everyone in full (a job in flight, no leader known): the processes alone, read by the fast
            # parser; a changed answer is then certified again by its next full answer with the tail
            self._lone = full is None
        entries = self.session.each(asked, lambda client: self._one(client, kinds[client.instance.nick] == "full"),
                                    self.ask_all, keep_unasked=True, max_workers=self.max_workers,
                                    first=lambda client: self._first(client, kinds[client.instance.nick] == "full"),
                                    echo=self._echo)
        results = dict(zip((instance.nick for instance in asked), entries))
        snaps = []
        with self._lock:
            for instance in instances:
                known = self._known.setdefault(instance.nick, Known())
                if results.get(instance.nick) is NOT_ASKED:
                    # no worker could ask it in time (hung instances held them all): nothing was asked,
                    # so nothing was missed; its last answer stands
                    if known.last is None:
                        known.last = unreachable_snapshot(CallError(instance, Unreachable.TIMEOUT, NOT_ASKED_YET))
                    snaps.append(known.last)
                    continue
                if instance.nick in results:
                    known.tried_at = self.clock()
                    known.last = settle(known, results[instance.nick])
                    if known.last.reachable:
                        known.asked_at = self.clock()
                assert known.last is not None  # asked above: it was not known to answer RUNNING
                snaps.append(known.last)
            fresh = frozenset(nick for nick, kind in kinds.items() if kind == "full") | self._fulls
        return Snapshot(instances=tuple(snaps), taken_at=taken_at, fresh=fresh)

    # ------------------------------------------------------------------------------ one instance
    def _first(self, client: InstanceClient, full: bool) -> str | tuple[str, tuple[Any, ...]] | None:
        """The request :meth:`_one` makes first on ``client`` when it is a lone one, sent pipelined
        (``session.each``): see :func:`~supv_cli.cluster.probes.first_request`."""
        with self._lock:
            known = self._known.get(client.instance.nick)
            if known is None:
                return None
            return first_request(known, full, client.connections, self.clock(), self.config_max_age,
                                 self.use_log, self._lone)

    def _echo(self, client: InstanceClient, request: bytes, digest: bytes) -> InstanceSnapshot | None:
        """What :meth:`_one` gives for a probe answered with the very bytes of the last answer to it
        (``Fanout.each``'s ``echo``): see :func:`~supv_cli.cluster.probes.echoed` (None: ``_one`` runs)."""
        with self._lock:
            known = self._known.get(client.instance.nick)
            return None if known is None else echoed(known, client.connections, request, digest, self.use_log)

    def _one(self, client: InstanceClient, full: bool) -> InstanceSnapshot:
        """Runs in a worker thread; a CallError it raises is the instance's failure."""
        with self._lock:
            known = self._known.setdefault(client.instance.nick, Known())
            answer, connection = known.answer, known.connection
        if not full and answer is not None and known.last is answer and tails(known, self.use_log):
            # the tail of its main log: the one read with its last full answer says nothing happened
            try:
                tail, digest = client.call_unless(known.tail_digest, READ_LOG[0], *READ_LOG[1])
            except CallError as error:
                if error.kind is not Unreachable.FAULT:
                    raise
                if error.fault_code != Faults.SHUTDOWN_STATE:  # shutting down: the full poll says so
                    with self._lock:
                        known.blind, known.tail = fault_verdict(error.fault_code), None
                return self._full(client, known)
            if tail is UNCHANGED or tail == known.tail:
                with self._lock:
                    if tail is not UNCHANGED:
                        known.tail_digest = digest
                if client.connections == connection:
                    return answer
            # it moved: the processes now, alone (the fast parser reads them); the tail read before them
            # certifies them (a later move changes it again)
            return self._full(client, known, (tail, digest) if tail is not UNCHANGED else _NO_TAIL)
        if not full and answer is not None and known.last is answer:
            # a RUNNING supervisord answers a probe with the very same bytes: recognised, not parsed
            state, digest = client.call_unless(known.state_digest, "supervisor.getState")
            if state is not UNCHANGED and state.get("statename") == SupervisorState.RUNNING:
                with self._lock:
                    known.state_digest = digest
                state = UNCHANGED
            if state is UNCHANGED and client.connections == connection:
                return answer
        return self._full(client, known)

    def _full(self, client: InstanceClient, known: Known, before: Any = _NO_TAIL) -> InstanceSnapshot:
        """The full answer; ``before``: the tail just read and its answer's digest (else the tail comes
        with the processes in one multicall, unless the poll asks everyone in full)."""
        instance = client.instance
        now = self.clock()
        digest = None
        tail: Any = _NO_TAIL
        multi = False
        if known.configs is None or known.connection != client.connections:
            if known.connection != client.connections:
                with self._lock:
                    known.blind = None  # a new connection, maybe a new supervisord: its log is looked at again
            if with_tail(known, self.use_log):  # one round trip: state, processes, configuration (and the tail)
                answers = client.multicall(_SNAPSHOT_WITH_TAIL)
                tail, answers = answers[3], answers[:3]
            else:
                answers = client.multicall(SNAPSHOT_CALLS)
            infos, configs, config_digest = answers[1], answers[2], None
            snap = instance_snapshot(instance, answers)
            if not snap.usable:
                self._forget(known)
                return snap
        else:
            try:
                configs, config_digest = self._configs(client, known, now)
                with self._lock:
                    multi = with_tail(known, self.use_log) and before is _NO_TAIL and not self._lone
                    expect = (known.multi_digest if multi else known.digest) \
                        if known.answer is not None and configs is known.configs else None
                request = FULL_WITH_TAIL if multi else ("supervisor.getAllProcessInfo", ())
                infos, digest = client.call_unless(expect, request[0], *request[1])
                if infos is UNCHANGED:
                    with self._lock:
                        if client.connections == known.connection and known.answer is not None:
                            known.answered_at = self.clock()
                            self._fulls.add(instance.nick)
                            if before is not _NO_TAIL:  # the log moved, not the processes
                                note_tail(known, before[0], DERIVED, known.connection, True, before[1])
                            return known.answer  # the very answer it gave last, but for the clock
                    infos, digest = client.call_unless(None, request[0], *request[1])
                if multi:
                    infos, tail = unpack_with_tail(client.instance, infos)
            except CallError as error:
                if error.fault_code != Faults.SHUTDOWN_STATE:
                    raise
                self._forget(known)
                state = client.call("supervisor.getState")
                return instance_snapshot(instance, [state, error])
            # answered over a new connection (supervisord restarted meanwhile), or a process list changed
            if client.connections != known.connection or not same_names(known, infos):
                configs, config_digest = self._configs(client, known, now, force=True)
                now = self.clock()
            snap = None
        key = answer_key(infos)  # None: not the usual structs, never taken for "unchanged"
        with self._lock:
            if configs is not known.configs:
                configs = compact(configs)
                known.configs, known.config_at = configs, now
                known.config_names = config_names(configs, names(infos))
                known.config_digest = config_digest
            answer_configs = known.answer_configs
            same = known.answer is not None and key is not None and key == key_of(known) and (
                configs is answer_configs or configs == answer_configs)
            if tail is not _NO_TAIL:
                note_tail(known, tail, key, client.connections)
            elif before is not _NO_TAIL:
                note_tail(known, before[0], DERIVED, client.connections, True, before[1])
            elif not same:
                known.tail = None  # a new answer no tail certifies (a poll of everyone in full)
            self._fulls.add(instance.nick)
            known.answer_configs = configs
            known.connection = client.connections
            known.answered_at = self.clock()
            if multi:
                known.multi_digest, known.digest = digest, known.digest if same else None
            else:
                known.digest, known.multi_digest = digest, known.multi_digest if same else None
            if same and known.answer is not None:
                return known.answer  # only the clock moved
            if snap is None:
                snap = instance_snapshot(instance, [_RUNNING_STATE, infos, configs])
            known.answer, known.key, known.moving = snap, DERIVED if key is not None else None, transitional(key)
            return snap

    def _configs(self, client: InstanceClient, known: Known, now: float,
                 force: bool = False) -> tuple[Any, bytes | None]:
        """The configuration to use, and the digest of its answer: the cached one, unless ``force`` or its
        own moment of the period came (then asked again, and parsed only when it changed)."""
        with self._lock:
            cached, cached_digest = known.configs, known.config_digest
        if not force and not slot_passed(known.config_at, now, self.config_max_age, known.phase):
            return cached, cached_digest
        try:
            configs, digest = client.call_unless(None if force else cached_digest, "supervisor.getAllConfigInfo")
        except CallError as error:
            if error.kind is not Unreachable.FAULT:
                raise
            return error, None  # an old supervisord: Supervisor's defaults
        if configs is UNCHANGED:
            with self._lock:
                known.config_at = now
            return cached, cached_digest
        return configs, digest

    def _forget(self, known: Known) -> None:
        """supervisord is not RUNNING (restarting, shutting down): nothing it said is kept."""
        with self._lock:
            known.answer, known.key, known.configs, known.config_at = None, (), None, float("-inf")
            known.digest = known.multi_digest = known.config_digest = None
            known.answered_at = float("-inf")
            known.tail = known.tail_digest = None
