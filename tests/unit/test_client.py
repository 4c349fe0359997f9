"""Pure parts of the cluster client: response parsing, failure classification, snapshot building,
and the deadline of the fan-out. Network behaviour is in tests/integration/test_client.py."""

from __future__ import annotations

import http.client
import socket
import threading
import xmlrpc.client
from typing import Any
from xml.parsers.expat import ExpatError

import pytest

from supv_cli.cluster.client import CallError, classify, fan_out, instance_snapshot, make_proxy
from supv_cli.cluster.rpc import BadStatusLine, Fault, IncompleteRead, LineTooLong, ProtocolError, RemoteDisconnected
from supv_cli.cluster.transport import TimeoutTransport, parse_response
from supv_cli.errors import ExitCode
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import Faults, ProcessState, Unreachable

INSTANCE = parse_instance("<server_1>127.0.0.1:61001")

RESPONSES: list[Any] = [
    (1,),
    (["text", 3, True, False, 2.5, "", -7],),
    ([{"name": "a", "exitcodes": [0, 2], "autostart": True, "nested": {"x": []}}],),
    ([[], {}, [1, [2, ["deep"]]]],),
    ("accents é and <escapes> & more",),
    (xmlrpc.client.DateTime("20240102T03:04:05"),),  # a type supervisord never sends: handed over
]


@pytest.mark.parametrize("params", RESPONSES)
def test_parse_response_is_xmlrpc_loads(params: tuple[Any, ...]) -> None:
    data = xmlrpc.client.dumps(params, methodresponse=True).encode()
    assert parse_response(data) == xmlrpc.client.loads(data)[0]


def test_parse_response_untyped_value_is_a_string() -> None:
    data = b"<?xml version='1.0'?><methodResponse><params><param><value>plain</value></param></params>" \
           b"</methodResponse>"
    assert parse_response(data) == ("plain",)


def test_parse_response_fault() -> None:
    """A fault is raised as supv's own ``rpc.Fault`` (the controller does not import xmlrpc.client)."""
    data = xmlrpc.client.dumps(xmlrpc.client.Fault(10, "BAD_NAME: foo"), methodresponse=True).encode()
    with pytest.raises(Fault) as caught:
        parse_response(data)
    assert (caught.value.faultCode, caught.value.faultString) == (10, "BAD_NAME: foo")


@pytest.mark.parametrize("data", [b"<html><body>hello</body></html>", b"not xml at all", b""])
def test_parse_response_not_xmlrpc(data: bytes) -> None:
    with pytest.raises((ExpatError, xmlrpc.client.ResponseError)):
        parse_response(data)


# raised exception -> (kind, start of the reason)
CLASSIFY: list[tuple[BaseException, Unreachable, str]] = [
    (ConnectionRefusedError(111, "Connection refused"), Unreachable.REFUSED, "connection refused"),
    (FileNotFoundError(2, "No such file"), Unreachable.REFUSED, "connection refused (no such socket file)"),
    (socket.timeout("timed out"), Unreachable.TIMEOUT, "timeout (no answer within 2.5s)"),
    (xmlrpc.client.ProtocolError("h/RPC2", 401, "Unauthorized", {}), Unreachable.AUTH,
     "authentication failed"),
    (xmlrpc.client.ProtocolError("h/RPC2", 404, "Not Found", {}), Unreachable.PROTOCOL,
     "not a supervisord (HTTP 404 Not Found"),
    (http.client.BadStatusLine("SSH-2.0"), Unreachable.PROTOCOL, "not a supervisord (bad HTTP answer"),
    (ExpatError("syntax error"), Unreachable.PROTOCOL, "not a supervisord (the answer is not XML-RPC)"),
    (xmlrpc.client.Fault(10, "BAD_NAME: x"), Unreachable.FAULT, "fault: BAD_NAME: x"),
    (http.client.RemoteDisconnected("closed"), Unreachable.ERROR, "connection closed without an answer"),
    (socket.gaierror(-2, "Name or service not known"), Unreachable.ERROR, "unknown host"),
    (PermissionError(13, "Permission denied"), Unreachable.ERROR, "permission denied"),
    (OSError(113, "No route to host"), Unreachable.ERROR, "No route to host"),
    # supv's own classes (cluster/rpc.py), what its transport and parser raise
    (Fault(10, "BAD_NAME: x"), Unreachable.FAULT, "fault: BAD_NAME: x"),
    (ProtocolError("h/RPC2", 401, "Unauthorized", {}), Unreachable.AUTH, "authentication failed"),
    (ProtocolError("h/RPC2", 502, "Bad Gateway", {}), Unreachable.PROTOCOL, "not a supervisord (HTTP 502 Bad Gateway"),
    (RemoteDisconnected("closed"), Unreachable.ERROR, "connection closed without an answer"),
    (BadStatusLine("SSH-2.0"), Unreachable.PROTOCOL, "not a supervisord (bad HTTP answer: BadStatusLine)"),
    (IncompleteRead(b"abc", 10), Unreachable.PROTOCOL, "not a supervisord (bad HTTP answer: IncompleteRead)"),
    (LineTooLong("header"), Unreachable.PROTOCOL, "not a supervisord (bad HTTP answer: LineTooLong)"),
]


@pytest.mark.parametrize(("error", "kind", "reason"), CLASSIFY, ids=[type(c[0]).__name__ for c in CLASSIFY])
def test_classify(error: BaseException, kind: Unreachable, reason: str) -> None:
    result = classify(INSTANCE, error, 2.5)
    assert result.kind is kind
    assert result.reason.startswith(reason)
    assert str(result) == f"server_1 (http://127.0.0.1:61001): {result.reason}"
    expected_code = ExitCode.FAILED if kind is Unreachable.FAULT else ExitCode.UNREACHABLE
    assert result.exit_code == expected_code


def test_label_without_nick() -> None:
    error = classify(parse_instance("unix:///run/s.sock"), ConnectionRefusedError(), 1.0)
    assert str(error) == "unix:///run/s.sock: connection refused"


def test_password_never_shown() -> None:
    transport = TimeoutTransport("http://h:1", 1.0, "bob", "s3cret")
    assert "s3cret" not in repr(transport)
    proxy = make_proxy(parse_instance("<a>h:1"), 1.0, "bob", "s3cret")
    assert "s3cret" not in repr(proxy)


def test_transport_refuses_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="unsupported URL"):
        TimeoutTransport("ftp://h:1")


STATE = {"statecode": 1, "statename": "RUNNING"}
INFO = {"group": "g", "name": "p", "state": 100, "start": 10, "stop": 20, "now": 30, "pid": 0,
        "exitstatus": 3, "spawnerr": "", "description": "Jan 01 12:00 AM"}
CONFIG = {"group": "g", "name": "p", "startsecs": 4, "stopwaitsecs": 7, "exitcodes": [0, 3],
          "autostart": False}


def fault(code: int, text: str) -> CallError:
    return CallError(INSTANCE, Unreachable.FAULT, f"fault: {text}", code)


def test_instance_snapshot_merges_config() -> None:
    snap = instance_snapshot(INSTANCE, [STATE, [INFO], [CONFIG, {**CONFIG, "group": "other"}]])
    (info,) = snap.processes
    assert (snap.state, snap.reachable, info.namespec, info.state) == (
        "RUNNING", True, "g:p", ProcessState.EXITED)
    assert (info.startsecs, info.stopwaitsecs, info.exitcodes, info.autostart, info.expected_exit) == (
        4, 7, (0, 3), False, True)
    assert (info.start, info.stop, info.now, info.exitstatus) == (10.0, 20.0, 30.0, 3)


def test_instance_snapshot_without_config_keeps_supervisor_defaults() -> None:
    missing = fault(Faults.UNKNOWN_METHOD, "UNKNOWN_METHOD")
    (info,) = instance_snapshot(INSTANCE, [STATE, [INFO], missing]).processes
    assert (info.startsecs, info.stopwaitsecs, info.exitcodes, info.autostart, info.expected_exit) == (
        1, 10, (0,), True, False)


def test_instance_snapshot_shutting_down() -> None:
    state = {"statecode": -1, "statename": "SHUTDOWN"}
    refused = fault(Faults.SHUTDOWN_STATE, "SHUTDOWN_STATE")
    snap = instance_snapshot(INSTANCE, [state, refused, refused])
    assert (snap.state, snap.reachable, snap.usable, snap.processes) == ("SHUTDOWN", True, False, ())


@pytest.mark.parametrize(("answers", "kind"), [
    ([fault(Faults.UNKNOWN_METHOD, "UNKNOWN_METHOD"), [], []], Unreachable.PROTOCOL),
    ([fault(Faults.FAILED, "FAILED: boom"), [], []], Unreachable.FAULT),
    ([STATE, fault(Faults.FAILED, "FAILED: boom"), []], Unreachable.FAULT),
])
def test_instance_snapshot_failures(answers: list[Any], kind: Unreachable) -> None:
    with pytest.raises(CallError) as caught:
        instance_snapshot(INSTANCE, answers)
    assert caught.value.kind is kind


def test_fan_out_keeps_order_and_errors() -> None:
    def square(value: int) -> int:
        if value == 3:
            raise ValueError("three")
        return value * value

    results = fan_out(square, [1, 2, 3, 4], timeout=5.0, max_workers=2)
    assert results[:2] == [1, 4] and results[3] == 16
    assert isinstance(results[2], ValueError)
    assert fan_out(square, [], timeout=5.0) == []


def test_fan_out_abandons_what_misses_the_deadline() -> None:
    release = threading.Event()

    def work(value: int) -> int:
        if value == 0:
            release.wait(30)  # hung far beyond the deadline
        return value

    try:
        # one worker: item 0 hangs, so item 1 never starts; both are reported as not done (None)
        assert fan_out(work, [0, 1], timeout=0.2, max_workers=1) == [None, None]
        assert fan_out(work, [0, 1, 2], timeout=0.2, max_workers=3) == [None, 1, 2]
    finally:
        release.set()
