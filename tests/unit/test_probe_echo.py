"""A probe's answer that is the last one's bytes again (``transport.Echo``, issue 18): recognised by the
pipeline without reading its head, digesting or parsing it, and everything else as before: a changed answer
read and digested, a connection closed between probes noticed and asked again, an answer in pieces, a
timeout, an answer over the cap, a Date line that would hide another header. Over a real local socket
server whose answers are scripted (``test_pipeline.Scripted``)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from supv_cli.cluster import pipeline
from supv_cli.cluster.answers import UNCHANGED, answer_digest
from supv_cli.cluster.client import RPC_PATH, CallError
from supv_cli.cluster.fanout import Fanout, InstanceClient
from supv_cli.cluster.transport import Echo
from supv_cli.model.instances import InstanceList, parse_instance
from supv_cli.model.snapshot import Unreachable
from tests.unit.test_pipeline import _STATE, Scripted

_TAIL = b"2026-12-07 20:06:13,001 INFO success: p0 entered RUNNING state"
_PROBE = "supervisor.getState"


def _body(text: bytes) -> bytes:
    return (b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>" + text
            + b"</string></value>\n</param>\n</params>\n</methodResponse>\n")


def _http(body: bytes, date: bytes = b"Mon, 07 Dec 2026 20:06:13 GMT", extra: bytes = b"") -> bytes:
    """An answer with medusa's head: a Date line (``date``: its value) among the others."""
    return (b"HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\nDate: " + date + b"\r\nContent-Type: text/xml\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


_ONE, _TWO = _http(_body(_TAIL)), _http(_body(_TAIL), date=b"Mon, 07 Dec 2026 20:06:14 GMT")
_MOVED = _http(_body(_TAIL.replace(b"p0", b"p1")), date=b"Mon, 07 Dec 2026 20:06:15 GMT")


def _client(server: Scripted, timeout: float = 0.5, max_answer: int = 1 << 20) -> InstanceClient:
    client = InstanceClient(parse_instance(f"<s>127.0.0.1:{server.port}"), timeout, None, None, max_answer)
    client.call(_PROBE)  # the connection is now kept (an ordinary call: no echo yet)
    assert client.transport.echo is None
    return client


def _probe(client: InstanceClient, expect: bytes | None, wait: float = 0.0) -> tuple[Any, Any, bytes | None]:
    """One pipelined probe taken by ``call_unless`` (as the poller's): its entry, answer and digest."""
    assert client.hold()
    try:
        sent = pipeline.send([(client.transport, RPC_PATH, _PROBE)])
        time.sleep(wait)
        pipeline.collect([entry for entry in sent if entry is not None])
    finally:
        client.release()
    answer, digest = client.call_unless(expect, _PROBE)
    return sent[0], answer, digest


@pytest.mark.parametrize("server", [[_ONE, _ONE, _TWO, _MOVED]], indirect=True)
def test_the_same_bytes_but_the_date_are_recognised_and_a_changed_answer_is_read(server: Scripted) -> None:
    client = _client(server)
    first, answer, digest = _probe(client, None)
    assert first.echoed is None and answer == _TAIL.decode() and digest == answer_digest(_body(_TAIL))
    assert client.transport.echo is not None and client.transport.echo.digest == digest
    again, answer, same = _probe(client, digest)  # another Date: the same answer, known by its bytes
    assert again.echoed is not None and again.echoed.digest == digest and answer is UNCHANGED and same == digest
    moved, answer, other = _probe(client, digest)  # the tail moved: read, parsed, digested
    assert moved.echoed is None and answer == _TAIL.replace(b"p0", b"p1").decode() and other != digest
    assert client.connections == 1


@pytest.mark.parametrize("server", [[_ONE, _ONE, "close", _TWO]], indirect=True)
def test_a_connection_closed_between_probes_is_noticed_and_asked_again(server: Scripted) -> None:
    client = _client(server)
    _entry, _answer, digest = _probe(client, None)
    assert client.transport.echo is not None
    # the server closes the kept connection as it is asked: the call is made again on a new one
    _entry, answer, same = _probe(client, digest)
    assert answer is UNCHANGED and same == digest
    assert server.connections == 2 and client.connections == 2


@pytest.mark.parametrize("server", [[_ONE, _ONE, ("split", 0.1, _TWO)]], indirect=True)
def test_an_answer_in_pieces_is_read_whole_then_recognised(server: Scripted) -> None:
    client = _client(server)
    _entry, _answer, digest = _probe(client, None)
    entry, answer, same = _probe(client, digest)
    assert entry.echoed is not None and answer is UNCHANGED and same == digest


@pytest.mark.parametrize("server", [[_ONE, _ONE, ("cut", 0.1, _TWO)]], indirect=True)
def test_an_answer_cut_short_is_an_error_not_the_last_answer(server: Scripted) -> None:
    client = _client(server)
    _entry, _answer, digest = _probe(client, None)
    with pytest.raises(CallError) as caught:
        _probe(client, digest)
    assert caught.value.kind is Unreachable.PROTOCOL
    assert client.transport.echo is None and client.transport.kept_socket is None


@pytest.mark.parametrize("server", [[_ONE, _ONE, "hang"]], indirect=True)
def test_a_probe_without_answer_is_a_timeout_within_the_call_timeout(server: Scripted) -> None:
    client = _client(server, timeout=0.3)
    _entry, _answer, digest = _probe(client, None)
    started = time.monotonic()
    with pytest.raises(CallError) as caught:
        _probe(client, digest)
    assert caught.value.kind is Unreachable.TIMEOUT and time.monotonic() - started < 1.0
    assert client.transport.echo is None


@pytest.mark.parametrize("server", [[_ONE, _ONE, _http(_body(_TAIL * 40))]], indirect=True)
def test_an_answer_over_the_cap_is_refused_after_an_echo(server: Scripted) -> None:
    client = _client(server, max_answer=1024)
    _entry, _answer, digest = _probe(client, None)
    with pytest.raises(CallError) as caught:
        _probe(client, digest)
    assert caught.value.kind is Unreachable.PROTOCOL and "the cap" in caught.value.reason
    assert client.transport.echo is None and client.transport.kept_socket is None


# a Date value of the usual length that is two header lines: the same length, not the same answer
_HIDDEN = _http(_body(_TAIL), date=b"x\r\nConnection: close\r\nX-Y: ab")
_STATE_ONE = _http(_STATE)


@pytest.mark.parametrize(("before", "after", "same"), [
    (_ONE, _ONE, True),
    (_ONE, _TWO, True),
    (_ONE, _MOVED, False),  # another body
    (_ONE, _ONE + b"x", False),  # a byte more
    (_ONE, _HIDDEN, False),  # a line break where the Date was: another head
    (_ONE, _ONE.replace(b"Medusa", b"Medus4"), False),  # another byte of the head
    (_ONE.replace(b"Date: ", b"Daet: "), _TWO.replace(b"Date: ", b"Daet: "), False),  # no Date line: all compared
    (_ONE.replace(b"Date: ", b"Daet: "), _ONE.replace(b"Date: ", b"Daet: "), True),
    (_http(_body(_TAIL), date=b"today"), _http(_body(_TAIL), date=b"later"), False),  # an unusual Date: all compared
])
def test_echo_same(before: bytes, after: bytes, same: bool) -> None:
    start = before.index(b"\r\n\r\n") + 4
    echo = Echo(b"request", before, answer_digest(before[start:]), "OK", start)
    assert echo.same(after) is same
    if same:
        assert echo.answer(after) == (200, "OK", before[start:], False)


def test_the_watched_instances_closed_by_their_supervisord_are_found_with_one_call() -> None:
    # Fanout.closed: as InstanceClient.peer_closed for each (None or True: asked), one poll for all
    nicks = ("closed", "kept", "held", "never")
    listeners = [socket.create_server(("127.0.0.1", 0)) for _ in nicks]
    accepted: list[socket.socket] = []

    def serve() -> None:
        for listener in listeners[:3]:
            conn, _ = listener.accept()
            data = b""
            while b"</methodCall>" not in data:
                data += conn.recv(65536)
            conn.sendall(_ONE)
            accepted.append(conn)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    fanout = Fanout(InstanceList([parse_instance(f"<{nick}>127.0.0.1:{listener.getsockname()[1]}")
                                  for nick, listener in zip(nicks, listeners)]), 1.0)
    clients = {instance.nick: fanout.client(instance) for instance in fanout.instances}
    try:
        for nick in ("closed", "kept", "held"):  # one kept connection each, accepted in this order
            clients[nick].call(_PROBE)
        server.join(5)
        accepted[0].close()  # the supervisord of "closed" closes its end
        time.sleep(0.1)
        assert clients["held"].hold()  # a call holds it: not looked at, asked
        try:
            assert fanout.closed(fanout.instances) == {"closed", "held", "never"}
        finally:
            clients["held"].release()
        assert clients["closed"].transport.kept_socket is None  # closed here too: the next call opens one
        assert clients["kept"].transport.kept_socket is not None and clients["kept"].hold()  # released
        clients["kept"].release()
        assert fanout.closed([]) == set()
    finally:
        for item in [*accepted, *listeners]:
            item.close()
