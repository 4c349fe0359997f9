"""What the controller asks each instance at each cycle: the economics of watching.

Measured (``bench/idle_cost.py``, ``bench/scale.py --request-cost``): a request costs a small
supervisord about 0.5 ms of CPU whatever it asks (HTTP, XML-RPC, a few turns of its main loop), a large
one more with the size of the answer (getAllProcessInfo of 40 programs: 4.17 ms); so the cost of
watching is the number of requests, and the size of the full ones (see ``cluster/polling.py``). Every
cycle (``--interval``, 0.5 s) a controller must notice a dead instance; it needs the processes only
when they changed, which supervisord's own main log tells (``cluster/mainlog.py``). So, per instance:

* the kept connection of every instance is *watched* at every cycle, for free: a supervisord that
  dies (kill -9, crash, restart) closes it, and is then asked at once (refused: a missed poll);
* the acting controller *probes* each *guarded* instance (``Controller.guarded``, ``recovery.guarded``:
  where its loss or a crash would make the recovery act) every ``PROBE_EVERY`` seconds, the others
  every ``IDLE_PROBE_EVERY`` (whatever happens there, the controller does nothing): it reads the last bytes
  of its main log (``readLog``), which also tells a frozen supervisord or a vanished host (its
  connection stays open) from a quiet one; a tail other than the one read with the last full answer
  brings the full answer at once, in the same poll (a crash is seen within ``PROBE_EVERY``, 2 s
  before); an unchanged tail certifies the last full answer, which is then asked only every
  ``SAFETY_EVERY`` (a group added or removed is not logged);
* an instance whose log cannot certify its answer (``Poller.unsure``: loglevel warn or above,
  logfile = syslog or a pipe, a log found not to tell a change, a process STARTING, BACKOFF or
  STOPPING, whose next move may be logged at DEBUG only) is asked as before: in full every
  ``FULL_EVERY``, ``getState`` in between;
* at every cycle while a job is in flight (a staged start or stop follows its programs closely) or
  while the instance does not answer RUNNING: in full;
* a standby reads the tail of every guarded instance every ``STANDBY_FULL_EVERY`` seconds (the others
  every ``STANDBY_IDLE_EVERY``), the leader's every ``FULL_EVERY`` when it is the leader's *successor*
  (``Controller.successor``: it takes over first should the leader be lost; another standby watches
  the leader's instance as any other) (an unsure one: in full at those periods, as before), in full when it changed and
  every ``STANDBY_SAFETY_EVERY``: what takeover needs, the last answer of every instance certified at
  most 10 s old, at a fraction of the requests. When the leader's instance misses a poll, it asks
  every other instance at once, in full, so that its missed polls, quorum and last answers are fresh
  when it may take over;
* no leader known (start-up, or a controller started outside supervisord): everything, in full;
* the instances a decision waits for (``controller.evidence.wanted``, :mod:`.evidence`): in full, once.
  An answer certified by the tail is *not* fresh evidence (``Snapshot.fresh`` names full answers only):
  a move to STOPPING is logged at DEBUG only, so a decision still asks for the full answer.

So a killed instance is lost after ``--lost-after`` cycles as before (its connection closes at once);
the acting controller notices a frozen supervisord or a host gone without closing its connections
within ``PROBE_EVERY`` (+ the call timeout) on a guarded instance (``IDLE_PROBE_EVERY`` on another),
the leader's successor within ``FULL_EVERY`` for the leader's instance (``STANDBY_FULL_EVERY`` for the
others); a process that crashes on a live instance within ``PROBE_EVERY`` (``FULL_EVERY`` on an unsure
instance).

Every periodic request is spread over its period, each instance at its own moment (``Poller.due``):
300 instances asked every 2 s are 75 a half-second, never 300 at once; a poll uses ``POLL_WORKERS``
threads (a request over a kept connection waits for the network, not for a thread; fewer threads cost
less memory and fewer switches: measured at 300 x 40, 8 threads against 32: RSS 64 against 73 MB).

At rest (:func:`at_rest`: no job, every answer usable, nothing due, no decision waiting), a cycle would
ask nothing: the controller's loop skips it (``controller/loop.resting``) and waits until the next
probe or tail is due (a cycle at least every ``LONGEST_REST`` seconds) on the kept connections
(``cluster/idle.py``), so that a supervisord that dies ends the rest at once: its first missed poll
comes sooner than at the next tick.
``--interval`` stays the period of the cycles whenever anything is due.

And a cycle whose answers did not change (the poller gives the very same answer objects, see
``cluster/polling.py``) does not evaluate the cluster again (:class:`Evaluations`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Collection, Protocol, Sized

from supv_cli.cluster.polling import same_answers
from supv_cli.model.snapshot import Snapshot
from supv_cli.status import evaluate

if TYPE_CHECKING:
    from supv_cli.cluster.polling import Poller
    from supv_cli.controller.evidence import Evidence
    from supv_cli.rules import Rules
    from supv_cli.status import ClusterStatus

__all__ = ["FULL_EVERY", "IDLE_PROBE_EVERY", "POLL_WORKERS", "PROBE_EVERY", "SAFETY_EVERY", "STANDBY_FULL_EVERY",
           "STANDBY_IDLE_EVERY", "STANDBY_SAFETY_EVERY",
           "Evaluations", "at_rest", "full_this_cycle", "paced_snapshots", "probes_this_cycle"]

#: seconds between two full answers of an instance to the acting controller when no job is in flight
FULL_EVERY = 2.0
#: seconds between two full answers of an instance to a standby controller
STANDBY_FULL_EVERY = 10.0
#: seconds between two answers of any kind (a probe at least) of an instance to the acting controller
PROBE_EVERY = 1.0
#: threads of one poll of the controller
POLL_WORKERS = 8
#: seconds between two probes by the acting controller of an instance that is not *guarded* (nothing the
#: controller would act on runs there: its loss or a crash there would start nothing), a standby's reads of
#: its tail (the leader's excepted) every ``STANDBY_IDLE_EVERY``: Supvisors' tick period
IDLE_PROBE_EVERY = 5.0
STANDBY_IDLE_EVERY = 30.0
#: seconds between two full answers of an instance whose main log tells its changes, to the acting
#: controller (a group added or removed is not logged) and to a standby
SAFETY_EVERY = 30.0
STANDBY_SAFETY_EVERY = 60.0


def full_this_cycle(acting: bool, busy: bool, leader: str | None, due: Callable[[float], set[str]],
                    full_every: float = FULL_EVERY, standby_full_every: float = STANDBY_FULL_EVERY,
                    unsure: set[str] | None = None, successor: bool = True) -> set[str] | None:
    """The instances to ask for their full answer this cycle (None: every one); the others are watched.
    ``due(period)`` gives the instances whose last full answer is older than ``period`` seconds;
    ``unsure`` those whose main log cannot certify their last full answer (``Poller.unsure``; None:
    every one): the others need a full answer only every ``SAFETY_EVERY`` (the acting controller) or
    ``STANDBY_SAFETY_EVERY`` (a standby), a changed tail bringing one at once (``cluster/polling.py``).
    A standby that is not the ``successor`` of the leader watches the leader's instance as any other."""
    if acting:
        if busy:
            return None
        return due(full_every) if unsure is None else (due(full_every) & unsure) | due(SAFETY_EVERY)
    if leader is None:
        return None
    close = due(full_every) & {leader} if successor else set()
    if unsure is None:
        return due(standby_full_every) | close
    return ((due(standby_full_every) | close) & unsure) | due(STANDBY_SAFETY_EVERY)


def probes_this_cycle(acting: bool, due_any: Callable[[float], set[str]], probe_every: float = PROBE_EVERY,
                      leader: str | None = None, unsure: set[str] | None = None,
                      guarded: Collection[str] | None = None, successor: bool = True) -> set[str]:
    """The instances to probe this cycle (the tail of their main log, or ``getState``), besides the full
    ones (``due_any``, as ``due`` over any answer): the acting controller's that answered nothing for
    ``probe_every`` seconds when they are ``guarded`` (None: every one), ``IDLE_PROBE_EVERY`` when not;
    a standby's whose main log certifies their last full answer, every ``STANDBY_FULL_EVERY`` when
    guarded, ``STANDBY_IDLE_EVERY`` when not, the leader's every ``FULL_EVERY`` (by its ``successor``
    only), in place of their full answers."""
    if acting:
        if guarded is None:
            return due_any(probe_every)
        return (due_any(probe_every) & set(guarded)) | due_any(IDLE_PROBE_EVERY)
    if unsure is None or leader is None:
        return set()
    others = due_any(STANDBY_FULL_EVERY)
    if guarded is not None:
        others = (others & set(guarded)) | due_any(STANDBY_IDLE_EVERY)
    close = due_any(FULL_EVERY) & {leader} if successor else set()
    return (others | close) - unsure


def paced_snapshots(controller: Paced, poller: Poller, full_every: float = FULL_EVERY,
                    standby_full_every: float = STANDBY_FULL_EVERY) -> Callable[[], Snapshot]:
    """The ``snapshot_fn`` of :func:`~supv_cli.controller.loop.watch`: each call asks every instance what
    the controller's role needs now (see the module doc)."""
    poller.max_workers = POLL_WORKERS
    # a poller that cannot read main logs (the simulated ones of the tests) is polled as log-blind
    if getattr(poller, "unsure", None) is not None:
        poller.use_log = True

    def snapshot() -> Snapshot:
        leader = None if controller.acting else controller.leader
        full, probe = _asks(controller, poller, full_every, standby_full_every)
        taken = poller.poll(full=full, probe=probe)
        if full is not None and leader is not None and any(
                snap.instance.nick == leader and not snap.usable for snap in taken):
            # the leader may be going: fresh answers of everyone before deciding, but the leader's own,
            # whose timeout was just waited (waiting it twice a cycle delayed a takeover by a second a cycle)
            return poller.poll(skip={leader})
        return taken

    return snapshot


def _asks(controller: Paced, poller: Poller, full_every: float,
          standby_full_every: float) -> tuple[set[str] | None, set[str]]:
    """The instances to ask in full (None: all) and to probe, now (see the module doc)."""
    leader = None if controller.acting else controller.leader
    unsure = poller.unsure() if getattr(poller, "use_log", False) else None
    full = full_this_cycle(controller.acting, bool(controller.jobs), leader, poller.due, full_every,
                           standby_full_every, unsure, controller.successor)
    if full is not None and controller.evidence.wanted:  # a decision waits for their fresh answers
        full = full | controller.evidence.wanted
    probe = probes_this_cycle(controller.acting, lambda period: poller.due(period, full=False), leader=leader,
                              unsure=unsure, guarded=controller.guarded, successor=controller.successor)
    return full, probe


def at_rest(controller: Paced, poller: Poller, interval: float, full_every: float = FULL_EVERY,
            standby_full_every: float = STANDBY_FULL_EVERY) -> Callable[[], float]:
    """The seconds until a cycle has something to do, 0 when it has now (then
    :func:`~supv_cli.controller.loop.resting` runs it): a job in flight, an instance whose last answer
    is not usable, a full answer or a probe due, a decision waiting for evidence. Else, when the main
    log certifies every instance: until the next probe (acting: every ``PROBE_EVERY``) or tail
    (standby: the leader's every ``full_every``, the others' every ``standby_full_every``) is due, the
    full answers of those (every ``SAFETY_EVERY`` or more) being asked with the cycle of a probe; with an
    unsure instance (full answers every ``full_every``, at their own phases): ``interval``. A kept
    connection that closes is not known here: the rest that waits on them ends at once (``cluster/idle.py``)."""

    def quiet() -> float:
        if controller.jobs or not poller.settled():
            return 0.0
        full, probe = _asks(controller, poller, full_every, standby_full_every)
        if full is None or full or probe:
            return 0.0
        if not getattr(poller, "use_log", False) or poller.unsure():
            return interval
        guarded = controller.guarded
        if controller.acting:
            if guarded is None:
                return max(0.01, poller.until_due(PROBE_EVERY))
            return max(0.01, min(poller.until_due(PROBE_EVERY, guarded), poller.until_due(IDLE_PROBE_EVERY)))
        leader = {controller.leader} if controller.leader and controller.successor else set()
        others = poller.until_due(standby_full_every) if guarded is None else min(
            poller.until_due(standby_full_every, guarded), poller.until_due(STANDBY_IDLE_EVERY))
        return max(0.01, min(others, poller.until_due(full_every, leader)))

    return quiet


class Evaluations:
    """``status.evaluate`` for the controller, done again only when something changed: the same
    answers (by identity) and the same lost instances give the same status, ``evaluate`` being pure."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._snapshot: Snapshot | None = None
        self._lost: frozenset[str] = frozenset()
        self._status: ClusterStatus | None = None

    def __call__(self, snapshot: Snapshot, lost: Collection[str]) -> ClusterStatus:
        lost = frozenset(lost)
        if self._status is None or lost != self._lost or not same_answers(snapshot, self._snapshot):
            self._status = evaluate(self.rules, snapshot, lost)
            self._snapshot, self._lost = snapshot, lost
        return self._status


class Paced(Protocol):
    """What the pacing reads of the controller (:class:`~supv_cli.controller.core.Controller`, which
    imports this module: no import back): its role, whether a job is in flight, what a decision waits for,
    the instances it would act on when lost (``guarded``: None, every one), whether it takes over first
    should the leader be lost (``successor``)."""

    @property
    def acting(self) -> bool: ...

    @property
    def leader(self) -> str | None: ...

    @property
    def jobs(self) -> Sized: ...

    @property
    def evidence(self) -> Evidence: ...

    @property
    def guarded(self) -> Collection[str] | None: ...

    @property
    def successor(self) -> bool: ...
