"""supv's XML-RPC transport: ``http://``, ``https://`` and ``unix://``, persistent, with a real deadline.

Supervisor's own transport (``supervisor.xmlrpc.SupervisorTransport``) has no timeout. Here every call
must end within its timeout: each socket operation gets only what is left of it, and the deadline is
checked between two reads, so a server trickling bytes cannot stretch a call.

The connection is kept open from one call to the next (HTTP/1.1; supervisord keeps it alive), which is
what makes polling cheap: measured on a supervisord with 40 programs, a ``getState`` costs the client
0.03 ms of CPU over a kept connection against 0.5 ms with a new connection through ``http.client``.
The HTTP exchange is written here (a POST, then a status line, headers and a Content-Length body)
rather than through ``http.client``, whose header parsing alone cost more than the rest of a small
call. A kept connection that the server closed meanwhile (supervisord restarted) is noticed before
sending, or by the server closing it without a byte of answer, and the call is made once more on a new
connection within the same deadline. :attr:`TimeoutTransport.connections` counts the connections
opened: a new one means supervisord may have restarted (``cluster/polling.py`` refetches the
configuration then). Credentials travel in a basic auth header only, never in a URL or a repr.

An answer is read up to ``max_answer`` bytes (:data:`MAX_ANSWER`, ``SUPV_MAX_ANSWER``): a peer that
announces or sends more (a huge or endless body) is refused as soon as it passes the cap, with the
connection closed, so a broken or hostile peer costs at most that much memory per call.
"""

from __future__ import annotations

import base64
import select
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from supv_cli.cluster.answers import UNCHANGED, answer_digest
from supv_cli.cluster.http_read import MAX_ANSWER, _exchange, _NoAnswer, _remaining
from supv_cli.cluster.rpc import USER_AGENT, ProtocolError, RemoteDisconnected
from supv_cli.cluster.rpcparse import AnswerRefused, parse_response

__all__ = ["DEFAULT_TIMEOUT", "MAX_ANSWER", "AnswerRefused", "Echo", "TimeoutTransport", "parse_response"]

#: default timeout of one XML-RPC call, in seconds (``--timeout``)
DEFAULT_TIMEOUT = 5.0


#: request messages kept per transport (a poller's few kinds of request; an operator's calls are not kept
#: past this)
_MESSAGES = 16
#: the largest answer kept for the pipeline to recognise by its bytes (a probe's is about 1 KB; a full
#: answer, whose clock changes every second, is never the same bytes twice)
ECHO_MAX = 4096
#: the length of a Date header's value (RFC 7231's IMF-fixdate, as supervisord's medusa writes it)
_DATE = len("Sun, 06 Nov 1994 08:49:37 GMT")


class Echo:
    """An answer that came whole through the pipeline and was digested: the next answer to the same
    request with the very same bytes, but for the value of a Date header, is the same answer (the same
    status, head and body, hence the same digest) and is recognised by comparing bytes alone (issue 18).

    ``body`` is the request's; ``raw`` the answer's bytes as they came (head and body: a 200 that keeps
    the connection, of exactly its Content-Length, at most :data:`ECHO_MAX` bytes), ``digest`` its body's
    (``answers.answer_digest``), ``reason`` its status line's, ``start`` where its body starts;
    ``date`` where the Date value is in ``raw`` (-1: no Date line of the usual form, all is compared)."""

    __slots__ = ("body", "raw", "digest", "reason", "start", "date")

    def __init__(self, body: bytes, raw: bytes, digest: bytes, reason: str, start: int) -> None:
        self.body, self.raw, self.digest, self.reason, self.start = body, raw, digest, reason, start
        at = raw.find(b"\r\nDate: ", 0, start) + 8
        value = raw[at:at + _DATE + 2]
        usual = at >= 8 and value.endswith(b"\r\n") and b"\r" not in value[:-2] and b"\n" not in value[:-2]
        self.date = at if usual else -1

    def same(self, raw: bytes) -> bool:
        """Whether ``raw`` is this answer again: the same bytes, the Date value aside (one of the same
        length without a line break: the head's lines stay the same)."""
        mine = self.raw
        if len(raw) != len(mine):
            return False
        date = self.date
        if date < 0:
            return raw == mine
        end = date + _DATE
        return (raw[end:] == mine[end:] and raw[:date] == mine[:date]
                and b"\r" not in raw[date:end] and b"\n" not in raw[date:end])

    def answer(self, raw: bytes) -> tuple[int, str, bytes, bool]:
        """What :func:`read_answer` makes of ``raw``, one that is :meth:`same`."""
        return 200, self.reason, raw[self.start:], False


class TimeoutTransport:
    """An XML-RPC transport (``rpc.Proxy``'s, or ``xmlrpc.client.ServerProxy``'s) for ``http://host:port``
    and ``unix:///path.sock`` URLs (and
    ``https://`` for a supervisord behind a TLS reverse proxy).

    The whole call (connect, send, receive) must end within ``timeout`` seconds, else
    ``socket.timeout`` is raised. With ``keep_alive`` (the default) the connection stays open for the
    next call: use one transport from one thread at a time, and :meth:`close` it when done.
    """

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT, username: str | None = None,
                 password: str | None = None, keep_alive: bool = True, max_answer: int = MAX_ANSWER) -> None:
        self.url = url
        self.timeout = timeout
        self.max_answer = max_answer
        self.username = username
        self.keep_alive = keep_alive
        #: connections opened so far; one more than before means the previous one was closed (by
        #: supervisord restarting, or by a failed call)
        self.connections = 0
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
        self._sock: socket.socket | None = None
        #: set for one call by ``InstanceClient.call_unless``: digest the answer (``digest``), and when it
        #: equals ``expect`` return :data:`UNCHANGED` without parsing it (see ``cluster/answers.py``)
        self.digesting = False
        self.expect: bytes | None = None
        self.digest: bytes | None = None
        #: set by ``cluster/pipeline.py``: ``(body, outcome, raw)`` of a request already sent over the kept
        #: connection and read (an answer tuple of :func:`read_answer`, or what it raised; ``raw``: the
        #: answer's bytes as they came, head and body, when it is a plain 200 that keeps the connection);
        #: the next call with that very body takes it instead of a round trip
        self.prefetched: tuple[bytes, Any, bytes | None] | None = None
        #: the last digested answer that came whole through the pipeline: :class:`Echo` (the pipeline
        #: recognises the same bytes again, but for the Date header, without reading them; issue 18)
        self.echo: Echo | None = None
        #: request heads + bodies already built, by body (the handler with it): a probe's never change
        self._messages: dict[bytes, tuple[str, bytes]] = {}

    #: sent as is in the User-Agent header (as ``xmlrpc.client.Transport``'s)
    user_agent = USER_AGENT

    def __repr__(self) -> str:
        return f"TimeoutTransport({self.url!r}, timeout={self.timeout!r}, username={self.username!r})"

    # ------------------------------------------------------------------------------ the connection
    def close(self) -> None:
        """Close the kept connection (the next call opens a new one)."""
        sock, self._sock = self._sock, None
        self.echo = None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def _connect(self, deadline: float) -> socket.socket:
        remaining = _remaining(deadline)
        sock: socket.socket
        if self._socket_path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(remaining)
                sock.connect(self._socket_path)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((self._host, self._port), timeout=remaining)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:  # supervisord behind a TLS reverse proxy: ssl is imported only then
                import ssl

                try:
                    sock.settimeout(_remaining(deadline))
                    sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self._host)
                except BaseException:
                    sock.close()
                    raise
        self.connections += 1
        return sock

    @property
    def kept_socket(self) -> socket.socket | None:
        """The connection kept for the next call, if any (the pipeline sends over it, a controller at rest
        waits on it); whether the server closed it meanwhile is :meth:`peer_closed`'s to say."""
        return self._sock

    def peer_closed(self) -> bool | None:
        """Whether the server closed the kept connection (then it is closed here too), without a byte
        sent: a supervisord that dies (killed, crashed, restarted) closes its connections at once, so a
        poller learns it for the price of a system call. None when no connection is kept (nothing to
        tell from). An idle kept connection that can be read from was closed by the server, or holds
        bytes nobody asked for: either way it is not used again."""
        sock = self._sock
        if sock is None:
            return None
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        if poller.poll(0):
            self.close()
            return True
        return False

    def _kept(self) -> socket.socket | None:
        """The kept connection, if the server has not closed it meanwhile."""
        return None if self.peer_closed() in (None, True) else self._sock

    # ------------------------------------------------------------------------------ one call
    def request(self, host: Any, handler: str, request_body: Any, verbose: bool = False) -> Any:
        deadline = time.monotonic() + self.timeout
        body = request_body if isinstance(request_body, bytes) else str(request_body).encode("utf-8")
        message = b""
        prefetched, self.prefetched = self.prefetched, None
        raw: bytes | None = None
        if prefetched is not None and (prefetched[0] != body or self._sock is None):
            prefetched = None
            self.close()  # what was sent is not what is asked: that connection is not used again
        while True:
            sock = self._sock if prefetched is not None else self._kept()
            reused = sock is not None
            try:
                if prefetched is not None:
                    outcome, raw, prefetched = prefetched[1], prefetched[2], None
                    if isinstance(outcome, BaseException):
                        raise outcome
                    status, reason, answer, close = outcome
                    break
                if sock is None:
                    sock = self._sock = self._connect(deadline)
                message = message or self.message(handler, body)
                status, reason, answer, close = _exchange(sock, message, deadline, self.max_answer)
                break
            except (_NoAnswer, ConnectionResetError, BrokenPipeError) as error:
                self.close()
                if not reused:
                    raise RemoteDisconnected("closed without an answer") from error
                # the server closed the kept connection as we sent: nothing was done, ask again once
            except BaseException:
                self.close()
                raise
        if close or not self.keep_alive:
            self.close()
        if status != 200:
            # the URL of the error never holds credentials: they travel in a header only
            raise ProtocolError(self.url + handler, status, reason, {})
        if self.digesting:
            self.digest = answer_digest(answer)
            if raw is not None and self._sock is not None:
                self.echo = Echo(body, raw, self.digest, reason, len(raw) - len(answer))
            if self.digest == self.expect:
                return (UNCHANGED,)
        return parse_response(answer)

    def message(self, handler: str, body: bytes) -> bytes:
        """The request's bytes, head and body, built once for each body (a probe's are always the same)."""
        kept = self._messages.get(body)
        if kept is not None and kept[0] == handler:
            return kept[1]
        message = self._head(handler, len(body)) + body
        if len(self._messages) < _MESSAGES:
            self._messages[body] = (handler, message)
        return message

    def _head(self, handler: str, length: int) -> bytes:
        host = "localhost" if self._socket_path is not None else f"{self._host}:{self._port}"
        lines = [f"POST {handler} HTTP/1.1", f"Host: {host}", f"User-Agent: {self.user_agent}",
                 "Content-Type: text/xml", "Accept: text/xml", f"Content-Length: {length}"]
        if self._authorization is not None:
            lines.append(f"Authorization: {self._authorization}")
        if not self.keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
