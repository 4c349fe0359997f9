"""Which request a poll sends first to an instance, and what a probe answered with the last answer's very
bytes stands for (``cluster/polling.py``'s :class:`~supv_cli.cluster.polling.Poller`, under its lock):
pure decisions over what it knows of the instance (:class:`~supv_cli.cluster.known.Known`).

A lone request (a probe, or the processes when the configuration is cached) goes pipelined from the
polling thread (``cluster/pipeline.py``); a probe reads the tail of the main log when that log can tell
the instance's changes (``mainlog.py``), else ``getState``; an answer that is the last one's bytes but
for its Date (``transport.Echo``) certifies the last full answer when it answers that very probe, with
the digest that certifies it, over the same connection."""

from __future__ import annotations

from typing import Any

from supv_cli.cluster.known import Known, slot_passed
from supv_cli.cluster.mainlog import READ_LOG
from supv_cli.cluster.pipeline import request_body
from supv_cli.model.snapshot import InstanceSnapshot

__all__ = ["FULL_WITH_TAIL", "echoed", "first_request", "tails", "with_tail"]

#: a full answer with the tail of the main log read in the same turn of supervisord's loop (``mainlog.py``)
_WITH_TAIL = [{"methodName": "supervisor.getAllProcessInfo", "params": []},
              {"methodName": READ_LOG[0], "params": list(READ_LOG[1])}]
FULL_WITH_TAIL = ("system.multicall", (_WITH_TAIL,))
#: the bodies of the two probes (``pipeline.request_body``)
_READ_LOG_BODY = request_body(READ_LOG)
_GET_STATE_BODY = request_body("supervisor.getState")


def tails(known: Known, use_log: bool) -> bool:
    """Whether a probe of it reads its log's tail (else getState)."""
    return use_log and known.blind is None and known.tail is not None


def with_tail(known: Known, use_log: bool) -> bool:
    """Whether its full answers come with its log's tail."""
    return use_log and known.blind is None


def first_request(known: Known, full: bool, connections: int, now: float, config_max_age: float,
                  use_log: bool, lone: bool) -> str | tuple[str, tuple[Any, ...]] | None:
    """The first request of a poll of the instance when it is a lone one (a method, or a method and its
    arguments); None when the poll starts otherwise (a new connection, the configuration due)."""
    if not full and known.answer is not None and known.last is known.answer:
        return READ_LOG if tails(known, use_log) else "supervisor.getState"
    if known.configs is None or known.connection != connections:
        return None
    if slot_passed(known.config_at, now, config_max_age, known.phase):
        return None
    return FULL_WITH_TAIL if with_tail(known, use_log) and not lone else "supervisor.getAllProcessInfo"


def echoed(known: Known, connections: int, request: bytes, digest: bytes, use_log: bool) -> InstanceSnapshot | None:
    """The last full answer, for a probe (``request``: its body) answered with the very bytes of the last
    answer to it (``digest``: that answer's), when that digest is the one that certifies it and the
    connection is the same; else None."""
    if known.answer is None or known.last is not known.answer or connections != known.connection:
        return None
    if tails(known, use_log):
        expect, probe = known.tail_digest, _READ_LOG_BODY
    else:
        expect, probe = known.state_digest, _GET_STATE_BODY
    return known.answer if expect is not None and digest == expect and request == probe else None
