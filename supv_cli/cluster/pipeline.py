"""Many small requests over kept connections from one thread: send them all, read the answers as they come.

A controller's poll is mostly one small request per instance over a kept connection (a ``getState``
probe, a ``getAllProcessInfo`` whose answer is usually unchanged). Here the polling thread sends every
such request at once (one ``send`` each, the socket non-blocking), then waits for all of them under
epoll and reads each answer as it arrives: no hand-off to a worker thread, no timed socket calls.
Measured over 20 polls of 100 fake instances (``os.times``): a probe costs the controller 0.11-0.13 ms
of CPU (0.21-0.33 ms through the workers); a full request about 0.45 ms either way, most of it the
kernel's share of a 47 KB loopback answer and its digest (``answers.py``).

What the transport guarantees still holds: each request has its own deadline from when it was sent; an
answer that arrived by then is read even if this thread comes to it late (a last read without waiting);
the head and body caps of ``transport.py`` apply (an answer is finished by the transport's own
:func:`~supv_cli.cluster.http_read.read_answer`, which refuses what is over them); and the answer, or
what its reading raised, is handed to the instance's transport (``TimeoutTransport.prefetched``), whose
next call with that very request takes it: parsing (``rpcparse``, DOCTYPE refused), digests, errors and
their classification, the retry on a new connection of a kept one that the server had closed, and the
health and back-off of ``session.py`` are those of an ordinary call. Only plain ``http://`` and
``unix://`` connections already open and idle are pipelined; the rest goes through the worker threads.

A probe's answer is most often the bytes of the last answer to it again, but for the Date header: such an
answer (``transport.Echo``, kept by the transport for a small one its call digested) is recognised here by
comparing bytes, without reading its head (:attr:`Pending.echoed`), and ``Fanout.each`` lets the poller
give its last answer without a call (issue 18: about 100 Python calls per probe instead of 200).
"""

from __future__ import annotations

import math
import select
import socket
import time
from typing import Any, Callable

from supv_cli.cluster.http_read import _NoAnswer, head_end, read_answer
from supv_cli.cluster.rpc import IncompleteRead, dumps_call
from supv_cli.cluster.transport import ECHO_MAX, Echo, TimeoutTransport

__all__ = ["Pending", "collect", "request_body", "send"]

_READ_CHUNK = 65536
_bodies: dict[str, bytes] = {}


def request_body(method: str | tuple[str, tuple[Any, ...]]) -> bytes:
    """The body an ordinary call sends for ``method`` (a name, or a name and its arguments:
    ``rpc.dumps_call``), byte for byte."""
    try:
        key: Any = method
        body = _bodies.get(key)
    except TypeError:  # arguments that cannot be hashed (a multicall's list): by their repr
        key = repr(method)
        body = _bodies.get(key)
    if body is None:
        name, params = (method, ()) if isinstance(method, str) else method
        body = _bodies[key] = dumps_call(name, params)
    return body


class Pending:
    """One request sent, its answer being read."""

    __slots__ = ("transport", "sock", "body", "deadline", "sent_at", "chunks", "size", "end", "length",
                 "outcome", "elapsed", "echo", "echoed", "raw")

    def __init__(self, transport: TimeoutTransport, sock: socket.socket, body: bytes, sent_at: float) -> None:
        self.transport = transport
        self.sock = sock
        self.body = body
        self.sent_at = sent_at
        self.deadline = sent_at + transport.timeout
        #: the transport's last answer to this very request, if it is to be recognised by its bytes
        echo = transport.echo
        self.echo: Echo | None = echo if echo is not None and echo.body == body else None
        #: that answer, when this one is the same bytes (but for the Date): nothing else was read
        self.echoed: Echo | None = None
        #: this answer's bytes as they came, when a small 200 that keeps the connection (``Echo``)
        self.raw: bytes | None = None
        #: what arrived so far (joined once: a 47 KB answer is not copied at every chunk)
        self.chunks: list[bytes] = []
        self.size = 0
        #: where the head ends (-1: not yet), and the body's announced length
        self.end = -1
        self.length = 0
        #: the answer tuple of ``read_answer``, or the exception its reading raised; None: not yet
        self.outcome: Any = None
        #: seconds from the send to the end of the answer
        self.elapsed = 0.0

    def _end(self, outcome: Any) -> None:
        self.outcome = outcome
        self.elapsed = time.monotonic() - self.sent_at

    def _joined(self) -> bytes:
        if len(self.chunks) > 1:
            self.chunks = [b"".join(self.chunks)]
        return self.chunks[0]

    def _advance(self) -> None:
        """Finish the answer when it is all there (or when it cannot be read without blocking)."""
        try:
            echo = self.echo
            if echo is not None and self.size == len(echo.raw):
                buffer = self._joined()
                if echo.same(buffer):  # the last answer again: no head to read, no digest to make
                    self.echoed, self.raw = echo, buffer
                    self._end(echo.answer(buffer))
                    return
            if self.end < 0:
                buffer = self._joined()
                self.end = head_end(buffer)  # LineTooLong past the transport's cap on a head
                if self.end < 0:
                    return
                length = _content_length(buffer[:self.end])
                if length is None or not 0 <= length <= self.transport.max_answer:
                    # over the cap or a bad length (refused at once), or no length (read on, within the
                    # deadline): the transport's own reader ends it
                    self._end(read_answer(self.sock, buffer, self.deadline, self.transport.max_answer))
                    return
                self.length = length
            if self.size - self.end - 4 >= self.length:
                buffer = self._joined()
                outcome = read_answer(self.sock, buffer, self.deadline, self.transport.max_answer)
                if outcome[0] == 200 and not outcome[3] and self.size <= ECHO_MAX:
                    self.raw = buffer
                self._end(outcome)
        except Exception as error:
            self._end(error)

    def read(self, last: bool = False) -> None:
        """Read what arrived; ``last``: the deadline passed, what is there is all there will be."""
        while self.outcome is None:
            try:
                chunk = self.sock.recv(_READ_CHUNK)
            except (BlockingIOError, InterruptedError):
                if last:
                    self._end(socket.timeout("timed out"))
                return
            except OSError as error:
                self._end(error)
                return
            if not chunk:
                self._end(_NoAnswer("closed without an answer") if not self.size
                          else _incomplete(b"".join(self.chunks)))
                return
            self.chunks.append(chunk)
            self.size += len(chunk)
            self._advance()
            if not last and len(chunk) < _READ_CHUNK:
                return


class _Waiter:
    """Waits for the sockets that can be read: epoll where there is one (a ``poll`` over 100 sockets cost
    9 us of kernel time at each wait, about one per answer; epoll 1.3 us), else poll."""

    def __init__(self, fds: Any) -> None:
        self._epoll = select.epoll() if hasattr(select, "epoll") else None
        self._poll = select.poll() if self._epoll is None else None
        for fd in fds:
            if self._epoll is not None:
                self._epoll.register(fd, select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP)
            else:
                assert self._poll is not None
                self._poll.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)

    def wait(self, seconds: float) -> list[int]:
        if self._epoll is not None:
            return [fd for fd, _event in self._epoll.poll(seconds)]
        assert self._poll is not None
        return [fd for fd, _event in self._poll.poll(math.ceil(seconds * 1000))]

    def unregister(self, fd: int) -> None:
        if self._epoll is not None:
            self._epoll.unregister(fd)
        else:
            assert self._poll is not None
            self._poll.unregister(fd)

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()


def _incomplete(buffer: bytes) -> Exception:
    return IncompleteRead(buffer)


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return int(value.strip())
            except ValueError:
                return -1  # the transport's reader refuses it
    return None


def send(requests: list[tuple[TimeoutTransport, str, Any]]) -> list[Pending | None]:
    """Send ``(transport, handler, method)`` requests (``method``: as :func:`request_body`'s) over the
    transports' kept connections; one entry each: its :class:`Pending`, or None when it cannot be pipelined (no
    connection kept, TLS, the kept one closed or holding bytes nobody asked for: the ordinary call deals with
    it)."""
    entries: list[Pending | None] = [None] * len(requests)
    idle: list[int] = []
    checker = select.poll()
    for index, (transport, _handler, _method) in enumerate(requests):
        sock = transport.kept_socket
        if sock is None or transport._https or not transport.keep_alive:
            continue
        idle.append(index)
        checker.register(sock, select.POLLIN)
    if not idle:
        return entries
    readable = {fd for fd, _event in checker.poll(0)}
    for index in idle:
        transport, handler, method = requests[index]
        sock = transport.kept_socket
        if sock is None or sock.fileno() in readable:
            continue
        body = request_body(method)
        message = transport.message(handler, body)
        pending = Pending(transport, sock, body, time.monotonic())
        try:
            sock.settimeout(0.0)
            sent = sock.send(message)
            if sent < len(message):  # a full socket buffer: the rest within the deadline
                sock.settimeout(transport.timeout)
                sock.sendall(message[sent:])
                sock.settimeout(0.0)
        except OSError as error:
            pending._end(error)
        entries[index] = pending
    return entries


def collect(entries: list[Pending | None], done: Callable[[int], None] | None = None) -> None:
    """Read every answer, each until its own deadline, and hand each outcome to its transport as soon as
    it is read; then ``done(position)`` (its place in ``entries``), so that the answer is taken (digested,
    parsed) and its bytes freed before the next ones are read: a poll holds a few answers at a time, not
    all of them (47 KB each at 40 processes: 14 MB at 300 instances)."""

    def finish(position: int, entry: Pending) -> None:
        entry.transport.prefetched = (entry.body, entry.outcome, entry.raw)
        entry.chunks = []  # the answer is in the outcome now: one copy, not two
        if done is not None:
            done(position)

    # in the order sent: the first is the one whose deadline comes first
    pending: dict[int, tuple[int, Pending]] = {}
    for position, entry in enumerate(entries):
        if entry is not None:
            if entry.outcome is None:
                pending[entry.sock.fileno()] = (position, entry)
            else:  # ended as it was sent
                finish(position, entry)
    waiter = _Waiter(pending)
    try:
        while pending:
            wait = next(iter(pending.values()))[1].deadline - time.monotonic()
            for fd in waiter.wait(wait) if wait > 0 else ():
                found = pending.get(fd)
                if found is not None:
                    found[1].read()
                    if found[1].outcome is not None:
                        del pending[fd]
                        waiter.unregister(fd)
                        finish(*found)
            now = time.monotonic()
            while pending:
                fd, (position, entry) = next(iter(pending.items()))
                if entry.deadline > now:
                    break
                entry.read(last=True)  # what arrived in time is an answer, read late or not
                del pending[fd]
                waiter.unregister(fd)
                finish(position, entry)
    finally:
        waiter.close()
