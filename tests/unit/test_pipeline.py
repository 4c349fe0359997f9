"""Pipelined requests (``cluster/pipeline.py``): sent at once from the polling thread over kept
connections, answers read as they come, and everything an ordinary call guarantees still holds (its own
deadline from the send, an answer read late is an answer, the body cap, DOCTYPE refused, the retry of a
kept connection the server closed). Over a real local socket server whose answers are scripted."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from supv_cli.cluster import pipeline
from supv_cli.cluster.client import RPC_PATH, CallError
from supv_cli.cluster.fanout import InstanceClient
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import Unreachable

_STATE = (b"<?xml version='1.0'?>\n<methodResponse><params><param><value><struct>"
          b"<member><name>statecode</name><value><int>1</int></value></member>"
          b"<member><name>statename</name><value><string>RUNNING</string></value></member>"
          b"</struct></value></param></params></methodResponse>\n")
_DOCTYPE = _STATE.replace(b"<methodResponse>", b'<!DOCTYPE methodResponse SYSTEM "http://example.invalid/x.dtd">'
                          b"<methodResponse>", 1)


def _http(body: bytes, length: int | None = None) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % (
        len(body) if length is None else length) + body


class Scripted:
    """Answers the n-th request of a connection with ``script[n]``: bytes, ``"hang"`` (no answer),
    ``"close"`` (closes the connection without a byte), ``("late", seconds, bytes)``, ``("split", seconds,
    bytes)`` (half, then the rest ``seconds`` later) or ``("cut", seconds, bytes)`` (half, then closed)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            buffer = b""
            try:
                while True:
                    while b"\r\n\r\n" not in buffer:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        buffer += chunk
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    while len(rest) < length:
                        rest += conn.recv(65536)
                    self.requests.append(rest[:length])
                    buffer = rest[length:]
                    step = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
                    if step == "hang":
                        self._stop.wait(5)
                        return
                    if step == "close":
                        return
                    if isinstance(step, tuple) and step[0] in ("split", "cut"):
                        conn.sendall(step[2][:len(step[2]) // 2])
                        time.sleep(step[1])
                        if step[0] == "cut":
                            return
                        step = step[2][len(step[2]) // 2:]
                    elif isinstance(step, tuple):
                        time.sleep(step[1])
                        step = step[2]
                    conn.sendall(step)
            except OSError:
                return


def _client(server: Scripted, timeout: float = 0.5, max_answer: int = 1 << 20) -> InstanceClient:
    client = InstanceClient(parse_instance(f"<s>127.0.0.1:{server.port}"), timeout, None, None, max_answer)
    assert client.call("supervisor.getState")["statename"] == "RUNNING"  # the connection is now kept
    return client


def _pipelined(client: InstanceClient, method: str = "supervisor.getState", wait: float = 0.0) -> Any:
    """One pipelined request, its answer taken by the client's next call (as ``session.each`` does)."""
    assert client.hold()
    try:
        sent = pipeline.send([(client.transport, RPC_PATH, method)])
        time.sleep(wait)
        pipeline.collect([entry for entry in sent if entry is not None])
    finally:
        client.release()
    return sent[0], client.call(method)


@pytest.mark.parametrize("server", [[_http(_STATE)]], indirect=True)
def test_a_pipelined_request_is_the_call_over_the_kept_connection(server: Scripted) -> None:
    client = _client(server)
    entry, state = _pipelined(client)
    assert entry is not None and state["statename"] == "RUNNING"
    # the call took the pipelined answer: one request each, one connection for both
    assert len(server.requests) == 2 and server.requests[0] == server.requests[1] == pipeline.request_body(
        "supervisor.getState")
    assert server.connections == 1 and client.connections == 1


@pytest.mark.parametrize("server", [[_http(_STATE), "hang"]], indirect=True)
def test_no_answer_is_a_timeout_from_the_send(server: Scripted) -> None:
    client = _client(server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(CallError) as caught:
        _pipelined(client)
    assert caught.value.kind is Unreachable.TIMEOUT
    assert 0.25 <= time.monotonic() - started < 1.0


@pytest.mark.parametrize("server", [[_http(_STATE)]], indirect=True)
def test_an_answer_that_arrived_in_time_is_read_late(server: Scripted) -> None:
    # this thread comes to the answer after its deadline (busy elsewhere): it is an answer all the same
    client = _client(server, timeout=0.2)
    entry, state = _pipelined(client, wait=0.5)
    assert state["statename"] == "RUNNING" and entry.elapsed >= 0.5


@pytest.mark.parametrize("server", [[_http(_STATE), ("late", 0.6, _http(_STATE))]], indirect=True)
def test_an_answer_after_the_deadline_is_a_timeout(server: Scripted) -> None:
    client = _client(server, timeout=0.3)
    with pytest.raises(CallError) as caught:
        _pipelined(client)
    assert caught.value.kind is Unreachable.TIMEOUT


@pytest.mark.parametrize("server", [[_http(_STATE), _http(b"x" * 100, length=50 << 20)]], indirect=True)
def test_an_answer_over_the_cap_is_refused(server: Scripted) -> None:
    client = _client(server)
    with pytest.raises(CallError) as caught:
        _pipelined(client)
    assert caught.value.kind is Unreachable.PROTOCOL and "the cap" in caught.value.reason
    assert client.transport._sock is None  # that connection is not used again


@pytest.mark.parametrize("server", [[_http(_STATE), _http(_DOCTYPE)]], indirect=True)
def test_a_doctype_is_refused(server: Scripted) -> None:
    client = _client(server)
    with pytest.raises(CallError) as caught:
        _pipelined(client)
    assert caught.value.kind is Unreachable.PROTOCOL


@pytest.mark.parametrize("server", [[_http(_STATE), "close", _http(_STATE)]], indirect=True)
def test_a_kept_connection_closed_as_it_was_asked_is_asked_again_on_a_new_one(server: Scripted) -> None:
    client = _client(server)
    _entry, state = _pipelined(client)
    assert state["statename"] == "RUNNING"
    assert server.connections == 2 and client.connections == 2


@pytest.mark.parametrize("server", [[_http(_STATE)]], indirect=True)
def test_what_cannot_be_pipelined_is_left_to_the_ordinary_call(server: Scripted) -> None:
    client = InstanceClient(parse_instance(f"<s>127.0.0.1:{server.port}"), 0.5, None, None)
    assert pipeline.send([(client.transport, RPC_PATH, "supervisor.getState")]) == [None]  # no connection yet
    assert client.call("supervisor.getState")["statename"] == "RUNNING"


@pytest.mark.parametrize("server", [[_http(_STATE)]], indirect=True)
def test_an_answer_read_for_another_request_is_never_taken(server: Scripted) -> None:
    # the pipelined request was getState; the next call asks something else: the read answer is
    # dropped with its connection, and the call goes over a new one
    client = _client(server)
    assert client.hold()
    try:
        pipeline.collect([entry for entry in pipeline.send([(client.transport, RPC_PATH, "supervisor.getState")])
                          if entry is not None])
    finally:
        client.release()
    assert client.call("supervisor.getPID")["statename"] == "RUNNING"  # the scripted answer, asked anew
    assert len(server.requests) == 3 and server.requests[2] == pipeline.request_body("supervisor.getPID")
    assert client.connections == 2 and client.transport.prefetched is None
