"""The sampler's one call to its own supervisord, with a small footprint.

The sampler (``look/sampler.py``) lives as long as its supervisord on every host, so its memory counts:
``xmlrpc.client`` and ``http.client`` bring ``ssl`` and the email package with them (6 MB of RSS, a third
of the sampler's budget, see ``bench/sampler_cost.py``). It needs one answer, the pids of
``supervisor.getAllProcessInfo``, from a supervisord on the same host: this module sends that request
over a plain socket (TCP or unix), HTTP/1.0 with basic auth, and reads ``group``, ``name`` and ``pid``
from each struct of the answer. Anything else (a fault, HTTP 401, a bad answer) raises
:class:`LocalCallError` with a one-line reason.
"""

from __future__ import annotations

import base64
import re
import socket
import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["LocalCallError", "LocalSupervisor"]

_BODY = (b"<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getAllProcessInfo</methodName>\n"
         b"<params>\n</params>\n</methodCall>\n")
_STRUCT = re.compile(rb"<struct>(.*?)</struct>", re.S)
_MEMBER = re.compile(rb"<member>\s*<name>([^<]*)</name>\s*<value>\s*(?:<(?:string|int|i4)>)?([^<]*)", re.S)
_FAULT = re.compile(rb"<name>faultString</name>\s*<value>\s*(?:<string>)?([^<]*)", re.S)
#: the most an answer may be (a supervisord with thousands of processes stays far below)
MAX_ANSWER = 16 * 1024 * 1024


class LocalCallError(Exception):
    """The call failed; the message says why in one line."""


class LocalSupervisor:
    """``supervisor.getAllProcessInfo`` pids of one supervisord (``http://host:port`` or ``unix:///path``)."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 timeout: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout
        self.address: Any
        if url.startswith("unix://"):
            self.family, self.address, host = socket.AF_UNIX, url[len("unix://"):], "localhost"
        else:
            parts = urlsplit(url if "://" in url else f"http://{url}")
            if parts.scheme != "http" or not parts.hostname:
                raise LocalCallError(f"{url}: expected http://host:port or unix:///path.sock")
            self.family, self.address, host = socket.AF_INET, (parts.hostname, parts.port or 80), parts.netloc
        headers = [b"POST /RPC2 HTTP/1.0", b"Host: " + host.encode(), b"Content-Type: text/xml",
                   b"Content-Length: " + str(len(_BODY)).encode()]
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode())
            headers.append(b"Authorization: Basic " + token)
        self._request = b"\r\n".join(headers) + b"\r\n\r\n" + _BODY

    def _exchange(self) -> bytes:
        deadline = time.monotonic() + self.timeout
        family = self.family
        if family == socket.AF_INET and ":" in self.address[0]:
            family = socket.AF_INET6
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect(self.address)
            sock.sendall(self._request)
            chunks: list[bytes] = []
            size = 0
            while True:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_ANSWER or time.monotonic() > deadline:
                    raise LocalCallError(f"{self.url}: answer too large or too slow")

    def pids(self) -> dict[str, int]:
        """namespec -> pid of every process that has one."""
        try:
            answer = self._exchange()
        except OSError as error:
            reason = "timeout" if isinstance(error, socket.timeout) else (error.strerror or type(error).__name__)
            raise LocalCallError(f"{self.url}: {reason}") from None
        head, _, body = answer.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0].split()
        if len(status) < 2 or status[1] != b"200":
            code = status[1].decode(errors="replace") if len(status) > 1 else "?"
            hint = ": set SUPV_USERNAME / SUPV_PASSWORD in the program's environment" if code == "401" else ""
            raise LocalCallError(f"{self.url}: HTTP {code}{hint}")
        if b"<fault>" in body:
            match = _FAULT.search(body)
            raise LocalCallError(f"{self.url}: fault: {match.group(1).decode(errors='replace') if match else '?'}")
        pids = {}
        for struct in _STRUCT.finditer(body):
            members = {name: value for name, value in _MEMBER.findall(struct.group(1))}
            try:
                pid = int(members.get(b"pid", b"0"))
                namespec = (members[b"group"] + b":" + members[b"name"]).decode()
            except (KeyError, ValueError, UnicodeDecodeError):
                continue
            if pid > 0:
                pids[_unescape(namespec)] = pid
        return pids


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
