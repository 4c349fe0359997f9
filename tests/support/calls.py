"""One-off calls for tests and benchmarks, each through a :class:`ClusterSession` made for it.

supv itself makes every call through the session of its command (deadlines, health, credentials); so do
the tests: these helpers make a session for one call, make the call, and close the connections the session
kept (a connection still held by a call that ran into the timeout ends on its own socket timeout).
"""

from __future__ import annotations

from typing import Any, Iterable

from supv_cli.cluster.client import CallError, Calls
from supv_cli.cluster.session import ClusterSession
from supv_cli.cluster.settings import ClusterSettings
from supv_cli.cluster.transport import DEFAULT_TIMEOUT
from supv_cli.model.instances import Instance, InstanceList
from supv_cli.model.snapshot import Snapshot

__all__ = ["call", "close", "multicall_many", "run_on", "session_of", "take_snapshot"]


def session_of(instances: Iterable[Instance], timeout: float = DEFAULT_TIMEOUT, username: str | None = None,
               password: str | None = None) -> ClusterSession:
    """A session on ``instances`` with this timeout and these credentials (an instance's own win)."""
    settings = ClusterSettings(instances=InstanceList(instances), username=username, password=password,
                               timeout=timeout)
    return ClusterSession(settings)


def close(session: ClusterSession) -> None:
    """Close the connections ``session`` kept, but those a call still holds."""
    for instance in session.instances:
        client = session.client(instance)
        if client.hold():
            try:
                client.transport.close()
            finally:
                client.release()


def take_snapshot(instances: Iterable[Instance], timeout: float = DEFAULT_TIMEOUT, username: str | None = None,
                  password: str | None = None, with_config: bool = True) -> Snapshot:
    """What every instance answers now (``ClusterSession.snapshot``), unreachable ones as UNREACHABLE."""
    session = session_of(instances, timeout, username, password)
    try:
        return session.snapshot(with_config=with_config)
    finally:
        close(session)


def call(instance: Instance, method: str, *args: Any, timeout: float = DEFAULT_TIMEOUT,
         username: str | None = None, password: str | None = None) -> Any:
    """One XML-RPC call on ``instance``; :class:`CallError` on any failure."""
    session = session_of([instance], timeout, username, password)
    try:
        return session.call(instance, method, *args)
    finally:
        close(session)


def multicall_many(instances: Iterable[Instance], calls: Calls, timeout: float = DEFAULT_TIMEOUT,
                   username: str | None = None, password: str | None = None) -> list[list[Any] | CallError]:
    """The same ``calls`` in one ``system.multicall`` on every instance at once: one entry per instance,
    the list of results (a call Supervisor refused as a FAULT :class:`CallError`) or the
    :class:`CallError` that made the instance fail."""
    session = session_of(instances, timeout, username, password)
    try:
        return session.ask([(instance, calls) for instance in session.instances])
    finally:
        close(session)


def run_on(instance: Instance, calls: Calls, timeout: float = DEFAULT_TIMEOUT, username: str | None = None,
           password: str | None = None) -> list[Any]:
    """``calls`` in one ``system.multicall`` on ``instance``: :func:`multicall_many` on one instance, its
    failure raised."""
    (results,) = multicall_many([instance], calls, timeout, username, password)
    if isinstance(results, CallError):
        raise results
    return results
