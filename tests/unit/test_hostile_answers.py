"""What a broken or hostile peer may answer costs little: capped bodies, refused DOCTYPEs and deep
nesting, the back-off of an instance that is not a supervisord (pure parts and a socket pair; the
same over real HTTP is in tests/integration/test_hostile.py)."""

from __future__ import annotations

import socket
import threading
import time
import xmlrpc.client

import pytest

from supv_cli.cluster.client import classify
from supv_cli.cluster.health import BACKOFF_FIRST, BACKOFF_MAX, InstanceHealth
from supv_cli.cluster.http_read import MAX_ANSWER, _exchange
from supv_cli.cluster.rpcparse import MAX_DEPTH, AnswerRefused
from supv_cli.cluster.settings import max_answer
from supv_cli.cluster.transport import parse_response
from supv_cli.cluster.xmlchars import restore
from supv_cli.errors import ConfigError
from supv_cli.model.instances import parse_instance
from supv_cli.model.snapshot import Unreachable
from tests.support.hostile import _deep, _laughs, answer

INSTANCE = parse_instance("<peer>127.0.0.1:61001")


def nested(levels: int, leaf: object) -> object:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def depth(value: object) -> int:
    levels = 0
    while isinstance(value, list):
        value, levels = value[0], levels + 1
    return levels


@pytest.mark.parametrize(("data", "reason"), [
    (_laughs(), "a DOCTYPE in the answer: entities and DTDs are refused"),
    (b"".join(answer("doctype")).split(b"\r\n\r\n", 1)[1], "a DOCTYPE in the answer: entities and DTDs are refused"),
    (_deep(), f"the answer nests values deeper than {MAX_DEPTH} levels"),
    (xmlrpc.client.dumps((nested(MAX_DEPTH + 2, 1),), methodresponse=True).encode(),
     f"the answer nests values deeper than {MAX_DEPTH} levels"),
])
def test_refused_before_parsing_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(AnswerRefused) as caught:
        parse_response(data)
    assert str(caught.value) == reason
    error = classify(INSTANCE, caught.value, 5.0)
    assert (error.kind, error.reason) == (Unreachable.PROTOCOL, f"not a supervisord ({reason})")


def test_supervisord_nesting_and_a_coloured_log_still_parse() -> None:
    value = [{"name": "a", "exitcodes": [0, 2]}, "\x1b[31mred\x1b[0m", nested(MAX_DEPTH - 2, "\x07")]
    data = xmlrpc.client.dumps((value,), methodresponse=True).encode()
    assert parse_response(data) == (value,)


def test_restore_is_iterative() -> None:
    """Deep nesting + a sheltered control character gave RecursionError."""
    deep = nested(100_000, "\uf701x")
    restored = restore((deep, {"k\uf71b": ("\uf702",)}))
    assert restored[1] == {"k\x1b": ("\x02",)} and depth(restored[0]) == 100_000
    leaf = restored[0]
    while isinstance(leaf, list):
        leaf = leaf[0]
    assert leaf == "\x01x"


def exchange(raw: bytes, cap: int) -> bytes:
    """What ``_exchange`` reads of ``raw`` sent by a peer over a socket pair."""
    ours, theirs = socket.socketpair()

    def peer() -> None:
        with theirs:
            theirs.recv(65536)
            try:
                theirs.sendall(raw)
            except OSError:  # we stopped reading: what the cap is for
                pass

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        return _exchange(ours, b"POST /RPC2 HTTP/1.1\r\n\r\n", time.monotonic() + 5.0, cap)[2]
    finally:
        ours.close()
        thread.join(5)


BODY = b"x" * 5000
CAPPED = [
    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY,   # announced: refused before reading
    b"HTTP/1.0 200 OK\r\n\r\n" + BODY,                                    # until closed
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(b"3e8\r\n" + BODY[:1000] + b"\r\n"
                                                                          for _ in range(5)) + b"0\r\n\r\n",
]


@pytest.mark.parametrize("raw", CAPPED, ids=["length", "until-closed", "chunked"])
def test_a_body_over_the_cap_is_refused(raw: bytes) -> None:
    assert exchange(raw, cap=len(BODY)) == BODY  # at the cap: read
    with pytest.raises(AnswerRefused, match=r"an answer over .* MiB, the cap; see SUPV_MAX_ANSWER"):
        exchange(raw, cap=len(BODY) - 1)


def test_the_default_cap_holds_a_big_real_answer() -> None:
    """1.1 MB measured for getAllProcessInfo + getAllConfigInfo of 300 programs (transport.MAX_ANSWER)."""
    assert MAX_ANSWER >= 10 * 1_122_876


@pytest.mark.parametrize(("text", "expected"), [(None, MAX_ANSWER), ("", MAX_ANSWER), ("64", 64 << 20),
                                                 ("1.5", 3 << 19)])
def test_max_answer_setting(text: str | None, expected: int) -> None:
    assert max_answer(text) == expected


@pytest.mark.parametrize("text", ["abc", "0", "-3", "0.5", "inf", "nan"])
def test_max_answer_setting_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"SUPV_MAX_ANSWER=.* is not a size: give MiB between 1 and"):
        max_answer(text)


def test_not_a_supervisord_is_backed_off_longer_each_time() -> None:
    health = InstanceHealth(INSTANCE)
    periods = []
    for now in range(0, 200, 1):  # asked each second when not backed off; refused each time
        if not health.backed_off(float(now)):
            health.failed(Unreachable.PROTOCOL, "not a supervisord", 0.0)
            health.back_off(float(now))
            periods.append(health.backoff)
    assert periods[:6] == [BACKOFF_FIRST, 2 * BACKOFF_FIRST, 4 * BACKOFF_FIRST, 8 * BACKOFF_FIRST,
                           16 * BACKOFF_FIRST, BACKOFF_MAX]
    assert set(periods[5:]) == {BACKOFF_MAX}
    health.answered(0.01, 5.0)  # it answers as a supervisord: asked normally again
    assert not health.backed_off(1e9 - 1) and health.backoff == 0.0
