"""A small HTTP server that answers every XML-RPC call with a hostile or broken answer (tests, bench).

Each kind is what a broken or hostile peer may send in place of a supervisord::

    with HostileServer("huge") as server:
        run_supv("instances", "-i", server.spec, "--timeout", "2")
        server.connections        # how many times it was asked

* ``huge``: announces a 200 MB body and sends it (until the client closes);
* ``endless``: no length, a body that never ends;
* ``entities``: a "billion laughs" entity bomb (a few hundred bytes expanding to GBs);
* ``doctype``: a plain supervisord answer behind a DOCTYPE naming an external DTD;
* ``deep``: arrays nested 100 000 levels deep, holding a control character (the coloured-log path);
* ``ok``: a small well-formed getState answer (a baseline).
"""

from __future__ import annotations

import socket
import threading
from typing import Any, Iterator

KINDS = ("huge", "endless", "entities", "doctype", "deep")

_STATE = (b"<?xml version='1.0'?>\n<methodResponse><params><param><value><struct>"
          b"<member><name>statecode</name><value><int>1</int></value></member>"
          b"<member><name>statename</name><value><string>RUNNING</string></value></member>"
          b"</struct></value></param></params></methodResponse>\n")
_HUGE = 200 * 1000 * 1000
_CHUNK = b"<!-- " + b"x" * 65000 + b" -->"


def _laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (b"<?xml version='1.0'?>\n<!DOCTYPE methodResponse [" + "".join(entities).encode() + b"]>\n"
            b"<methodResponse><params><param><value><string>&lol9;</string></value></param></params>"
            b"</methodResponse>\n")


def _deep(levels: int = 100_000) -> bytes:
    return (b"<?xml version='1.0'?>\n<methodResponse><params><param><value>"
            + b"<array><data><value>" * levels + b"<string>\x1b[31m</string>"
            + b"</value></data></array>" * levels + b"</value></param></params></methodResponse>\n")


def _fixed(body: bytes) -> Iterator[bytes]:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def answer(kind: str) -> Iterator[bytes]:
    """The bytes sent for one call, in pieces (a generator: ``huge`` and ``endless`` are not built)."""
    if kind == "huge":
        yield b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % _HUGE
        for _ in range(_HUGE // len(_CHUNK)):
            yield _CHUNK
    elif kind == "endless":
        yield b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<?xml version='1.0'?>\n<methodResponse>"
        while True:
            yield _CHUNK
    elif kind == "entities":
        yield from _fixed(_laughs())
    elif kind == "doctype":
        doctype = b'<!DOCTYPE methodResponse SYSTEM "http://127.0.0.1:9/x.dtd">\n'
        yield from _fixed(_STATE.replace(b"\n", b"\n" + doctype, 1))
    elif kind == "deep":
        yield from _fixed(_deep())
    elif kind == "ok":
        yield from _fixed(_STATE)
    else:
        raise ValueError(kind)


class HostileServer:
    """Listens on 127.0.0.1 (a free port); answers each request with :func:`answer` of its kind, then
    closes the connection. ``connections`` counts the requests read."""

    def __init__(self, kind: str, host: str = "127.0.0.1") -> None:
        answer(kind)  # the kind is checked when used
        self.kind = kind
        self.connections = 0
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"hostile-{kind}", daemon=True)
        self.host, self.port = self._listener.getsockname()[:2]

    @property
    def spec(self) -> str:
        return f"<{self.kind}>{self.host}:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                self.connections += 1
                for piece in answer(self.kind):
                    if self._stop.is_set():
                        return
                    conn.sendall(piece)
            except OSError:  # the client gave up (what it should do): done
                return
