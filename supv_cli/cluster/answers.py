"""Telling an unchanged answer of supervisord before reading it.

The controller asks each instance for its processes every few seconds, and almost always gets the
same answer but for the clock: every struct of ``getAllProcessInfo`` holds supervisord's ``now``, and
the description of a RUNNING process its uptime. :func:`answer_digest` hashes an answer's bytes
without those two (measured on 40 processes, 47 KB: 0.06 ms, against 0.9 ms to parse it and more to
compare what was parsed), so that an answer equal to the previous one but for the clock is recognised
without being parsed (:data:`UNCHANGED`, see ``InstanceClient.call_unless`` and ``cluster/polling.py``).
Anything else that changes (a state, a pid, a start or stop time, a process added) changes the digest.
"""

from __future__ import annotations

try:  # the interpreter's own BLAKE2: hashlib would map OpenSSL's libcrypto into the controller (3.7 MB of RSS)
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover (an interpreter built without it)
    from hashlib import blake2b as _blake2b

__all__ = ["UNCHANGED", "answer_digest"]


class _Unchanged:
    """The answer is the one whose digest the caller gave (but for the clock)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()

#: supervisord's clock in a getProcessInfo struct (the same in every struct of one answer, but for a
#: second that ticks while supervisord builds it: then the digest differs, and the answer is read)
_NOW = b"<name>now</name>\n<value><int>"
#: the uptime in the description of a RUNNING process, up to the end of the string
_UPTIME = b", uptime "


def answer_digest(body: bytes) -> bytes:
    """A digest of an XML-RPC answer, the clock left out (the pieces between uptimes are hashed where
    they are, rather than a copy without them made first). BLAKE2b of 128 bits, the interpreter's own:
    0.06 ms for 40 processes (47 KB), against 0.03 ms for OpenSSL's SHA-256, whose libcrypto adds 3.7 MB
    to the controller's RSS (docs/decisions.md, issue 18: the controller's memory at 300 instances)."""
    at = body.find(_NOW)
    if at >= 0:
        end = body.find(b"</int>", at + len(_NOW))
        if end >= 0:
            body = body.replace(body[at:end + len(b"</int>")], b"")
    digest = _blake2b(digest_size=16)
    view = memoryview(body)
    start = 0
    while True:
        found = body.find(_UPTIME, start)
        if found < 0:
            digest.update(view[start:])
            return digest.digest()[:16]
        digest.update(view[start:found])
        start = body.find(b"<", found)
        if start < 0:
            return digest.digest()[:16]
