"""One session with the cluster per command: every call to supervisord goes through it.

A :class:`ClusterSession` is built once from the :class:`~supv_cli.cluster.settings.ClusterSettings`.
It binds the timeout and the credentials once, keeps one client (XML-RPC proxy and transport) per
instance for its whole life (so persistent connections of the transport are reused from one poll to
the next) and one :class:`~supv_cli.cluster.health.InstanceHealth` per instance that every call
consults: an instance that ran into the timeout is not waited for again (see ``cluster/health.py``).

How a command uses it (the CLI gets it from the application object, ``app.session``)::

    session = ClusterSession(settings)
    snapshot = session.snapshot(with_config=False)       # status views; run/stop want the config
    for health in session.unreported():                  # each unreachable instance reported once
        warn(health.line())
    results = session.send(requests)                     # plan.run_types.Request list -> one result each
    text = session.call(instance, "supervisor.tailProcessStdoutLog", "grp:prog", 0, 1024)
    states = session.controller_states(snapshot)         # nick -> the supv controller's last state line
    last = session.last_answers()                        # nick -> what it last answered (see unanswered.py)
    snapshot = session.poller.poll(full=session.poller.due(2.0))  # polling for long: cheap (polling.py)

Low-level calls, fault classification and the fan-out stay in ``cluster/client.py``.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Sequence, TypeVar

from supv_cli.cluster import CONTROLLER_PROGRAM, pipeline
from supv_cli.cluster.client import (
    DEFAULT_MAX_WORKERS,
    NOT_ASKED,
    RPC_PATH,
    SNAPSHOT_CALLS,
    CallError,
    Calls,
    as_result,
    call_on,
    classify,
    fan_out,
    instance_label,
    instance_snapshot,
    make_proxy,
    multicall_on,
    unreachable_snapshot,
    with_elapsed,
)
from supv_cli.cluster.health import HealthBoard, InstanceHealth
from supv_cli.cluster.instances import Instance, InstanceList
from supv_cli.cluster.polling import Poller
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.cluster.snapshot import InstanceSnapshot, Snapshot, Unreachable
from supv_cli.cluster.transport import MAX_ANSWER

__all__ = ["ClusterSession", "InstanceClient", "last_state_line"]

#: how much of the end of a controller's stdout log to read
TAIL_BYTES = 16384

R = TypeVar("R")


class InstanceClient:
    """The one proxy of a session to one instance; calls to it are serialized (a transport keeping its
    connection open is not thread safe)."""

    def __init__(self, instance: Instance, timeout: float, username: str | None, password: str | None,
                 max_answer: int = MAX_ANSWER) -> None:
        self.instance = instance
        self.timeout = timeout
        self._proxy = make_proxy(instance, timeout, username, password, max_answer)
        self._lock = threading.Lock()

    def _locked(self, func: Callable[[], R]) -> R:
        # a call abandoned by an earlier fan-out may still hold the proxy: wait for it at most a timeout
        if not self._lock.acquire(timeout=self.timeout):
            raise CallError(self.instance, Unreachable.TIMEOUT,
                            f"timeout (an earlier call got no answer within {self.timeout:g}s)")
        try:
            return func()
        finally:
            self._lock.release()

    def call(self, method: str, *args: Any) -> Any:
        """One XML-RPC call; :class:`CallError` on any failure."""
        return self._locked(lambda: call_on(self._proxy, self.instance, method, *args, timeout=self.timeout))

    def call_unless(self, digest: bytes | None, method: str, *args: Any) -> tuple[Any, bytes | None]:
        """One call, and the digest of its answer (``cluster/answers.py``): when that digest is ``digest``
        (the answer is the one the caller already has, but for the clock), the answer is not parsed and
        :data:`~supv_cli.cluster.answers.UNCHANGED` is given instead."""

        def run() -> tuple[Any, bytes | None]:
            transport: Any = self._proxy("transport")
            transport.digesting, transport.expect, transport.digest = True, digest, None
            try:
                result = call_on(self._proxy, self.instance, method, *args, timeout=self.timeout)
                return result, transport.digest
            finally:
                transport.digesting, transport.expect = False, None

        return self._locked(run)

    def hold(self) -> bool:
        """Take the client for a pipelined request without waiting (False: a call holds it)."""
        return self._lock.acquire(blocking=False)

    def release(self) -> None:
        self._lock.release()

    @property
    def transport(self) -> Any:
        return self._proxy("transport")

    @property
    def connections(self) -> int:
        """Connections opened so far to the instance: one more means the previous one was closed
        (supervisord restarted, or a call failed); see ``cluster/polling.py``."""
        transport: Any = self._proxy("transport")
        return int(transport.connections)

    def peer_closed(self) -> bool | None:
        """Whether supervisord closed the kept connection (see ``TimeoutTransport.peer_closed``); None
        when there is none, or when a call holds it."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            transport: Any = self._proxy("transport")
            return transport.peer_closed()
        finally:
            self._lock.release()

    def multicall(self, calls: Calls) -> list[Any]:
        """``calls`` in one ``system.multicall`` (see ``client.run_on``)."""
        return self._locked(lambda: multicall_on(self._proxy, self.instance, calls, self.timeout))


class ClusterSession:
    """Calls, deadlines, credentials and instance health for one command (see the module doc)."""

    def __init__(self, settings: ClusterSettings, max_workers: int = DEFAULT_MAX_WORKERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.instances: InstanceList = settings.instances
        self.timeout = settings.timeout
        self.max_workers = max_workers
        self.clock = clock
        self.health = HealthBoard(self.instances)
        #: the last snapshot taken by this session
        self.last: Snapshot | None = None
        self._clients: dict[str, InstanceClient] = {}
        self._clients_lock = threading.Lock()
        #: snapshots at a chosen cost per instance, the configuration cached (cluster/polling.py)
        self.poller = Poller(self)

    # ------------------------------------------------------------------------------------ plumbing
    def client(self, instance: Instance) -> InstanceClient:
        """The client of ``instance``, created on first use and kept for the session's life."""
        with self._clients_lock:
            client = self._clients.get(instance.nick)
            if client is None:
                client = InstanceClient(instance, self.timeout, self.settings.username, self.settings.password,
                                        self.settings.max_answer)
                self._clients[instance.nick] = client
            return client

    def each(self, instances: Sequence[Instance], work: Callable[[InstanceClient], R],
             ask_all: bool = False, keep_unasked: bool = False, max_workers: int | None = None,
             first: Callable[[InstanceClient], str | None] | None = None) -> list[R | CallError]:
        """``work`` on every instance concurrently, each within the timeout from when it is asked (see
        ``client.fan_out``); one entry per instance: what ``work`` returned or the :class:`CallError` it
        failed with. An unresponsive instance is not asked (its entry fails at once) and a background
        probe watches for its return, unless ``ask_all``; one that is not a supervisord is not asked during
        its back-off (health.py). An instance no worker could ask in time (every one held by hung
        instances) fails as a timeout, or with ``keep_unasked`` has
        :data:`~supv_cli.cluster.client.NOT_ASKED` as its entry: nothing was asked, nothing is recorded.

        ``first(client)`` names the method (without arguments) that ``work`` calls first on ``client``,
        or None: those requests are sent at once from this thread over the kept connections and their
        answers read as they come (``cluster/pipeline.py``), ``work`` then running here on each, its
        first call answered already; the others go to worker threads meanwhile."""
        entries: list[Any] = [None] * len(instances)
        asked: list[int] = []
        now = self.clock()
        for index, instance in enumerate(instances):
            health = self.health[instance]
            with self.health.lock:
                backed_off = health.backed_off(now)  # not a supervisord: asked again later (health.py)
                skip = backed_off or (health.unresponsive and not ask_all)
            if skip:
                # the reason it had: the user was told once, and this is not a new failure
                entries[index] = CallError(instance, health.kind or Unreachable.TIMEOUT, health.reason)
                if not backed_off:
                    self._probe(health)
            else:
                asked.append(index)

        def timed(index: int) -> tuple[float, Any]:
            started = self.clock()
            try:
                result: Any = work(self.client(instances[index]))
            except Exception as error:
                result = classify(instances[index], error, self.timeout)
            return self.clock() - started, result

        batched, sent = self._pipeline(instances, asked, first)
        rest = [index for index in asked if index not in batched]
        answers = fan_out(timed, rest, self.timeout, max_workers or self.max_workers,
                          NOT_ASKED if keep_unasked else None)
        if sent:
            answers = list(answers)
            taken: dict[int, tuple[float, Any]] = {}

            def take(position: int) -> None:
                """``work`` on a pipelined answer as soon as it is read (its bytes freed at once)."""
                index = batched[position]
                self.client(instances[index]).release()
                elapsed, result = timed(index)
                # taken by ``work``'s first call; never left for a later call (it would be stale)
                self.client(instances[index]).transport.prefetched = None
                taken[position] = (sent[position].elapsed + elapsed, result)

            try:
                pipeline.collect(sent, take)
            finally:
                for position, index in enumerate(batched):
                    if position not in taken:  # collect failed before its answer: not held any longer
                        self.client(instances[index]).transport.prefetched = None
                        self.client(instances[index]).release()
            answers.extend(taken[position] for position in range(len(batched)))
            rest += batched
        for index, answer in zip(rest, answers):
            instance = instances[index]
            if answer is NOT_ASKED:
                entries[index] = answer
                continue
            if isinstance(answer, tuple):
                elapsed, result = answer
            else:  # not done by the deadline (None), or the worker itself failed
                elapsed, result = self.timeout, as_result(instance, answer, self.timeout)
            self._record(self.health[instance], result, elapsed)
            entries[index] = result
        return entries

    def _pipeline(self, instances: Sequence[Instance], asked: list[int],
                  first: Callable[[InstanceClient], str | None] | None) -> tuple[list[int], list[Any]]:
        """Send the first requests that can go over a kept connection from this thread (see
        :meth:`each`): the indexes sent, their ``pipeline.Pending``; each client stays held until
        its answer is read."""
        if first is None:
            return [], []
        held: list[int] = []
        requests: list[Any] = []
        for index in asked:
            client = self.client(instances[index])
            method = first(client)
            if method is None or not client.hold():
                continue
            held.append(index)
            requests.append((client.transport, RPC_PATH, method))
        entries = pipeline.send(requests)
        batched, sent = [], []
        for index, entry in zip(held, entries):
            if entry is None:
                self.client(instances[index]).release()
            else:
                batched.append(index)
                sent.append(entry)
        return batched, sent

    def _record(self, health: InstanceHealth, result: Any, elapsed: float) -> None:
        with self.health.lock:
            if isinstance(result, CallError) and result.kind is not Unreachable.FAULT:
                health.failed(result.kind, result.reason, elapsed)
                if result.kind is Unreachable.PROTOCOL:
                    health.back_off(self.clock())
            else:
                health.answered(elapsed, self.timeout)
                if isinstance(result, InstanceSnapshot) and result.reachable:
                    health.last_answer = result

    def _probe(self, health: InstanceHealth) -> None:
        """Start a background ``getState`` on an unresponsive instance (one at a time)."""
        with self.health.lock:
            if not health.should_probe(self.clock()):
                return
            health.probing = True

        def probe() -> None:
            started = self.clock()
            try:
                self.client(health.instance).call("supervisor.getState")
            except CallError as error:
                result: Any = error
            else:
                result = None
            with self.health.lock:
                health.probing = False
                health.probe_ended = self.clock()
            if result is None:  # it is back: the next call waits for it again
                self._record(health, None, self.clock() - started)

        threading.Thread(target=probe, name=f"supv-probe-{health.instance.nick}", daemon=True).start()

    # ------------------------------------------------------------------------------------ the calls
    def snapshot(self, with_config: bool = True) -> Snapshot:
        """What every instance answers now (one ``system.multicall`` each). ``with_config=False`` leaves
        out getAllConfigInfo (status views do not need it, see ``client.take_snapshot``); with it, the
        configuration comes from the poller's cache after the first snapshot."""
        if with_config:
            self.last = self.poller.poll()
            return self.last
        ordered = list(self.instances)
        taken_at = time.time()
        calls = SNAPSHOT_CALLS[:2]  # getState, getAllProcessInfo

        def one(client: InstanceClient) -> InstanceSnapshot:
            return instance_snapshot(client.instance, client.multicall(calls))

        snaps = []
        for instance, entry in zip(ordered, self.each(ordered, one)):
            snap = entry if isinstance(entry, InstanceSnapshot) else unreachable_snapshot(entry)
            snaps.append(with_elapsed(snap, self.health[instance].elapsed))
        self.last = Snapshot(instances=tuple(snaps), taken_at=taken_at)
        return self.last

    def call(self, instance: Instance, method: str, *args: Any) -> Any:
        """One call on one instance through its client; :class:`CallError` on failure (at once when the
        instance is unresponsive)."""
        (entry,) = self.each([instance], lambda client: client.call(method, *args))
        if isinstance(entry, CallError):
            raise entry
        return entry

    def send(self, requests: Sequence[Any]) -> list[Any]:
        """Send ``requests`` (objects with ``instance``, ``method``, ``args``, e.g. ``plan.run_types.Request``):
        one multicall per instance, all instances concurrently. One result per request, in order: the
        call's result, or the :class:`CallError` of the call or of its instance."""
        by_instance: dict[str, list[Any]] = {}
        for request in requests:
            by_instance.setdefault(request.instance.nick, []).append(request)
        groups = list(by_instance.values())
        instances = [group[0].instance for group in groups]
        calls_of = {group[0].instance.nick: [(r.method, r.args) for r in group] for group in groups}
        answers = self.each(instances, lambda client: client.multicall(calls_of[client.instance.nick]))
        results: dict[int, Any] = {}
        for group, answer in zip(groups, answers):
            items = answer if isinstance(answer, list) else [answer] * len(group)
            for request, item in zip(group, items):
                results[id(request)] = item
        return [results.get(id(r)) for r in requests]

    def controller_states(self, snapshot: Snapshot, program: str = CONTROLLER_PROGRAM) -> dict[str, dict[str, Any]]:
        """nick -> the last state line of the supv controller running there, read from its stdout log
        (``run-plan --watch`` prints one JSON line per change); instances without one are left out."""
        targets = [(snap.instance, namespec) for snap in snapshot.instances if snap.reachable
                   for namespec in [controller_namespec(snap, program)] if namespec]
        if not targets:
            return {}
        namespec_of = {instance.nick: namespec for instance, namespec in targets}

        def tail(client: InstanceClient) -> Any:
            text, _, _ = client.call("supervisor.tailProcessStdoutLog", namespec_of[client.instance.nick], 0,
                                     TAIL_BYTES)
            return last_state_line(str(text))

        answers = self.each([instance for instance, _ in targets], tail)
        return {instance.nick: answer for (instance, _), answer in zip(targets, answers) if isinstance(answer, dict)}

    # ------------------------------------------------------------------------------------ health
    def unreported(self) -> list[InstanceHealth]:
        """Unreachable instances not reported yet (then marked reported: each is reported once)."""
        return self.health.unreported()

    @staticmethod
    def line(health: InstanceHealth) -> str:
        """``server_2 (http://127.0.0.1:61002): timeout (no answer within 5s)``."""
        return f"{instance_label(health.instance)}: {health.reason or health.health.value}"

    def last_answers(self) -> dict[str, InstanceSnapshot]:
        """nick -> what each instance last answered in this session (those that never did left out)."""
        with self.health.lock:
            return {h.instance.nick: h.last_answer for h in self.health if h.last_answer is not None}


def controller_namespec(snap: InstanceSnapshot, program: str) -> str | None:
    """The namespec of the controller program RUNNING on an instance, if any."""
    for info in snap.processes:
        if program in (info.group, info.name) and info.running:
            return info.namespec
    return None


def last_state_line(text: str) -> dict[str, Any] | None:
    """The last controller state line (a JSON object with ``acting``) in a log tail, or None."""
    for line in reversed(text.splitlines()):
        try:
            state = json.loads(line)
        except ValueError:
            continue
        if isinstance(state, dict) and "acting" in state:
            return state
    return None
