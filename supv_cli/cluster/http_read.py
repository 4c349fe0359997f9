"""Reading one HTTP answer within a deadline (``cluster/transport.py``'s calls, ``cluster/pipeline.py``'s
pipelined answers): a status line, headers, then a body by its Content-Length, chunked, or up to the
close; each read is given only what is left until the deadline, and a body over the cap is refused as
soon as it passes it (:data:`MAX_ANSWER`, ``SUPV_MAX_ANSWER``)."""

from __future__ import annotations

import socket
import sys
import time

from supv_cli.cluster.rpc import BadStatusLine, IncompleteRead, LineTooLong
from supv_cli.cluster.rpcparse import AnswerRefused

__all__ = ["MAX_ANSWER", "head_end", "read_answer"]

_READ_CHUNK = 65536
#: an answer's status line and headers beyond this are not supervisord's
_MAX_HEAD = 65536
#: default cap of one answer's body, in bytes (``SUPV_MAX_ANSWER`` in MiB): measured, a supervisord with
#: 300 programs answers getAllProcessInfo in 0.37 MB and getAllConfigInfo in 0.75 MB (1.1 MB together),
#: so 16 MiB holds the answers of ~4000 programs on one supervisord, or a 1 MiB log read 4x escaped
MAX_ANSWER = 16 << 20


class _NoAnswer(ConnectionError):
    """The server closed the connection before the first byte of an answer."""


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise socket.timeout("timed out")
    return remaining


def _recv(sock: socket.socket, deadline: float) -> bytes:
    """One read, given only what is left until ``deadline``. Past the deadline, what already arrived is
    still read (without waiting): an answer that came in time but was read late, because this process
    was busy (its other threads, the GIL), is an answer, never a timeout."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        try:
            sock.settimeout(0.0)
            return sock.recv(_READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            raise socket.timeout("timed out") from None
        except OSError as error:
            ssl = sys.modules.get("ssl")  # loaded when a TLS connection was made (then it may be one)
            if ssl is not None and isinstance(error, ssl.SSLWantReadError):
                raise socket.timeout("timed out") from None
            raise
    sock.settimeout(remaining)
    return sock.recv(_READ_CHUNK)


def _too_large(cap: int) -> AnswerRefused:
    return AnswerRefused(f"an answer over {cap / (1 << 20):g} MiB, the cap; see SUPV_MAX_ANSWER")


def _exchange(sock: socket.socket, message: bytes, deadline: float,
              cap: int = MAX_ANSWER) -> tuple[int, str, bytes, bool]:
    """Send one request and read its answer: ``(status, reason, body, close)``, ``close`` when the
    connection cannot be used again. :class:`AnswerRefused` as soon as the body passes ``cap`` bytes."""
    sock.settimeout(_remaining(deadline))
    sock.sendall(message)
    return read_answer(sock, b"", deadline, cap)


def head_end(buffer: bytes) -> int:
    """Where the head of an answer ends in ``buffer`` (-1: not yet); LineTooLong past :data:`_MAX_HEAD`."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0 and len(buffer) > _MAX_HEAD:
        raise LineTooLong("header")
    return end


def read_answer(sock: socket.socket, buffer: bytes, deadline: float,
                cap: int = MAX_ANSWER) -> tuple[int, str, bytes, bool]:
    """Read the rest of an answer whose first bytes are ``buffer``: see :func:`_exchange`."""
    while True:
        end = head_end(buffer)
        if end >= 0:
            break
        chunk = _recv(sock, deadline)
        if not chunk:
            if not buffer:
                raise _NoAnswer("closed without an answer")
            raise IncompleteRead(buffer)
        buffer += chunk
    status_line, *header_lines = buffer[:end].decode("latin-1").split("\r\n")
    version, status, reason = _status(status_line)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    close = headers.get("connection", "").lower() == "close" or (
        version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive")
    parts = [buffer[end + 4:]]
    received = len(parts[0])
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise BadStatusLine(status_line) from None
        if length > cap:
            raise _too_large(cap)
        while received < length:
            chunk = _recv(sock, deadline)
            if not chunk:
                raise IncompleteRead(b"".join(parts), length - received)
            parts.append(chunk)
            received += len(chunk)
        body = b"".join(parts)
        return status, reason, body[:length], close or received > length
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, reason, _dechunk(sock, b"".join(parts), deadline, cap), close
    while True:  # no length: the answer ends when the server closes the connection
        if received > cap:
            raise _too_large(cap)
        chunk = _recv(sock, deadline)
        if not chunk:
            return status, reason, b"".join(parts), True
        parts.append(chunk)
        received += len(chunk)


def _status(line: str) -> tuple[str, int, str]:
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
        raise BadStatusLine(line)
    return version, int(code), reason.strip()


def _dechunk(sock: socket.socket, buffer: bytes, deadline: float, cap: int = MAX_ANSWER) -> bytes:
    """The body of a ``Transfer-Encoding: chunked`` answer (supervisord's own answers have a length)."""
    body: list[bytes] = []
    total = 0
    while True:
        while b"\r\n" not in buffer:
            if len(buffer) > _MAX_HEAD:
                raise LineTooLong("chunk size")
            buffer += _more(sock, deadline)
        size_line, buffer = buffer.split(b"\r\n", 1)
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            raise BadStatusLine(size_line.decode("latin-1")) from None
        total += size
        if total > cap:
            raise _too_large(cap)
        while len(buffer) < size + 2:
            buffer += _more(sock, deadline)
        if size == 0:
            return b"".join(body)
        body.append(buffer[:size])
        buffer = buffer[size + 2:]


def _more(sock: socket.socket, deadline: float) -> bytes:
    chunk = _recv(sock, deadline)
    if not chunk:
        raise IncompleteRead(b"")
    return chunk
