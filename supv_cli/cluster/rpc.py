"""XML-RPC calls without ``xmlrpc.client``: the request written, the errors named, the proxy.

``xmlrpc.client`` imports ``http.client`` (which imports the ``email`` package), ``decimal`` and more:
6.6 MB of a controller's memory that lives as long as its supervisord (docs/decisions.md, issue 18),
for what supv uses of it: a ``ServerProxy`` over supv's own transport (``transport.py`` already writes
the HTTP exchange itself), the marshalling of a call's parameters, and the Fault/ProtocolError classes.
Those few pieces are here, written to give the very bytes ``xmlrpc.client`` gives (a unit test compares
them over generated values); answers are read by ``rpcparse.py``, which falls back on ``xmlrpc.client``
itself (imported then) only for types supervisord never sends.

The HTTP errors a transport raises (:class:`RemoteDisconnected`, :class:`IncompleteRead`,
:class:`LineTooLong`, :class:`BadStatusLine`) are :class:`HTTPException`, as their namesakes in
``http.client``; ``client.classify`` knows both families.
"""

from __future__ import annotations

import sys
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["USER_AGENT", "BadStatusLine", "Fault", "HTTPException", "IncompleteRead", "LineTooLong", "Proxy",
           "ProtocolError", "RemoteDisconnected", "dumps_call"]

#: the User-Agent ``xmlrpc.client`` sends (supervisord logs it as is)
USER_AGENT = "Python-xmlrpc/{}.{}".format(*sys.version_info[:2])
_MAXINT, _MININT = 2**31 - 1, -2**31


# ------------------------------------------------------------------------------------------ errors

class Fault(Exception):
    """An XML-RPC fault answered by the server (``faultCode``, ``faultString``), as ``xmlrpc.client.Fault``."""

    def __init__(self, faultCode: Any, faultString: Any) -> None:  # noqa: N803 (xmlrpc.client's names)
        super().__init__(faultCode, faultString)
        self.faultCode = faultCode
        self.faultString = faultString

    def __repr__(self) -> str:
        return f"<Fault {self.faultCode}: {self.faultString!r}>"


class ProtocolError(Exception):
    """An HTTP status other than 200, as ``xmlrpc.client.ProtocolError`` (``url`` never holds credentials)."""

    def __init__(self, url: str, errcode: int, errmsg: str, headers: Any) -> None:
        super().__init__(url, errcode, errmsg, headers)
        self.url = url
        self.errcode = errcode
        self.errmsg = errmsg
        self.headers = headers

    def __repr__(self) -> str:
        return f"<ProtocolError for {self.url}: {self.errcode} {self.errmsg}>"


class HTTPException(Exception):
    """A bad HTTP answer (``http.client.HTTPException``'s place)."""


class IncompleteRead(HTTPException):
    """The connection ended before the announced body did."""

    def __init__(self, partial: bytes, expected: int | None = None) -> None:
        super().__init__(partial)
        self.partial = partial
        self.expected = expected

    def __repr__(self) -> str:
        more = f", {self.expected} more expected" if self.expected is not None else ""
        return f"IncompleteRead({len(self.partial)} bytes read{more})"

    __str__ = __repr__


class LineTooLong(HTTPException):
    """A head or a chunk size line longer than a supervisord's."""

    def __init__(self, what: str) -> None:
        super().__init__(f"got more than the maximum while reading {what}")


class BadStatusLine(HTTPException):
    """A status line (or a length) that is not HTTP's."""

    def __init__(self, line: str) -> None:
        super().__init__(repr(line) if not line else line)
        self.line = line


class RemoteDisconnected(ConnectionResetError, BadStatusLine):
    """The server closed the connection without a byte of answer (as ``http.client``'s)."""

    def __init__(self, *args: Any) -> None:
        ConnectionResetError.__init__(self, *args)
        self.line = ""


# ------------------------------------------------------------------------------------------ the request

def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _dump(value: Any, write: Callable[[str], Any], seen: set[int]) -> None:
    kind = type(value)
    if kind is str:
        write(f"<value><string>{_escape(value)}</string></value>\n")
    elif kind is bool:
        write(f"<value><boolean>{'1' if value else '0'}</boolean></value>\n")
    elif kind is int:
        if value > _MAXINT or value < _MININT:
            raise OverflowError("int exceeds XML-RPC limits")
        write(f"<value><int>{value}</int></value>\n")
    elif kind is float:
        write(f"<value><double>{value!r}</double></value>\n")
    elif kind in (list, tuple):
        if id(value) in seen:
            raise TypeError("cannot marshal recursive sequences")
        seen.add(id(value))
        write("<value><array><data>\n")
        for item in value:
            _dump(item, write, seen)
        write("</data></array></value>\n")
        seen.discard(id(value))
    elif kind is dict:
        if id(value) in seen:
            raise TypeError("cannot marshal recursive dictionaries")
        seen.add(id(value))
        write("<value><struct>\n")
        for name, item in value.items():
            write("<member>\n")
            if not isinstance(name, str):
                raise TypeError("dictionary key must be string")
            write(f"<name>{_escape(name)}</name>\n")
            _dump(item, write, seen)
            write("</member>\n")
        write("</struct></value>\n")
        seen.discard(id(value))
    elif value is None:
        raise TypeError("cannot marshal None unless allow_none is enabled")
    else:  # what supv never sends (bytes, dates, objects): xmlrpc.client's own marshalling
        import xmlrpc.client

        write(xmlrpc.client.Marshaller("utf-8").dumps((value,))[len("<params>\n<param>\n"):-len("</param>\n</params>\n")])


def dumps_call(method: str, params: tuple[Any, ...] | list[Any]) -> bytes:
    """The body of an XML-RPC call, byte for byte as ``ServerProxy`` sends it (utf-8, characters the
    encoding cannot hold as character references)."""
    out: list[str] = ["<?xml version='1.0'?>\n<methodCall>\n<methodName>", method, "</methodName>\n<params>\n"]
    seen: set[int] = set()
    for value in params:
        out.append("<param>\n")
        _dump(value, out.append, seen)
        out.append("</param>\n")
    out.append("</params>\n</methodCall>\n")
    return "".join(out).encode("utf-8", "xmlcharrefreplace")


# ------------------------------------------------------------------------------------------ the proxy

class _Method:
    """``proxy.supervisor.getState``: names joined with dots until called."""

    __slots__ = ("_send", "_name")

    def __init__(self, send: Callable[[str, tuple[Any, ...]], Any], name: str) -> None:
        self._send = send
        self._name = name

    def __getattr__(self, name: str) -> _Method:
        return _Method(self._send, f"{self._name}.{name}")

    def __call__(self, *args: Any) -> Any:
        return self._send(self._name, args)


class Proxy:
    """What supv uses of ``xmlrpc.client.ServerProxy``: ``proxy.supervisor.getState()`` sends the call
    through ``transport.request(host, handler, body)`` and gives the one result (the params tuple when
    there are several); ``proxy("transport")`` is the transport, ``proxy("close")()`` closes it."""

    def __init__(self, uri: str, transport: Any) -> None:
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https"):
            raise OSError("unsupported XML-RPC protocol")
        self._host = parts.netloc
        self._handler = urlunsplit(["", "", *parts[2:]]) or "/RPC2"
        self._transport = transport

    def _request(self, method: str, params: tuple[Any, ...]) -> Any:
        answer = self._transport.request(self._host, self._handler, dumps_call(method, params))
        return answer[0] if len(answer) == 1 else answer

    def __getattr__(self, name: str) -> _Method:
        if name.startswith("__"):  # copy, pickle and the like probe dunders: not a remote method
            raise AttributeError(name)
        return _Method(self._request, name)

    def __call__(self, attr: str) -> Any:
        if attr == "close":
            return self._transport.close
        if attr == "transport":
            return self._transport
        raise AttributeError(f"Attribute {attr!r} not found")

    def __repr__(self) -> str:  # the transport's repr holds no password
        return f"<Proxy for {self._host}{self._handler}>"
