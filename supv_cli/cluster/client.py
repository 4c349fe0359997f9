"""The low-level XML-RPC client of supv: calls through a proxy, failure classification, fan-out and
the snapshot of one instance from its answers.

With ``supv_cli.cluster.transport`` (a transport with a real per-call deadline, over
``http://host:port`` or ``unix:///path.sock``, with HTTP basic auth), this is the only code that talks
to supervisord; it is used through the session of a command (``cluster/session.py``, which keeps one
proxy per instance, see ``cluster/fanout.py``), never on its own.

A fan-out over many instances runs in a bounded pool of daemon threads and waits for them with a
deadline, so a dead or hung (SIGSTOPped) instance never delays a command beyond ``--timeout``: the
instances that did not answer in time are reported as TIMEOUT and their threads are abandoned (each
of them ends on its own socket timeout; being daemons they never hold the process at exit).

Every failure becomes a :class:`CallError` carrying an :class:`Unreachable` kind and a one-line reason
such as ``server_1 (http://127.0.0.1:61001): connection refused``. Passwords never appear in a message
or a repr.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Any, Callable, Sequence, Tuple, TypeVar
from xml.parsers.expat import ExpatError

from supv_cli.cluster import workers
from supv_cli.cluster.infos import index_configs, process_info
from supv_cli.cluster.rpc import Fault, HTTPException, ProtocolError, Proxy, RemoteDisconnected
from supv_cli.cluster.transport import DEFAULT_TIMEOUT, MAX_ANSWER, AnswerRefused, TimeoutTransport
from supv_cli.errors import ClusterError, ExitCode
from supv_cli.model.instances import Instance
from supv_cli.model.snapshot import (
    Faults,
    InstanceSnapshot,
    SupervisorState,
    Unreachable,
)

__all__ = [
    "DEFAULT_TIMEOUT", "NOT_ASKED", "SNAPSHOT_CALLS", "CallError", "as_result", "call_on", "classify",
    "credentials", "fan_out", "instance_label", "instance_snapshot", "make_proxy", "multicall_on",
    "unreachable_snapshot", "with_elapsed",
]
#: default bound of concurrent connections of a fan-out
DEFAULT_MAX_WORKERS = 32
#: what a fan-out may wait beyond ``timeout`` (thread scheduling, XML parsing of a late answer)
DEADLINE_MARGIN = 0.25
#: the XML-RPC path of supervisord
RPC_PATH = "/RPC2"

T = TypeVar("T")
R = TypeVar("R")

# Any in this module is an XML-RPC value (an argument, an answer, a struct's field: whatever
# xmlrpc.client marshals and unmarshals), read by the code that knows the method's answer, unless a
# comment says otherwise.

#: ``(method, params)`` pairs, as given to :func:`multicall_on`
Calls = Sequence[Tuple[str, Sequence[Any]]]


def instance_label(instance: Instance) -> str:
    """``nick (url)``, or just the URL when the nick is the URL's own identifier."""
    if instance.nick in (instance.identifier, instance.url):
        return instance.url
    return f"{instance.nick} ({instance.url})"


class CallError(ClusterError):
    """An XML-RPC call to one instance failed.

    ``kind`` says why (shown to users), ``reason`` is the one-line detail without the instance, and
    ``fault_code`` is Supervisor's fault code for a FAULT. A FAULT is an answer, not an unreachable
    instance, so its exit code is FAILED rather than UNREACHABLE.
    """

    def __init__(self, instance: Instance, kind: Unreachable, reason: str,
                 fault_code: int | None = None) -> None:
        super().__init__(f"{instance_label(instance)}: {reason}")
        self.instance = instance
        self.kind = kind
        self.reason = reason
        self.fault_code = fault_code
        if kind is Unreachable.FAULT:
            self.exit_code = ExitCode.FAILED

    def __repr__(self) -> str:
        return f"CallError({self.instance.nick!r}, {self.kind.name}, {self.reason!r})"


def make_proxy(instance: Instance, timeout: float = DEFAULT_TIMEOUT, username: str | None = None,
               password: str | None = None, max_answer: int = MAX_ANSWER) -> Proxy:
    """A proxy (``rpc.Proxy``: ``xmlrpc.client.ServerProxy``'s calls) on ``instance`` with a real timeout
    (``instance``'s own credentials win) and answers capped at ``max_answer`` bytes."""
    username, password = credentials(instance, username, password)
    transport = TimeoutTransport(instance.url, timeout, username, password, max_answer=max_answer)
    uri = "http://localhost" + RPC_PATH if instance.is_unix else instance.url.rstrip("/") + RPC_PATH
    return Proxy(uri, transport)


def credentials(instance: Instance, username: str | None,
                password: str | None) -> tuple[str | None, str | None]:
    """Per-instance credentials when the instance has some, else the global ones."""
    if instance.username is not None:
        return instance.username, instance.password
    return username, password


# --------------------------------------------------------------------------------------------- calls

def _stdlib(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """The exception classes ``names`` of ``module`` when it is loaded (none of them can have been raised
    otherwise): supv's calls raise ``rpc``'s, a ``xmlrpc.client.ServerProxy`` over supv's transport the
    stdlib's; both are classified alike without importing the stdlib's."""
    loaded = sys.modules.get(module)
    return tuple(getattr(loaded, name) for name in names) if loaded is not None else ()


def classify(instance: Instance, error: BaseException, timeout: float) -> CallError:
    """Turn what a call raised into a CallError whose reason a user understands."""
    if isinstance(error, CallError):
        return error
    if isinstance(error, (Fault, *_stdlib("xmlrpc.client", "Fault"))):
        fault: Any = error
        return CallError(instance, Unreachable.FAULT, f"fault: {fault.faultString}", fault.faultCode)
    if isinstance(error, (ProtocolError, *_stdlib("xmlrpc.client", "ProtocolError"))):
        status: Any = error
        if status.errcode == 401:
            return CallError(instance, Unreachable.AUTH, auth_failure(instance))
        return CallError(instance, Unreachable.PROTOCOL,
                         f"not a supervisord (HTTP {status.errcode} {status.errmsg} on {RPC_PATH})")
    if isinstance(error, socket.timeout):
        return CallError(instance, Unreachable.TIMEOUT, f"timeout (no answer within {timeout:g}s)")
    if isinstance(error, ConnectionRefusedError):
        return CallError(instance, Unreachable.REFUSED, "connection refused")
    if isinstance(error, FileNotFoundError):
        return CallError(instance, Unreachable.REFUSED, "connection refused (no such socket file)")
    if isinstance(error, (RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        return CallError(instance, Unreachable.ERROR, "connection closed without an answer")
    if isinstance(error, (HTTPException, *_stdlib("http.client", "HTTPException"))):
        return CallError(instance, Unreachable.PROTOCOL,
                         f"not a supervisord (bad HTTP answer: {type(error).__name__})")
    if isinstance(error, AnswerRefused):  # too large, a DOCTYPE, nested too deep: said as it is
        return CallError(instance, Unreachable.PROTOCOL, f"not a supervisord ({error})")
    if isinstance(error, RecursionError):
        return CallError(instance, Unreachable.PROTOCOL, "not a supervisord (the answer nests too deep)")
    if isinstance(error, (ExpatError, *_stdlib("xmlrpc.client", "ResponseError"), ValueError, TypeError, KeyError)):
        return CallError(instance, Unreachable.PROTOCOL, "not a supervisord (the answer is not XML-RPC)")
    if isinstance(error, socket.gaierror):
        return CallError(instance, Unreachable.ERROR, f"unknown host ({error.strerror or error})")
    if isinstance(error, PermissionError):
        return CallError(instance, Unreachable.ERROR, "permission denied")
    if isinstance(error, OSError):
        return CallError(instance, Unreachable.ERROR, error.strerror or type(error).__name__)
    return CallError(instance, Unreachable.ERROR, f"{type(error).__name__}: {error}")


def auth_failure(instance: Instance) -> str:
    """The reason of an HTTP 401, pointing at where the credentials that failed were given."""
    if instance.auth_source:
        return f"authentication failed (HTTP 401): check {instance.auth_source}"
    return ("authentication failed (HTTP 401): the instance wants credentials; give -u/--password, "
            "SUPV_USERNAME/SUPV_PASSWORD or username and password in the inventory")


def call_on(proxy: Any, instance: Instance, method: str, *args: Any,
            timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Call one XML-RPC ``method`` on ``instance`` through ``proxy`` (a session keeps one per instance);
    raise :class:`CallError` on any failure."""
    try:
        return getattr(proxy, method)(*args)
    except Exception as error:
        raise classify(instance, error, timeout) from None


def multicall_on(proxy: Any, instance: Instance, calls: Calls,
                 timeout: float = DEFAULT_TIMEOUT) -> list[Any]:
    """Run ``calls`` (``(method, params)`` pairs) in one ``system.multicall`` round trip through ``proxy``.

    Returns one item per call: its result, or a :class:`CallError` (kind FAULT, with ``fault_code``)
    for a call Supervisor refused, e.g. ``startProcess`` on a process ALREADY_STARTED. Raises
    :class:`CallError` when the instance itself could not be reached. Actions should not block
    supervisord: pass ``wait=False`` to ``startProcess`` / ``stopProcess`` and poll snapshots.
    """
    request = [{"methodName": method, "params": list(params)} for method, params in calls]
    results = call_on(proxy, instance, "system.multicall", request, timeout=timeout)
    if not isinstance(results, list) or len(results) != len(request):
        raise CallError(instance, Unreachable.PROTOCOL, "not a supervisord (bad system.multicall answer)")
    return [_fault_item(instance, item) for item in results]


def _fault_item(instance: Instance, item: Any) -> Any:
    # Supervisor's multicall gives each result bare (not in a 1-item list), and a fault as a struct
    if isinstance(item, dict) and "faultCode" in item and "faultString" in item:
        return CallError(instance, Unreachable.FAULT, f"fault: {item['faultString']}", item["faultCode"])
    return item


# --------------------------------------------------------------------------------------------- fan-out

_PENDING = object()


class _NotAsked:
    def __repr__(self) -> str:
        return "NOT_ASKED"


#: a fan-out's entry for an item it never started (see :func:`fan_out`): nothing was sent
NOT_ASKED = _NotAsked()


def fan_out(func: Callable[[T], R], items: Sequence[T], timeout: float,
            max_workers: int = DEFAULT_MAX_WORKERS, not_asked: Any = None,  # Any: the caller's own marker
            ) -> list[R | None]:
    """Run ``func`` on every item in at most ``max_workers`` daemon threads.

    Each item has its own deadline, from when a worker starts it (sends its request): ``timeout`` (+ a
    small margin). An item waiting for a worker is not late: what this process has to do first (other
    items, reading their answers) is never counted against an instance. Only when no item at all ended
    for ``timeout`` seconds (every worker held by a hung instance) are the items not started yet left
    unasked: so a fan-out never waits more than twice the timeout for nothing.

    Returns one entry per item, in order: what ``func`` returned, the exception it raised, None when it
    was not done by its deadline, or ``not_asked`` (default None, as a timeout) when it was not started.
    Abandoned threads end on their own socket timeouts.
    """
    count = len(items)
    if count == 0:
        return []
    progress = time.monotonic()  # when the last item ended (or the fan-out began)
    results: list[Any] = [_PENDING] * count  # Any: _PENDING, then an R or the exception func raised
    started = [0.0] * count
    cond = threading.Condition()
    next_index = done = 0
    unstarted = count  # the items from here on were never started

    def worker() -> None:
        nonlocal next_index, done, progress
        while True:
            with cond:
                index = next_index
                if index >= count:
                    return
                next_index += 1
                started[index] = time.monotonic()
            try:
                result: Any = func(items[index])  # Any: an R or the exception it raised
            except Exception as error:
                result = error
            with cond:
                results[index] = result
                progress = time.monotonic()
                done += 1
                if done >= next_index:  # nothing started is pending: the waiter may be done
                    cond.notify_all()

    for _ in range(min(max(1, max_workers), count)):
        workers.submit(worker)
    with cond:
        while done < next_index or next_index < count:
            now = time.monotonic()
            if next_index < count and now >= progress + timeout:
                unstarted, next_index = next_index, count  # every worker is stuck: left unasked
            ends = [end for i in range(next_index) if results[i] is _PENDING
                    for end in (started[i] + timeout + DEADLINE_MARGIN,) if end > now]
            if next_index < count:
                ends.append(progress + timeout)
            if not ends:
                break
            cond.wait(min(ends) - now)
        return [not_asked if index >= unstarted else None if result is _PENDING else result
                for index, result in enumerate(results)]


def as_result(instance: Instance, answer: Any, timeout: float) -> Any:  # Any: a fan-out's entry, its value
    """What a fan-out gave for one instance, failures as :class:`CallError` (None is a timeout)."""
    if answer is None:
        return CallError(instance, Unreachable.TIMEOUT, f"timeout (no answer within {timeout:g}s)")
    if isinstance(answer, BaseException):
        return classify(instance, answer, timeout)
    return answer


# --------------------------------------------------------------------------------------------- snapshots

#: the one round trip of a snapshot, per instance
SNAPSHOT_CALLS: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("supervisor.getState", ()),
    ("supervisor.getAllProcessInfo", ()),
    ("supervisor.getAllConfigInfo", ()),
)


def with_elapsed(snap: InstanceSnapshot, elapsed: float) -> InstanceSnapshot:
    """``snap`` with the time its round trip took."""
    return InstanceSnapshot(instance=snap.instance, state=snap.state, reason=snap.reason,
                            processes=snap.processes, elapsed=elapsed, error_kind=snap.error_kind)


def unreachable_snapshot(error: CallError) -> InstanceSnapshot:
    """The snapshot of an instance that failed with ``error``."""
    return InstanceSnapshot(instance=error.instance, state=SupervisorState.UNREACHABLE, reason=error.reason,
                            error_kind=error.kind)


def instance_snapshot(instance: Instance, answers: list[Any]) -> InstanceSnapshot:
    """Build one instance's snapshot from its [getState, getAllProcessInfo(, getAllConfigInfo)] answers;
    the configuration may be the poller's compact one (``infos.compact_configs``)."""
    state, infos = answers[0], answers[1]
    configs = answers[2] if len(answers) > 2 else None
    if isinstance(state, CallError):
        if state.fault_code == Faults.UNKNOWN_METHOD:
            raise CallError(instance, Unreachable.PROTOCOL, "not a supervisord (no supervisor.getState)")
        raise state
    statename = str(state["statename"])
    if isinstance(infos, CallError):
        if statename == SupervisorState.RUNNING:
            raise infos
        # SHUTDOWN / RESTARTING: supervisord answers getState only
        return InstanceSnapshot(instance=instance, state=statename, reason=f"supervisord is {statename}")
    # an old supervisord without getAllConfigInfo keeps Supervisor defaults
    config_map: Any = index_configs(configs) if isinstance(configs, list) else \
        configs if isinstance(configs, dict) else {}
    floats: dict[Any, float] = {}
    processes = tuple(process_info(info, config_map.get(str(info["group"]), {}).get(str(info["name"])),
                                   len(answers) > 2, floats)
                      for info in infos)
    return InstanceSnapshot(instance=instance, state=statename, processes=processes)
