"""supv's XML-RPC transport: ``http://``, ``https://`` and ``unix://`` with a real deadline per call.

Supervisor's own transport (``supervisor.xmlrpc.SupervisorTransport``) has no timeout. Here each
socket operation gets what is left of the call's timeout, and a shared watchdog thread shuts the
socket down when a call outlives its deadline (a server trickling bytes), so a call never lasts
longer than its timeout. Credentials travel in a basic auth header only, never in a URL or a repr.
"""

from __future__ import annotations

import base64
import heapq
import http.client
import itertools
import socket
import threading
import time
import xmlrpc.client
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from supv_cli.cluster.xmlchars import has_forbidden, restore, shelter

#: default timeout of one XML-RPC call, in seconds (``--timeout``)
DEFAULT_TIMEOUT = 5.0
_READ_CHUNK = 65536


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection over an AF_UNIX stream socket, with a timeout on connect and every I/O."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        # the host only goes into the Host header; supervisord ignores it
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _set_remaining(sock: socket.socket | None, deadline: float) -> None:
    """Give the next operations on ``sock`` only what is left until ``deadline``."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("timed out")
    if sock is not None:
        sock.settimeout(remaining)


class _Watch:
    """One call under watch: ``expired`` once the watchdog has shut its socket down."""

    __slots__ = ("deadline", "sock", "expired", "done")

    def __init__(self, deadline: float, sock: socket.socket) -> None:
        self.deadline = deadline
        self.sock = sock
        self.expired = False
        self.done = False


class _Watchdog:
    """A single daemon thread that shuts down the socket of every call still running at its deadline.

    Socket timeouts bound each operation, not a call: a server trickling its headers one byte at a
    time would stretch a call without end. Shutting the socket down wakes the blocked call at once.
    One shared thread (not a Timer per call, which measurably slowed snapshots down).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, deadline: float) -> _Watch:
        watch = _Watch(deadline, sock)
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._counter), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="supv-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return watch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, watch = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not watch.done:
                watch.expired = True
                try:
                    watch.sock.shutdown(socket.SHUT_RDWR)  # wakes up a blocked recv or send at once
                except OSError:
                    pass


_WATCHDOG = _Watchdog()


class TimeoutTransport(xmlrpc.client.Transport):
    """An ``xmlrpc.client`` transport for ``http://host:port`` and ``unix:///path.sock`` URLs (and
    ``https://`` for a supervisord behind a TLS reverse proxy).

    One connection per call (measured: connection set-up is a small part of a supervisord round
    trip). The whole call (connect, send, receive) must end within ``timeout`` seconds, else
    ``socket.timeout`` is raised.
    """

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT, username: str | None = None,
                 password: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout
        self.username = username
        self._authorization: str | None = None
        if username is not None:
            token = f"{username}:{password or ''}".encode()
            self._authorization = "Basic " + base64.b64encode(token).decode("ascii")
        self._socket_path: str | None = None
        self._https = url.startswith("https://")
        self._host, self._port = "localhost", 80
        if url.startswith("unix://"):
            self._socket_path = url[len("unix://"):]
        elif url.startswith(("http://", "https://")):
            parts = urlsplit(url)
            self._host, self._port = parts.hostname or "localhost", parts.port or (443 if self._https else 80)
        else:
            raise ValueError(f"unsupported URL {url!r}: use http://host:port or unix:///path.sock")

    def __repr__(self) -> str:
        return f"TimeoutTransport({self.url!r}, timeout={self.timeout!r}, username={self.username!r})"

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._socket_path is not None:
            return UnixHTTPConnection(self._socket_path, self.timeout)
        if self._https:  # supervisord behind a TLS reverse proxy
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def request(self, host: Any, handler: str, request_body: Any, verbose: bool = False) -> Any:
        deadline = time.monotonic() + self.timeout
        body = request_body if isinstance(request_body, bytes) else str(request_body).encode("utf-8")
        headers = {"User-Agent": self.user_agent, "Content-Type": "text/xml", "Accept": "text/xml"}
        if self._authorization is not None:
            headers["Authorization"] = self._authorization
        conn = self._new_connection()
        watch: _Watch | None = None
        try:
            conn.connect()
            # kept: getresponse() drops conn.sock when the server closes after answering, but the
            # response still reads from this socket
            sock = conn.sock
            watch = _WATCHDOG.watch(sock, deadline)
            _set_remaining(sock, deadline)
            conn.request("POST", handler, body, headers)
            _set_remaining(sock, deadline)
            response = conn.getresponse()
            if response.status != 200:
                # the URL of the error never holds credentials: they travel in a header only
                raise xmlrpc.client.ProtocolError(self.url + handler, response.status, response.reason, {})
            chunks = []
            while True:
                _set_remaining(sock, deadline)
                chunk = response.read1(_READ_CHUNK)  # at most one recv: the deadline is checked between
                if not chunk:
                    break
                chunks.append(chunk)
            if watch.expired:  # the watchdog's shutdown looks like the end of the answer
                raise socket.timeout("timed out")
        except Exception:
            if watch is not None and watch.expired:
                raise socket.timeout("timed out") from None
            raise
        finally:
            if watch is not None:
                watch.done = True
            conn.close()
        return parse_response(b"".join(chunks))


class _Unsupported(Exception):
    """A response the fast parser leaves to xmlrpc.client."""


def _value(element: ElementTree.Element) -> Any:
    """Convert one ``<value>`` element (the types supervisord sends)."""
    if len(element) == 0:
        return element.text or ""  # a value without type is a string
    typed = element[0]
    tag, text = typed.tag, typed.text or ""
    if tag == "string":
        return text
    if tag in ("int", "i4", "i8"):
        return int(text)
    if tag == "boolean":
        if text.strip() not in ("0", "1"):
            raise _Unsupported(tag)
        return text.strip() == "1"
    if tag == "double":
        return float(text)
    if tag == "array":
        data = typed.find("data")
        return [] if data is None else [_value(item) for item in data]
    if tag == "struct":
        members = {}
        for member in typed:
            name, value = member.find("name"), member.find("value")
            if name is None or value is None:
                raise _Unsupported("member")
            members[name.text or ""] = _value(value)
        return members
    if tag == "nil":
        return None
    raise _Unsupported(tag)  # base64, dateTime.iso8601...


def parse_response(data: bytes) -> tuple[Any, ...]:
    """Unmarshal an XML-RPC response like ``xmlrpc.client`` does (the params tuple, or Fault raised).

    Measured twice as fast as xmlrpc.client's unmarshaller (C tree building instead of a Python
    callback per tag), which matters for getAllConfigInfo's large answers; anything unusual is
    handed to xmlrpc.client itself, so errors and rare types behave exactly as there.
    """
    try:
        root = ElementTree.fromstring(data)
        if root.tag != "methodResponse" or len(root) != 1:
            raise _Unsupported(root.tag)
        body = root[0]
        if body.tag == "fault" and len(body) == 1:
            fault = _value(body[0])
            if isinstance(fault, dict) and {"faultCode", "faultString"} <= fault.keys():
                raise xmlrpc.client.Fault(fault["faultCode"], fault["faultString"])
            raise _Unsupported("fault")
        if body.tag != "params" or any(len(param) != 1 or param[0].tag != "value" for param in body):
            raise _Unsupported(body.tag)
        return tuple(_value(param[0]) for param in body)
    except xmlrpc.client.Fault:
        raise
    except Exception:
        if has_forbidden(data):  # control characters of a coloured log: see cluster/xmlchars.py
            return restore(_unmarshal(shelter(data)))
        return _unmarshal(data)


def _unmarshal(data: bytes) -> tuple[Any, ...]:
    parser, unmarshaller = xmlrpc.client.getparser()
    parser.feed(data)
    parser.close()
    return tuple(unmarshaller.close())
