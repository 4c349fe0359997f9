"""cluster/rpc.py: the calls supv writes are xmlrpc.client's bytes, its proxy behaves as ServerProxy, and
its errors are classified as the stdlib's were."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supv_cli.cluster.rpc import (
    USER_AGENT,
    BadStatusLine,
    Fault,
    HTTPException,
    IncompleteRead,
    LineTooLong,
    ProtocolError,
    Proxy,
    RemoteDisconnected,
    dumps_call,
)


def stdlib_body(method: str, params: tuple[Any, ...]) -> bytes:
    """What ``xmlrpc.client.ServerProxy`` sends (its ``__request``)."""
    return xmlrpc.client.dumps(params, method, encoding="utf-8").encode("utf-8", "xmlcharrefreplace")


SCALARS = st.one_of(st.text(), st.integers(min_value=-2**31, max_value=2**31 - 1), st.booleans(),
                    st.floats(allow_nan=False))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.tuples(inner, inner),
                                                       st.dictionaries(st.text(), inner, max_size=4)),
                      max_leaves=12)


@given(st.lists(VALUES, max_size=4))
def test_dumps_call_is_xmlrpc_client_bytes(params: list[Any]) -> None:
    assert dumps_call("supervisor.test", tuple(params)) == stdlib_body("supervisor.test", tuple(params))


# what supv sends: (method, params)
CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("supervisor.getState", ()),
    ("supervisor.startProcess", ("app:web", False)),
    ("supervisor.tailProcessStdoutLog", ("supv_controller", 0, 16384)),
    ("system.multicall", ([{"methodName": "supervisor.getState", "params": []},
                           {"methodName": "supervisor.stopProcess", "params": ["a:<&>é\u2603", True]}],)),
    ("supervisor.sendProcessStdin", ("p", "ctrl \x01 and \ud800 lone surrogate")),
    ("x", (1.5, -0.0, 1e300, [()], {})),
]


@pytest.mark.parametrize(("method", "params"), CALLS)
def test_dumps_call_of_supv_calls(method: str, params: tuple[Any, ...]) -> None:
    assert dumps_call(method, params) == stdlib_body(method, params)


@pytest.mark.parametrize(("params", "error"), [
    ((None,), TypeError),  # ServerProxy's allow_none is False
    ((2**31,), OverflowError),
    ((-2**31 - 1,), OverflowError),
    (({1: "a"},), TypeError),
    ((object(),), TypeError),
])
def test_dumps_call_refuses_as_xmlrpc_client(params: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        stdlib_body("m", params)
    with pytest.raises(error):
        dumps_call("m", params)


def test_recursive_values_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="recursive"):
        dumps_call("m", (loop,))


def test_rare_types_are_marshalled_by_xmlrpc_client() -> None:
    when = xmlrpc.client.DateTime("20240102T03:04:05")
    assert dumps_call("m", (b"\x00bytes", when)) == stdlib_body("m", (b"\x00bytes", when))


class Recorder:
    """A transport that records what a proxy sends and answers ``answer``."""

    def __init__(self, answer: tuple[Any, ...]) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str, bytes]] = []
        self.closed = 0

    def request(self, host: str, handler: str, body: bytes, verbose: bool = False) -> tuple[Any, ...]:
        self.sent.append((host, handler, body))
        return self.answer

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize("answer", [(7,), (1, 2), ()])
def test_proxy_sends_as_server_proxy(answer: tuple[Any, ...]) -> None:
    ours, theirs = Recorder(answer), Recorder(answer)
    mine = Proxy("http://127.0.0.1:9001/RPC2", ours)
    stdlib = xmlrpc.client.ServerProxy("http://127.0.0.1:9001/RPC2", transport=theirs)  # type: ignore[arg-type]
    assert mine.supervisor.startProcess("a:b", False) == stdlib.supervisor.startProcess("a:b", False)
    assert ours.sent == theirs.sent == [("127.0.0.1:9001", "/RPC2", stdlib_body("supervisor.startProcess",
                                                                              ("a:b", False)))]
    assert mine("transport") is ours
    mine("close")()
    assert ours.closed == 1
    with pytest.raises(AttributeError):
        mine("nothing")


def test_proxy_refuses_other_schemes_and_dunders() -> None:
    with pytest.raises(OSError, match="unsupported"):
        Proxy("ftp://host/RPC2", Recorder((1,)))
    proxy = Proxy("http://localhost/RPC2", Recorder((1,)))
    assert not hasattr(proxy, "__deepcopy__")
    assert "localhost" in repr(proxy)


def test_errors_look_like_the_stdlib_ones() -> None:
    fault = Fault(10, "BAD_NAME: x")
    assert (fault.faultCode, fault.faultString) == (10, "BAD_NAME: x")
    assert "BAD_NAME" in repr(fault)
    status = ProtocolError("http://h:1/RPC2", 401, "Unauthorized", {})
    assert (status.errcode, status.errmsg) == (401, "Unauthorized")
    closed = RemoteDisconnected("closed without an answer")
    assert isinstance(closed, ConnectionResetError) and isinstance(closed, HTTPException)
    for error in (IncompleteRead(b"abc", 3), LineTooLong("header"), BadStatusLine("SSH-2.0")):
        assert isinstance(error, HTTPException) and str(error)
    assert USER_AGENT == xmlrpc.client.Transport.user_agent
