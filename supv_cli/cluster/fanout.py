"""The fan-out of a session: one client per instance, every call within its deadline, and the health of
each instance that every call consults.

:class:`Fanout` is what :class:`~supv_cli.cluster.session.ClusterSession` is built on (the session adds
what a command asks: snapshots, calls, requests, controller state lines) and all that the poller
(``cluster/polling.py``) and the statistics reader (``cluster/stats.py``) need of it: the instances, the
client of each (:class:`InstanceClient`, kept for the session's life so that persistent connections of
the transport are reused from one poll to the next) and :meth:`Fanout.each`. An instance that ran into
the timeout is not waited for again (see ``cluster/health.py``). Low-level calls and fault
classification stay in ``cluster/client.py``.
"""

from __future__ import annotations

import select
import threading
import time
from typing import Any, Callable, Iterable, Sequence, TypeVar, cast

from supv_cli.cluster import pipeline
from supv_cli.cluster.client import (
    DEFAULT_MAX_WORKERS,
    NOT_ASKED,
    RPC_PATH,
    CallError,
    Calls,
    as_result,
    call_on,
    classify,
    fan_out,
    make_proxy,
    multicall_on,
)
from supv_cli.cluster.health import HealthBoard, InstanceHealth
from supv_cli.cluster.transport import MAX_ANSWER, TimeoutTransport
from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.snapshot import InstanceSnapshot, Unreachable

__all__ = ["Fanout", "InstanceClient"]

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
        """One XML-RPC call; :class:`CallError` on any failure. (Any: XML-RPC arguments and answer, any
        value it marshals; the caller knows the shape of the method's answer.)"""
        return self._locked(lambda: call_on(self._proxy, self.instance, method, *args, timeout=self.timeout))

    def call_unless(self, digest: bytes | None, method: str, *args: Any) -> tuple[Any, bytes | None]:
        """One call, and the digest of its answer (``cluster/answers.py``): when that digest is ``digest``
        (the answer is the one the caller already has, but for the clock), the answer is not parsed and
        :data:`~supv_cli.cluster.answers.UNCHANGED` is given instead."""

        def run() -> tuple[Any, bytes | None]:  # Any: the method's XML-RPC answer, as call()
            transport = self.transport
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
    def transport(self) -> TimeoutTransport:
        return cast(TimeoutTransport, self._proxy("transport"))  # the proxy's, made by client.make_proxy

    @property
    def connections(self) -> int:
        """Connections opened so far to the instance: one more means the previous one was closed
        (supervisord restarted, or a call failed); see ``cluster/polling.py``."""
        return self.transport.connections

    def peer_closed(self) -> bool | None:
        """Whether supervisord closed the kept connection (see ``TimeoutTransport.peer_closed``); None
        when there is none, or when a call holds it."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self.transport.peer_closed()
        finally:
            self._lock.release()

    def multicall(self, calls: Calls) -> list[Any]:
        """``calls`` in one ``system.multicall`` (see ``client.multicall_on``). (Any: each an XML-RPC
        answer or a ``CallError``.)"""
        return self._locked(lambda: multicall_on(self._proxy, self.instance, calls, self.timeout))



class Fanout:
    """Calls to every instance of ``instances`` with deadlines and health: one :class:`InstanceClient`
    each, made on first use with the credentials given (an instance's own win, see ``client.make_proxy``)."""

    def __init__(self, instances: InstanceList, timeout: float, username: str | None = None,
                 password: str | None = None, max_answer: int = MAX_ANSWER,
                 max_workers: int = DEFAULT_MAX_WORKERS, clock: Callable[[], float] = time.monotonic) -> None:
        self.instances = instances
        self.timeout = timeout
        self.max_workers = max_workers
        self.clock = clock
        self.health = HealthBoard(instances)
        self._credentials = (username, password)
        self._max_answer = max_answer
        self._clients: dict[str, InstanceClient] = {}
        self._clients_lock = threading.Lock()

    def client(self, instance: Instance) -> InstanceClient:
        """The client of ``instance``, created on first use and kept for the session's life."""
        with self._clients_lock:
            client = self._clients.get(instance.nick)
            if client is None:
                username, password = self._credentials
                client = InstanceClient(instance, self.timeout, username, password, self._max_answer)
                self._clients[instance.nick] = client
            return client

    def closed(self, instances: Iterable[Instance]) -> set[str]:
        """Nicks of ``instances`` whose ``InstanceClient.peer_closed`` is not False (no kept connection, a
        call holding it, or supervisord closed it: then it is closed here too), with one system call for
        all of them instead of one each (issue 18: the instances a poll watches without asking)."""
        found: set[str] = set()
        held: list[InstanceClient] = []
        kept: dict[int, InstanceClient] = {}
        checker = select.poll()
        try:
            for instance in instances:
                client = self.client(instance)
                if not client.hold():
                    found.add(instance.nick)
                    continue
                held.append(client)
                sock = client.transport.kept_socket
                if sock is None:
                    found.add(instance.nick)
                    continue
                kept[sock.fileno()] = client
                checker.register(sock, select.POLLIN)
            for fd, _event in checker.poll(0) if kept else ():
                client = kept[fd]
                client.transport.close()
                found.add(client.instance.nick)
        finally:
            for client in held:
                client.release()
        return found

    def each(self, instances: Sequence[Instance], work: Callable[[InstanceClient], R],
             ask_all: bool = False, keep_unasked: bool = False, max_workers: int | None = None,
             first: Callable[[InstanceClient], Any] | None = None,
             echo: Callable[[InstanceClient, bytes, bytes], R | None] | None = None) -> list[R | CallError]:
        """``work`` on every instance concurrently, each within the timeout from when it is asked (see
        ``client.fan_out``); one entry per instance: what ``work`` returned or the :class:`CallError` it
        failed with. An unresponsive instance is not asked (its entry fails at once) and a background
        probe watches for its return, unless ``ask_all``; one that is not a supervisord is not asked during
        its back-off (health.py). An instance no worker could ask in time (every one held by hung
        instances) fails as a timeout, or with ``keep_unasked`` has
        :data:`~supv_cli.cluster.client.NOT_ASKED` as its entry: nothing was asked, nothing is recorded.

        ``first(client)`` names the request that ``work`` makes first on ``client`` (a method without
        arguments, or a method and its arguments: ``pipeline.request_body``), or None: those requests are sent
        at once from this thread over the kept connections and their answers read as they come
        (``cluster/pipeline.py``), ``work`` then running here on each, its first call answered already; the
        others go to worker threads meanwhile.

        ``echo(client, request, digest)``: what ``work`` would give for a pipelined answer that is the very
        bytes of the last one to the same request (``transport.Echo``; ``request``: the request's body,
        ``digest``: the answer's), or None to run
        ``work`` as usual; it runs here, the client not held, and must not call the instance (issue 18:
        a probe whose answer did not change costs no call, no parsing, no digest)."""
        # Any: filled in below with an R, a CallError or NOT_ASKED (documented above) before returned
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

        def timed(index: int) -> tuple[float, R | CallError]:
            started = self.clock()
            try:
                result: R | CallError = work(self.client(instances[index]))
            except Exception as error:
                result = classify(instances[index], error, self.timeout)
            return self.clock() - started, result

        batched, sent, held = self._pipeline(instances, asked, first)
        rest = [index for index in asked if index not in batched]
        answers = fan_out(timed, rest, self.timeout, max_workers or self.max_workers,
                          NOT_ASKED if keep_unasked else None)
        if sent:
            answers = list(answers)
            taken: dict[int, tuple[float, Any]] = {}

            def take(position: int) -> None:
                """``work`` on a pipelined answer as soon as it is read (its bytes freed at once)."""
                entry = sent[position]
                client = held[position]
                client.release()
                if entry.echoed is not None and echo is not None:
                    same = echo(client, entry.body, entry.echoed.digest)
                    if same is not None:
                        entry.transport.prefetched = None
                        taken[position] = (entry.elapsed, same)
                        return
                elapsed, result = timed(batched[position])
                # taken by ``work``'s first call; never left for a later call (it would be stale)
                entry.transport.prefetched = None
                taken[position] = (entry.elapsed + elapsed, result)

            try:
                pipeline.collect([*sent], take)
            finally:
                for position, client in enumerate(held):
                    if position not in taken:  # collect failed before its answer: not held any longer
                        client.transport.prefetched = None
                        client.release()
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
                  first: Callable[[InstanceClient], Any] | None,
                  ) -> tuple[list[int], list[pipeline.Pending], list[InstanceClient]]:
        """Send the first requests that can go over a kept connection from this thread (see
        :meth:`each`): the indexes sent, their ``pipeline.Pending`` and clients; each client stays held
        until its answer is read."""
        if first is None:
            return [], [], []
        held: list[tuple[int, InstanceClient]] = []
        requests: list[tuple[TimeoutTransport, str, str]] = []
        for index in asked:
            client = self.client(instances[index])
            method = first(client)
            if method is None or not client.hold():
                continue
            held.append((index, client))
            requests.append((client.transport, RPC_PATH, method))
        entries = pipeline.send(requests)
        batched: list[int] = []
        sent: list[pipeline.Pending] = []
        clients: list[InstanceClient] = []
        for (index, client), entry in zip(held, entries):
            if entry is None:
                client.release()
            else:
                batched.append(index)
                sent.append(entry)
                clients.append(client)
        return batched, sent, clients

    def _record(self, health: InstanceHealth, result: object, elapsed: float) -> None:
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
                result: CallError | None = error
            else:
                result = None
            with self.health.lock:
                health.probing = False
                health.probe_ended = self.clock()
            if result is None:  # it is back: the next call waits for it again
                self._record(health, None, self.clock() - started)

        threading.Thread(target=probe, name=f"supv-probe-{health.instance.nick}", daemon=True).start()
