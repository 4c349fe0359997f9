"""The controller's state line: the one place that writes it and reads it back.

``supv run-plan --watch`` prints one JSON object on its stdout each time what it knows changes (and every
minute); supervisord keeps that stdout in the controller's log, and every command that wants to know
which controller acts (``supv instances``, ``controller status``, ``top``, ``conciliate``, a standby
controller reading the acting one's starts in flight) reads the last such line back through the cluster
session (``tailProcessStdoutLog``, see :meth:`~supv_cli.cluster.session.ClusterSession.controller_states`).

The writer calls :func:`encode`, the readers :func:`last_in` (or :func:`decode` for one line); both are
pure. A line is::

    {"time": "2026-12-07T16:55:01.123", "controller": "server_1", "cycles": 42,
     "acting": true, "leader": "server_1", "lost": [], "missed": [], "quorum": {"seen": 3, "needed": 2},
     "jobs": [], "conciliate": "user", "in_flight": [], "recent": [], "last_known": {}}

Version 1 (today's) carries no version key, so that the line stays byte for byte what earlier
controllers wrote. A later incompatible format writes ``"version": 2`` (or more): a reader of this
version skips such a line instead of misreading it. :func:`decode` checks the shape: a JSON object whose
``acting`` is a boolean and whose other known keys, when present, have their type (a controller of an
older version leaves some out: its readers say so). The log is written by whatever runs under the
controller's program name, so a line of another shape (hostile, or from another program) is not a state
line: never an error, never a crash of a reader.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

__all__ = ["VERSION", "decode", "encode", "last_in"]

#: the version of the state lines this code writes and reads (written only from version 2 on)
VERSION = 1


def encode(time: str, controller: str | None, cycles: int, known: Mapping[str, Any]) -> str:
    """The state line of a controller (``controller``: its instance, None when run alone) at its cycle
    ``cycles``, ``time`` its local time stamp, ``known`` what it knows (``Controller.state()`` plus its
    ``last_known`` answers): one line of JSON, keys in that order."""
    return json.dumps({"time": time, "controller": controller, "cycles": cycles, **known})


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _optional_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: key -> the check of its value, when the key is present (``acting`` must be)
SHAPE: dict[str, Callable[[Any], bool]] = {
    "acting": lambda value: isinstance(value, bool),
    "time": lambda value: isinstance(value, str),
    "controller": _optional_string,
    "cycles": _integer,
    "leader": _optional_string,
    "lost": _strings,
    "missed": _strings,
    "recent": _strings,
    "quorum": lambda value: isinstance(value, dict),
    "jobs": lambda value: isinstance(value, list) and all(isinstance(job, dict) for job in value),
    "conciliate": lambda value: isinstance(value, str),
    "in_flight": lambda value: isinstance(value, list),
    "last_known": lambda value: isinstance(value, dict),
}


def decode(line: str) -> dict[str, Any] | None:
    """The state of one state line, or None when ``line`` is not one this version reads (not JSON, not
    an object, no boolean ``acting``, a known key of the wrong type, another version)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        state = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    if not isinstance(state, dict) or "acting" not in state:
        return None
    version = state.get("version", VERSION)
    if not _integer(version) or version != VERSION:
        return None
    if not all(check(state[key]) for key, check in SHAPE.items() if key in state):
        return None
    return state


def last_in(text: str) -> dict[str, Any] | None:
    """The last state line in a log tail (``text``), or None when it has none."""
    for line in reversed(text.splitlines()):
        state = decode(line)
        if state is not None:
            return state
    return None
