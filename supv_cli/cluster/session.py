"""One session with the cluster per command: every call to supervisord goes through it.

A :class:`ClusterSession` is built once from the :class:`~supv_cli.cluster.settings.ClusterSettings`.
It binds the timeout and the credentials once, keeps one client (XML-RPC proxy and transport) per
instance for its whole life (so persistent connections of the transport are reused from one poll to
the next) and one :class:`~supv_cli.cluster.health.InstanceHealth` per instance that every call
consults: an instance that ran into the timeout is not waited for again (see ``cluster/health.py``).
That part, the fan-out, is :class:`~supv_cli.cluster.fanout.Fanout`; this module adds what commands ask.

How a command uses it (the CLI gets it from the application object, ``app.session``)::

    session = ClusterSession(settings)
    snapshot = session.snapshot(with_config=False)       # status views; run/stop want the config
    for health in session.unreported():                  # each unreachable instance reported once
        warn(health.line())
    results = session.send(requests)                     # plan.run_types.Request list -> one result each
    answers = session.ask([(instance, calls), ...])      # groups of calls -> the results of each group
    text = session.call(instance, "supervisor.tailProcessStdoutLog", "grp:prog", 0, 1024)
    states = session.controller_states(snapshot)         # nick -> the supv controller's last state line
    last = session.last_answers()                        # nick -> what it last answered (see unanswered.py)
    snapshot = session.poller.poll(full=session.poller.due(2.0))  # polling for long: cheap (polling.py)

Low-level calls and fault classification stay in ``cluster/client.py``; the state line's format in
``cluster/state_line.py``.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Protocol, Sequence

from supv_cli.cluster import CONTROLLER_PROGRAM, state_line
from supv_cli.cluster.client import (
    DEFAULT_MAX_WORKERS,
    SNAPSHOT_CALLS,
    CallError,
    Calls,
    instance_label,
    instance_snapshot,
    unreachable_snapshot,
    with_elapsed,
)
from supv_cli.cluster.fanout import Fanout, InstanceClient
from supv_cli.cluster.health import InstanceHealth
from supv_cli.cluster.polling import Poller
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import InstanceSnapshot, Snapshot

__all__ = ["ClusterSession"]

#: how much of the end of a controller's stdout log to read
TAIL_BYTES = 16384


class Call(Protocol):
    """What :meth:`ClusterSession.send` needs of a request (``plan.run_types.Request`` is one)."""

    @property
    def instance(self) -> Instance: ...

    @property
    def method(self) -> str: ...

    @property
    def args(self) -> Sequence[Any]: ...  # Any: XML-RPC arguments, any value it marshals


class ClusterSession(Fanout):
    """Calls, deadlines, credentials and instance health for one command (see the module doc)."""

    def __init__(self, settings: ClusterSettings, max_workers: int = DEFAULT_MAX_WORKERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(settings.instances, settings.timeout, settings.username, settings.password,
                         settings.max_answer, max_workers, clock)
        self.settings = settings
        #: the last snapshot taken by this session
        self.last: Snapshot | None = None
        #: snapshots at a chosen cost per instance, the configuration cached (cluster/polling.py)
        self.poller = Poller(self)

    # ------------------------------------------------------------------------------------ the calls
    def snapshot(self, with_config: bool = True) -> Snapshot:
        """What every instance answers now (one ``system.multicall`` each). ``with_config=False`` leaves
        out getAllConfigInfo (the largest answer, two thirds of the bytes and of the parsing: the status
        views only need the ``expected_exit`` of EXITED processes, which ``spawnerr`` gives, see
        ``ProcessInfo.expected_exit``); with it, the configuration comes from the poller's cache after the
        first snapshot."""
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
        instance is unresponsive). (Any: XML-RPC arguments and answer; the caller knows its shape.)"""
        (entry,) = self.each([instance], lambda client: client.call(method, *args))
        if isinstance(entry, CallError):
            raise entry
        return entry

    def send(self, requests: Sequence[Call]) -> list[Any]:  # Any: an XML-RPC answer or a CallError
        """Send ``requests`` (objects with ``instance``, ``method``, ``args``, e.g. ``plan.run_types.Request``):
        one multicall per instance, all instances concurrently. One result per request, in order: the
        call's result, or the :class:`CallError` of the call or of its instance."""
        answers = self.ask([(request.instance, [(request.method, request.args)]) for request in requests])
        return [answer[0] if isinstance(answer, list) else answer for answer in answers]

    def ask(self, groups: Sequence[tuple[Instance, Calls]]) -> list[list[Any] | CallError]:  # Any: as send
        """Make the calls of every group (an instance and ``(method, params)`` pairs for it): the groups
        of one instance in one ``system.multicall``, all instances at once. One entry per group, in
        order: the results of its calls (each a result, or the :class:`CallError` of a call Supervisor
        refused), or the :class:`CallError` that made its instance fail."""
        by_nick: dict[str, list[int]] = {}
        instance_of: dict[str, Instance] = {}
        for index, (instance, _) in enumerate(groups):
            by_nick.setdefault(instance.nick, []).append(index)
            instance_of.setdefault(instance.nick, instance)
        calls = {nick: [call for index in indexes for call in groups[index][1]] for nick, indexes in by_nick.items()}
        answers = self.each([instance_of[nick] for nick in by_nick],
                            lambda client: client.multicall(calls[client.instance.nick]))
        results: list[list[Any] | CallError] = [[] for _ in groups]  # each replaced below
        for indexes, answer in zip(by_nick.values(), answers):
            position = 0
            for index in indexes:
                width = len(groups[index][1])
                results[index] = answer if isinstance(answer, BaseException) else answer[position:position + width]
                position += width
        return results

    def controller_states(self, snapshot: Snapshot, program: str = CONTROLLER_PROGRAM,
                          ) -> dict[str, dict[str, Any]]:  # Any: decoded state lines (JSON values)
        """nick -> the last state line of the supv controller running there, read from its stdout log
        (``run-plan --watch`` prints one JSON line per change, ``cluster/state_line.py``); instances
        without one are left out."""
        targets = [(snap.instance, namespec) for snap in snapshot.instances if snap.reachable
                   for namespec in [controller_namespec(snap, program)] if namespec]
        if not targets:
            return {}
        namespec_of = {instance.nick: namespec for instance, namespec in targets}

        def tail(client: InstanceClient) -> dict[str, Any] | None:  # Any: a decoded state line (JSON)
            text, _, _ = client.call("supervisor.tailProcessStdoutLog", namespec_of[client.instance.nick], 0,
                                     TAIL_BYTES)
            return state_line.last_in(str(text))

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
